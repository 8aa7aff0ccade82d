"""`python -m just_dna_pipelines.cli` runs the `pipelines` command."""

from just_dna_pipelines.cli import run_program

run_program()
