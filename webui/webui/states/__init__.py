"""Reflex states, one per feature."""
