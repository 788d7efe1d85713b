"""A correct implementation in the single_sample style (assignment 004's src/ package)."""
