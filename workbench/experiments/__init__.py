"""Experiments: pretrain, fine-tune with a recipe, compare recipes across budgets and seeds.

They return tidy results (one row per run) and histories, never figures.
"""
