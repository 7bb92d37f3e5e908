"""The national-scale benchmark: `make bench` (bench/run.py); see docs/benchmarks.md."""
