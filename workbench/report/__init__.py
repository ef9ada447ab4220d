"""Presentation of tidy results: figures (one palette for every plot) and results folders on disk."""
