"""SHA-256 of input files, and a hash started ahead (io/file_hash.py): used only for the very file it was started on."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from just_dna_pipelines.io import file_hash
from just_dna_pipelines.io.file_hash import sha256_of, start_sha256
from just_dna_pipelines.io.file_version import file_version


def _expected(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_hash_started_ahead_is_taken_once_by_the_call_for_that_file(tmp_path: Path) -> None:
    genome = tmp_path / "genome.vcf.gz"
    genome.write_bytes(os.urandom(3 << 20))
    start_sha256(genome)
    key = file_version(genome)
    assert key in file_hash._started
    assert sha256_of(genome) == _expected(genome)
    assert key not in file_hash._started  # taken, not left behind
    assert sha256_of(genome) == _expected(genome)  # hashed again, the same


def test_a_file_changed_or_replaced_after_the_start_is_hashed_again(tmp_path: Path) -> None:
    genome = tmp_path / "genome.vcf.gz"
    genome.write_bytes(b"A" * (1 << 20))
    start_sha256(genome)
    with genome.open("ab") as handle:  # grown after the hash started
        handle.write(b"more records")
    assert sha256_of(genome) == _expected(genome)

    start_sha256(genome)
    stat = genome.stat()
    replacement = tmp_path / "other"
    replacement.write_bytes(b"B" * stat.st_size)  # same size and times, another file
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    replacement.replace(genome)
    assert sha256_of(genome) == _expected(genome) == hashlib.sha256(b"B" * stat.st_size).hexdigest()


def test_an_unreadable_file_raises_where_it_is_asked_for(tmp_path: Path) -> None:
    missing = tmp_path / "missing.vcf"
    start_sha256(missing)  # nothing to start: no error here
    with pytest.raises(FileNotFoundError):
        sha256_of(missing)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    start_sha256(folder)  # its read fails on the thread: raised by the call, as without a start
    with pytest.raises(IsADirectoryError):
        sha256_of(folder)
    assert file_version(folder) not in file_hash._started
