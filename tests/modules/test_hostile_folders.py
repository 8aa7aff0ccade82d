"""A local module folder with hostile files: listed with a note, never a crash or a hang."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from just_dna_pipelines.modules.registry import list_modules, runnable_modules


@pytest.mark.timeout(60)
def test_a_deeply_nested_manifest_and_a_fifo_table_are_notes_not_crashes(
    tmp_path: Path, compiled_modules: Path
):
    root = tmp_path / "modules"
    root.mkdir()
    shutil.copytree(compiled_modules / "longevitymap", root / "deep")
    # Nesting 100,000 deep raised RecursionError out of every listing (the web app's module list included).
    (root / "deep" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    shutil.copytree(compiled_modules / "vo2max", root / "fifo")
    (root / "fifo" / "weights.parquet").unlink()
    os.mkfifo(root / "fifo" / "weights.parquet")  # reading it blocked for good
    available, refused = runnable_modules(root)
    assert "deep" in available
    assert "fifo" not in available and "not a regular file" in refused["fifo"]
    assert {m.name for m in list_modules(str(root))} >= {"deep", "fifo"}


def test_a_folder_name_dagster_cannot_take_is_a_note_and_the_graph_still_loads(
    tmp_path: Path, compiled_modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module folder named "a b" made the code location fail to load: no run of any module could start."""
    from just_dna_pipelines.defs.jobs import sample_definitions
    from just_dna_pipelines.modules.registry import graph_module_names
    from just_dna_pipelines.settings import get_settings

    root = tmp_path / "modules"
    root.mkdir()
    for name in ("a b", "bad-name", "coronary"):
        shutil.copytree(compiled_modules / "coronary", root / name)
    available, refused = runnable_modules(root)
    assert available == ["coronary"]
    assert set(refused) == {"a b", "bad-name"} and "not a module name" in refused["a b"]
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(root))
    get_settings.cache_clear()
    try:
        names = graph_module_names()
        assert names == ["coronary"]
        assert sample_definitions(names).resolve_job_def("annotate_and_report_job") is not None
    finally:
        get_settings.cache_clear()


def test_a_weights_table_of_millions_of_rows_is_a_note(tmp_path: Path, compiled_modules: Path) -> None:
    """A 6.5 MB Parquet of 10 M rows was read whole into 6.1 GB."""
    import polars as pl

    from just_dna_pipelines.modules.layouts import MAX_TABLE_ROWS

    root = tmp_path / "modules"
    shutil.copytree(compiled_modules / "coronary", root / "huge")
    weights = pl.read_parquet(root / "huge" / "weights.parquet")
    weights.sample(MAX_TABLE_ROWS + 1, with_replacement=True, seed=1).write_parquet(
        root / "huge" / "weights.parquet"
    )
    available, refused = runnable_modules(root)
    assert available == [] and "1,000,001 rows" in refused["huge"]


def test_weights_columns_of_types_no_run_can_read_are_notes_and_other_modules_still_run(
    tmp_path: Path, compiled_modules: Path
) -> None:
    """An integer genotype column was listed as runnable and failed every run from the source, modules not chosen
    included, with only Polars' "casting from Int32 to list type is not supported"."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    from just_dna_pipelines.annotation.sites import module_positions

    root = tmp_path / "modules"
    shutil.copytree(compiled_modules / "coronary", root / "coronary")
    weights = pl.read_parquet(compiled_modules / "vo2max" / "weights.parquet")
    hostile = {
        "int_genotype": weights.with_columns(pl.lit(5).alias("genotype")),
        "list_rsid": weights.with_columns(pl.concat_list("rsid").alias("rsid")),
        "nested_alts": weights.with_columns(pl.lit([["G"]], dtype=pl.List(pl.List(pl.String))).alias("alts")),
        "binary_weight": weights.with_columns(pl.lit(b"\x00").alias("weight")),
        "aliased_start": weights.drop("start").with_columns(pl.concat_list("rsid").alias("pos")),
    }
    for name, frame in hostile.items():
        shutil.copytree(compiled_modules / "vo2max", root / name)
        frame.write_parquet(root / name / "weights.parquet")
    shutil.copytree(compiled_modules / "vo2max", root / "twice")
    table = pq.read_table(root / "twice" / "weights.parquet")
    pq.write_table(
        table.append_column(pa.field("genotype", pa.string()), [["x"] * table.num_rows]),
        root / "twice" / "weights.parquet",
    )

    available, refused = runnable_modules(root)
    assert available == ["coronary"] and set(refused) == {*hostile, "twice"}
    assert refused["int_genotype"] == (
        "the weights table's genotype column is int32, which this version cannot read as genotype"
    )
    assert refused["aliased_start"].startswith("the weights table's pos column is large_list<")
    assert refused["twice"] == "the weights table has more than one column named genotype"
    from just_dna_pipelines.modules.sources import module_dirs

    assert module_positions(module_dirs(root)).height > 0  # what a run reads of every runnable module


def test_a_module_json_list_and_a_deep_manifest_leave_the_run_its_provenance(
    tmp_path: Path, compiled_modules: Path
) -> None:
    """The catalog read them as "nothing said", but the run's provenance step read them again unguarded and the
    run failed after every module was matched: "AttributeError: 'list' object has no attribute 'get'" for a
    module.json holding a list, RecursionError for a manifest.json nested 100,000 deep."""
    from just_dna_pipelines.annotation.manifest import module_provenance
    from just_dna_pipelines.modules.versions import module_data_version

    root = tmp_path / "modules"
    shutil.copytree(compiled_modules / "vo2max", root / "listed")
    (root / "listed" / "module.json").write_text("[1, 2]")
    shutil.copytree(compiled_modules / "coronary", root / "deep")
    (root / "deep" / "module.json").unlink()
    (root / "deep" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    for name in ("listed", "deep"):
        provenance = module_provenance(root / name)
        assert provenance["version"] == "unversioned" and provenance["dropped"] == {}
        assert len(provenance["sha256"]) == 64
        assert module_data_version(root / name) == f"unversioned+{provenance['sha256'][:12]}"


def test_tables_too_large_to_read_whole_are_notes_not_reads(tmp_path: Path, compiled_modules: Path) -> None:
    """Parsing a Parquet footer takes ~23 times its size in memory (a 36 MB weights table of 200,000 columns took
    660 MB at every listing), and the report read an annotations table whole (20 M rows in 0.2 MB: 11 GB)."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "modules"
    weights = pq.read_table(compiled_modules / "coronary" / "weights.parquet")
    for name, extra in (("wide", 1_000), ("footer", 40_000)):
        shutil.copytree(compiled_modules / "coronary", root / name)
        columns = {n: weights.column(n) for n in weights.column_names}
        columns.update({f"c{i}": pa.nulls(weights.num_rows) for i in range(extra)})
        pq.write_table(pa.table(columns), root / name / "weights.parquet")
    shutil.copytree(compiled_modules / "coronary", root / "long_notes")
    pl.DataFrame({"rsid": ["rs1"] * 1_000_001}).write_parquet(root / "long_notes" / "annotations.parquet")

    available, refused = runnable_modules(root)
    assert available == []
    wide = f"the weights table has {weights.num_columns + 1_000:,} columns (this version reads up to 1,000)"
    assert refused["wide"] == wide
    assert refused["footer"].startswith("the weights table is unreadable (a Parquet footer of ")
    assert refused["footer"].endswith("bytes; this version reads up to 4,194,304)")
    assert (
        refused["long_notes"]
        == "the annotations table has 1,000,001 rows (this version reads up to 1,000,000)"
    )
    listed = {m.name: m for m in list_modules(str(root))}
    assert listed["footer"].weights_rows == 0 and listed["long_notes"].annotations_rows == 1_000_001
