"""`pipelines download-ensembl [--contigs 21,X]`: fetch the Ensembl reference into the cache, with a progress bar.

The download runs as the `ensembl_annotations` asset on the persistent Dagster instance, so the revision
it fetched is recorded (and shows in the Dagster UI). An interrupted download resumes where it stopped.
"""

from __future__ import annotations

import argparse
from typing import Any

from just_dna_pipelines.cli.progress import ProgressLine
from just_dna_pipelines.errors import PipelineError

QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class DownloadBar:
    """Per-contig byte progress drawn as one line."""

    def __init__(self) -> None:
        self.line = ProgressLine()
        self.current: str | None = None
        self.resumed_at = 0  # bytes of the contig already there when its download (re)started

    def __call__(self, contig: str, done: int, total: int) -> None:
        """Redraw for `done` of `total` bytes of `contig`."""
        if (
            contig != self.current or done < self.resumed_at
        ):  # a new contig, or a server that ignored the resume
            if self.current is not None:
                self.line.finish()
            self.current, self.resumed_at = contig, max(done, 0)
            self.line = ProgressLine()
        rate = self.line.rate(done - self.resumed_at)  # what came now, not what a resumed file had
        speed = f"  {rate / 1e6:,.1f} MB/s" if rate is not None else ""
        text = f"chr{contig}  {done / 1e6:,.1f} / {total / 1e6:,.1f} MB{speed}"
        self.line.draw(done / total if total else None, text, force=done >= total)

    def finish(self) -> None:
        """End the last line."""
        if self.current is not None:
            self.line.finish()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "download-ensembl",
        help="download the Ensembl variation reference into the cache (resumable, verified)",
        description=__doc__,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--contigs", help="comma-separated contigs, e.g. 21,22,X (default: all)")
    which.add_argument("--needed", action="store_true", help="only the contigs the existing samples are on")
    parser.add_argument(
        "--ensembl-source",
        help="hf://OWNER/REPO[@revision] or a local folder (default: the configured source)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Materialize `ensembl_annotations` in this process and print what the cache now holds."""
    from just_dna_pipelines.ensembl.layout import parse_contigs
    from just_dna_pipelines.ensembl.source import parse_ensembl_source

    contigs = parse_contigs(args.contigs.split(",")) if args.contigs else None
    parse_ensembl_source(args.ensembl_source)  # a malformed source fails before Dagster is imported
    config = {"contigs": contigs, "all_contigs": contigs is None and not args.needed, "update": True}

    import dagster as dg

    from just_dna_pipelines.definitions import defs
    from just_dna_pipelines.defs.ensembl.jobs import DOWNLOAD_ENSEMBL_JOB
    from just_dna_pipelines.defs.ensembl.resources import PROGRESS_RESOURCE, EnsemblSource
    from just_dna_pipelines.defs.ensembl.sources import ENSEMBL_SOURCE_RESOURCE
    from just_dna_pipelines.runs.instance import get_instance

    bar = DownloadBar()
    job = defs.resolve_job_def(DOWNLOAD_ENSEMBL_JOB)
    try:
        result = job.execute_in_process(
            run_config={"ops": {"ensembl_annotations": {"config": config}}, **QUIET_LOGGERS},
            instance=get_instance(),
            resources={
                PROGRESS_RESOURCE: dg.ResourceDefinition.hardcoded_resource(bar),
                ENSEMBL_SOURCE_RESOURCE: EnsemblSource(source=args.ensembl_source or ""),
            },
        )
    except dg.DagsterExecutionStepExecutionError as exc:
        if isinstance(exc.user_exception, PipelineError):
            raise exc.user_exception from None
        raise
    finally:
        bar.finish()
    event = result.get_asset_materialization_events()[0].step_materialization_data.materialization
    meta: dict[str, Any] = {key: value.value for key, value in event.metadata.items()}
    note = " (offline: the cached revision)" if meta.get("offline") else ""
    print(
        f"{meta['source']} at revision {meta['revision']}{note}: {len(meta['files'])} contig files, "
        f"{meta['bytes'] / 1e6:,.1f} MB, {meta['rows']:,} rows; downloaded now: "
        f"{', '.join('chr' + c for c in meta['downloaded']) or 'nothing'} (run {result.run_id})"
    )
    return 0
