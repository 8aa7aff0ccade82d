"""DuckDB's share of the machine: 75 % of memory and cores by default, explicit values win, spilling under the
cache folder; read back from a real DuckDB connection."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from just_dna_pipelines.ensembl.engine_duckdb import connect, machine_limits


def test_limits_default_to_a_share_of_the_machine(tmp_path: Path) -> None:
    limits = machine_limits(tmp_path / "spill")
    with connect(limits, tmp_path) as con:  # as DuckDB understood it: 75 % of the memory, to its rounding
        shown = con.execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()
    assert shown is not None
    number, unit = shown[0].split()
    share = float(number) * {"MiB": 2**20, "GiB": 2**30}[unit] / psutil.virtual_memory().total
    assert abs(share - 0.75) < 0.01, shown
    assert limits.threads == max(1, int((os.cpu_count() or 1) * 0.75))
    assert limits.temp_directory == tmp_path / "spill"
    tiny = machine_limits(tmp_path, memory_fraction=1e-9, threads_fraction=1e-9)
    assert (tiny.memory_limit, tiny.threads) == ("256MiB", 1)  # never below what a join needs to start


def test_explicit_limits_win(tmp_path: Path) -> None:
    limits = machine_limits(tmp_path, memory_limit="1GB", threads=3)
    assert (limits.memory_limit, limits.threads) == ("1GB", 3)


def test_a_connection_is_held_to_the_limits(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    with connect(machine_limits(tmp_path, memory_limit="512MB", threads=1), spill) as con:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit', 'threads', 'temp_directory')"
            ).fetchall()
        )
    assert settings["threads"] == "1"
    assert settings["memory_limit"] == "488.2 MiB"  # 512 MB (10^6 bytes) as DuckDB prints it
    assert Path(settings["temp_directory"]) == spill
