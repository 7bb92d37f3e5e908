"""Spreadsheets in and out: CSV and XLSX files read safely into rows, cells parsed as people write them."""
