"""`pipelines build-modules`: compile Gen-I SQLite module folders into Parquet modules."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "build-modules", help="compile SQLite module folders (one per module) into Parquet module folders"
    )
    parser.add_argument("--sqlite-dir", type=Path, required=True, help="folder with one folder per module")
    parser.add_argument("--out", type=Path, required=True, help="where {module}/*.parquet + module.json go")
    parser.add_argument(
        "--module",
        action="append",
        dest="modules",
        help="compile only this module (repeatable; default: every module folder with a compiler)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also print every dropped row and curation note"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Compile and print per-module row counts and what was dropped."""
    from just_dna_pipelines.cli.list_modules import format_table
    from just_dna_pipelines.errors import printable
    from just_dna_pipelines.modules.compile_sqlite import compile_sqlite_modules

    built = compile_sqlite_modules(args.sqlite_dir, args.out, args.modules)
    rows = [
        [
            b.name,
            f"{b.weights_rows:,}",
            f"{b.positioned_weights_rows:,}",
            f"{b.annotations_rows:,}",
            f"{b.studies_rows:,}",
            f"{sum(b.dropped.values()):,}",
        ]
        for b in built
    ]
    print(
        format_table(
            ["module", "weights", "with position", "annotations", "studies", "dropped"], rows, {1, 2, 3, 4, 5}
        )
    )
    for b in built:  # the notes quote the databases' and curation files' own text: escaped, never controls
        for reason, count in sorted(b.dropped.items()):
            if count:
                print(printable(f"  {b.name}: dropped {count} x {reason}"))
        if args.verbose:
            for note in b.notes:
                print(printable(f"  {b.name}: {note}"))
    print(f"\nwrote {len(built)} modules to {args.out}")
    return 0
