"""Digests and official reports: figures, text, chart and workbook."""
