"""Pretraining: the upstream step (CNN on printed glyphs, tiny GPT/BERT on Shakespeare) and the cache that reuses it.

Below the tasks and experiments: a task asks here for the pretrained model it fine-tunes.
"""
