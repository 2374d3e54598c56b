"""Reusable widgets: text, buttons and fields with 48 dp touch targets, tiles, a bar chart, a QR code."""
