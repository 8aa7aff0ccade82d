"""`pipelines list-modules`: the annotation modules a source offers, as a table."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser("list-modules", help="list the annotation modules of a module source")
    parser.add_argument(
        "--modules-source",
        default=None,
        help="hf://OWNER/REPO, demo, or a local folder (default: the configured source)",
    )
    parser.set_defaults(handler=run)


def format_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """Columns padded to their widest cell; indexes in `right` are right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def run(args: argparse.Namespace) -> int:
    """Resolve the source and print one line per module."""
    from just_dna_pipelines.errors import ModuleSourceError, printable
    from just_dna_pipelines.modules.registry import list_modules

    modules = list_modules(args.modules_source)
    if not modules:
        raise ModuleSourceError("the module source holds no modules")
    header = ["module", "title", "version", "weights", "annotations", "studies"]
    # a module source's titles, versions and table names are its own text: escaped, never terminal controls
    rows = [
        [
            m.name,
            printable(m.title),
            printable(m.version),
            f"{m.weights_rows:,}",
            f"{m.annotations_rows:,}",
            f"{m.studies_rows:,}",
        ]
        for m in modules
    ]
    print(format_table(header, rows, right={3, 4, 5}))
    for m in modules:
        for note in m.notes:
            print(printable(f"  {m.name}{'' if m.usable else ' (cannot be run)'}: {note}"))
    source = modules[0].source
    demo = " (demo data)" if any(m.demo for m in modules) and "demo" not in source else ""
    print(f"\n{len(modules)} modules from {printable(source)}{demo}")
    return 0
