"""Spreadsheets and maps: the file formats records and statistics are exported and imported in."""
