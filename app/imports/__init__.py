"""Imports of spreadsheets (POST /api/v1/imports)."""
