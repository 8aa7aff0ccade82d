"""The chunk JSON files and the summary of one BAM, staged in a hidden folder and published whole."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from just_dna_pipelines.bam.chunk import ChunkStats, total_of
from just_dna_pipelines.bam.work import BamFileInfo, ChunkBatch
from just_dna_pipelines.io.atomic import replace_dir
from just_dna_pipelines.keys import validate_name

SUMMARY_FILE = "summary.json"


def chunk_file_name(chunk_id: int) -> str:
    """`chunk_000001.json`: sorts in file order."""
    return f"chunk_{chunk_id:06d}.json"


def final_folder(output_root: Path, info: BamFileInfo) -> Path:
    """Where one BAM's JSON files end up: `<output root>/<BAM name>-<8 hex of its path or URL>/`."""
    return output_root / info.name


def staging_folder(output_root: Path, info: BamFileInfo, run_id: str) -> Path:
    """The hidden folder a run fills before publishing it in one rename."""
    return output_root / f".{info.name}.{validate_name(run_id)}.partial"


def discard_staging(output_root: Path, run_id: str) -> list[Path]:
    """Remove the staging folders a failed run left under `output_root`; returns what was removed."""
    removed = sorted(output_root.glob(f".*.{validate_name(run_id)}.partial"))
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write one JSON file via a temp name and a rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _json_value(value: int | float | None) -> str:
    """A number or null as JSON (finite floats print the same as json.dumps)."""
    return "null" if value is None else repr(value)


def chunk_json_text(chunk: ChunkStats, total_chunks: int, bam_url_json: str) -> str:
    """`chunk_json` serialised by a template: thousands of files per run, so json.dumps per file shows."""
    return (
        f'{{"stats": {{"total_reads": {chunk.total_reads}, "mapped_reads": {chunk.mapped_reads}, '
        f'"unmapped_reads": {chunk.unmapped_reads}, '
        f'"avg_mapping_quality": {_json_value(chunk.avg_mapping_quality)}, '
        f'"position_range": {{"min": {_json_value(chunk.position_min)}, '
        f'"max": {_json_value(chunk.position_max)}}}}}, '
        f'"chunk_info": {{"chunk_id": {chunk.chunk_id}, "total_chunks": {total_chunks}, '
        f'"bam_url": {bam_url_json}}}}}\n'
    )


WRITE_THREADS = 2  # creating files is mostly kernel time, which a second thread overlaps (~1.4x here)


def write_batch(folder: Path, batch: ChunkBatch, info: BamFileInfo) -> ChunkStats:
    """Write one JSON file per chunk of the batch into the unpublished staging folder; returns the batch total.

    No temp + rename per file: the whole folder is published by one rename once every chunk is written.
    Files are created relative to the open folder, which saves a path lookup per file, on WRITE_THREADS
    threads (each call releases the GIL while the kernel creates the file).
    """
    folder.mkdir(parents=True, exist_ok=True)
    url_json = json.dumps(info.bam_url)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)

    def write(chunks: Sequence[ChunkStats]) -> None:
        for chunk in chunks:
            text = chunk_json_text(chunk, info.total_chunks, url_json).encode()
            fd = os.open(chunk_file_name(chunk.chunk_id), flags, 0o644, dir_fd=folder_fd)
            try:
                os.write(fd, text)
            finally:
                os.close(fd)

    try:
        shares = [batch.chunks[i::WRITE_THREADS] for i in range(WRITE_THREADS)]
        with ThreadPoolExecutor(WRITE_THREADS - 1) as pool:
            others = [pool.submit(write, share) for share in shares[1:]]
            write(shares[0])
            for other in others:
                other.result()
    finally:
        os.close(folder_fd)
    return total_of(batch.chunks)


def summary_json(info: BamFileInfo, total: ChunkStats) -> dict[str, Any]:
    """The whole file's stats, in the chunk JSON's shape plus file-level facts."""
    stats = total.stats_json()
    stats["unplaced_unmapped_reads"] = total.unplaced_reads
    return {
        "stats": stats,
        "file_info": {
            "bam_url": info.bam_url,
            "file_version": info.version,
            "format": info.format,
            "chunk_size": info.chunk_size,
            "total_chunks": info.total_chunks,
            "index_total_reads": info.index_reads,
        },
    }


def publish(staging: Path, target: Path, info: BamFileInfo, total: ChunkStats) -> Path:
    """Write the summary into the staged folder and swap it in place of any earlier output."""
    staging.mkdir(parents=True, exist_ok=True)
    _write_json(staging / SUMMARY_FILE, summary_json(info, total))
    replace_dir(staging, target)
    return target
