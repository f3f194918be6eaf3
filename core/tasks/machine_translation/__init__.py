"""Task 06: translation with Apertium (rule-based, pivots) and a small Marian model distilled from it."""
