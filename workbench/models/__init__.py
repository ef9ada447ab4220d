"""Models that expose their ordered layer groups (input to output), the unit of freezing and LRs."""
