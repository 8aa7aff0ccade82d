"""just-dna-pipelines: genome annotation logic and its Dagster definitions."""

__version__ = "0.1.0"
