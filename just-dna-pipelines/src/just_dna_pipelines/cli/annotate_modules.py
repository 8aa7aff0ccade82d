"""`pipelines annotate-modules` (not built yet)."""

from __future__ import annotations

import argparse

from just_dna_pipelines.errors import PipelineError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("annotate-modules", help="(not built yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand."""
    raise PipelineError("annotate-modules is not built yet")
