"""Training: recipes, freezing and parameter groups, LR schedules, the fit loop, checkpoints."""
