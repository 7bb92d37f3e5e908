"""Spreadsheets and maps: the file formats records and statistics are exported in, and uploads read safely."""
