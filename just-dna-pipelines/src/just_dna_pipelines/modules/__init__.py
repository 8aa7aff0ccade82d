"""Annotation modules: sources (Hugging Face, local, demo), registry, and the Gen-I SQLite compiler (see README.md)."""
