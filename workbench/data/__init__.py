"""Datasets: printed glyphs to pretrain on, real handwritten digits to fine-tune on, Shakespeare for text."""
