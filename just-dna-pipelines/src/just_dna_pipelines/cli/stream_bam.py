"""`pipelines stream-bam URL --chunk-size N --output-dir DIR`: run streaming_bam_job here, with a progress bar.

URL is a BAM, CRAM or SAM (plain, gzip or BGZF), told apart by its bytes. A CRAM needs no reference: only
the fields the statistics use are decoded, which never touches the bases.

The job runs in this process on the persistent Dagster instance (DAGSTER_HOME from the settings), so
the run is recorded like any other and shows up in the Dagster UI; the bar is fed by the streaming op.
The file starts streaming before Dagster is imported (bam/stream_started.py): the run's streaming step
takes the batches made meanwhile.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from just_dna_pipelines import startup_gc
from just_dna_pipelines.cli.progress import ProgressLine
from just_dna_pipelines.errors import PipelineError

QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class ProgressBar:
    """A one-line bar on stderr: compressed bytes read against the file size, plus reads and speed."""

    def __init__(self) -> None:
        self.line = ProgressLine()  # made just before the stream starts: the speed counts from here

    def __call__(self, reads: int, done_bytes: int, total_bytes: int | None) -> None:
        """Redraw (at most every REDRAW_SECONDS on a terminal; every 10% otherwise)."""
        fraction = min(done_bytes / total_bytes, 1.0) if total_bytes else None
        rate = self.line.rate(reads)
        speed = f"  {rate / 1e6:.2f} M reads/s" if rate is not None else ""
        self.line.draw(fraction, f"{reads:,} reads{speed}")

    def finish(self) -> None:
        """End the bar's line."""
        self.line.finish()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "stream-bam",
        help="per-chunk read statistics of a BAM, CRAM or SAM (path, file:// or http(s):// URL) as JSON files",
        description=__doc__,
    )
    parser.add_argument("url", help="BAM, CRAM or SAM: path, file:// or http(s):// URL")
    parser.add_argument("--chunk-size", type=int, default=1000, help="reads per chunk (default 1000)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="where to write <file name>-<8 hex>/chunk_*.json and summary.json (default: the output folder's bam/)",
    )
    parser.set_defaults(handler=run, settles_gc=True)


def run(args: argparse.Namespace) -> int:
    """Run streaming_bam_job in-process and print where the JSON files went."""
    if args.chunk_size < 1:
        raise PipelineError(f"--chunk-size must be at least 1, not {args.chunk_size}")
    from just_dna_pipelines.bam.stream import StreamSettings, default_index_cache_dir
    from just_dna_pipelines.bam.stream_started import StartedStreams, start_stream

    bar = ProgressBar()
    # The streaming component's defaults (the job below is built with them): the step takes this stream
    # only if its own settings are the same.
    settings = StreamSettings(chunk_size=args.chunk_size, index_cache_dir=default_index_cache_dir())
    started = start_stream(args.url, settings, bar)
    streams = StartedStreams(*([started] if started is not None else []))

    import dagster as dg

    from just_dna_pipelines.defs.bam import (
        StreamingBamChunkProcessor,
        StreamingBamChunkStreamer,
        build_streaming_bam_job,
    )
    from just_dna_pipelines.defs.bam.sensors import stream_run_config
    from just_dna_pipelines.defs.bam.streamer import PROGRESS_RESOURCE, STARTED_RESOURCE
    from just_dna_pipelines.runs.instance import get_instance

    output_dir = str(args.output_dir.resolve()) if args.output_dir else None
    job = build_streaming_bam_job(
        StreamingBamChunkStreamer(chunk_size=args.chunk_size),
        StreamingBamChunkProcessor(output_directory=output_dir),
    )
    instance = get_instance()
    startup_gc.settle()  # Dagster is loaded: collect again, for what the run makes
    try:
        result = job.execute_in_process(
            # Dagster's own console lines would scroll the bar away; they stay in the run's event log.
            run_config={**stream_run_config(args.url, args.chunk_size), **QUIET_LOGGERS},
            instance=instance,
            resources={
                PROGRESS_RESOURCE: dg.ResourceDefinition.hardcoded_resource(bar),
                STARTED_RESOURCE: dg.ResourceDefinition.hardcoded_resource(streams),
            },
        )
    except dg.DagsterExecutionStepExecutionError as exc:
        if isinstance(exc.user_exception, PipelineError):
            raise exc.user_exception from None
        raise
    finally:
        streams.stop_all()
        bar.finish()
    folder = Path(result.output_for_node("publish_bam_summary_op"))
    summary = json.loads((folder / "summary.json").read_text())
    stats, info = summary["stats"], summary["file_info"]
    print(
        f"{stats['total_reads']:,} reads ({stats['mapped_reads']:,} mapped, "
        f"{stats['unplaced_unmapped_reads']:,} unplaced unmapped) in {info['total_chunks']:,} chunks "
        f"-> {folder} (run {result.run_id})"
    )
    return 0
