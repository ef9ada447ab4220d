"""Tasks: what a comparison sweeps over. Each task draws a labeled budget, builds the model a recipe asks for, fits and scores."""
