"""The join rules on tiny inline data, each engine checked against the other."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.ensembl.engine_duckdb import annotate_duckdb, machine_limits
from just_dna_pipelines.ensembl.engine_polars import annotate_polars
from just_dna_pipelines.errors import EnsemblError
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr2,length=242193529>
##contig=<ID=chrM,length=16569>
##ALT=<ID=NON_REF,Description="any other allele">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
"""
RECORDS = [
    "chr1 100 . A G 50 PASS . GT 0/1",  # plain SNV, in the reference twice (two ids)
    "chr1 200 rs9 C T,G 50 PASS . GT 1/2",  # multi-allelic; the reference lists T,G in one row
    "chr1 300 . G A,<NON_REF> 50 PASS . GT 0/1",  # gVCF-style symbolic ALT is not a variant
    "chr1 400 . T . 50 PASS . GT 0/0",  # no ALT at all: kept, unannotated
    "chr2 500 . C CA 50 PASS . GT 1/1",  # insertion; this contig's file lacks the AF column
    "chrM 73 . A G 50 PASS . GT 1",  # chrM -> MT
    "chr1 600 . T C 50 PASS . GT 0/1",  # absent from the reference
]


def annotate_both(tmp_path: Path, reference: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Normalize the inline VCF, write the reference files, run both engines, check they agree."""
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "".join("\t".join(r.split()) + "\n" for r in RECORDS))
    calls = tmp_path / "calls.parquet"
    normalize_vcf(vcf, calls)
    files = {}
    for contig, frame in reference.items():
        files[contig] = tmp_path / f"homo_sapiens-chr{contig}.parquet"
        frame.write_parquet(files[contig])
    annotate_polars(calls, files, tmp_path / "p.parquet")
    annotate_duckdb(calls, files, tmp_path / "d.parquet", machine_limits(tmp_path / "spill", threads=1))
    polars_rows, duckdb_rows = (
        pl.read_parquet(tmp_path / "p.parquet").sort("record", "alt_index"),
        pl.read_parquet(tmp_path / "d.parquet").sort("record", "alt_index"),
    )
    assert polars_rows.equals(duckdb_rows)
    return polars_rows


REFERENCE = {
    "1": pl.DataFrame(
        {
            "chrom": ["chr1"] * 7,
            "start": [100, 100, 100, 200, 300, 300, 400],
            "ref": ["A", "A", "A", "C", "G", "G", "T"],
            "alt": ["G", "G", "G", "T,G", "A", "A", "C"],
            "id": ["rs20", "rs104", "rs94", "rs2", "COSV3", "rs3", "rs4"],
            "AF": [0.1, 0.15, 0.2, 0.3, 0.35, 0.4, 0.5],
            "qual": ["x", "t", "y", "z", "u", "w", "v"],  # clashes with the sample's own column
        }
    ),
    "2": pl.DataFrame({"chrom": ["2"], "start": [500], "ref": ["C"], "alt": ["CA"], "id": ["rs5"]}),
    "MT": pl.DataFrame(
        {"chrom": ["MT"], "start": [73], "ref": ["A"], "alt": ["G"], "id": ["rs6"], "AF": [0.9]}
    ),
}


def test_join_rules(tmp_path: Path) -> None:
    rows = annotate_both(tmp_path, REFERENCE)
    got = {
        (r["chrom"], r["start"], r["alt"]): (r["ensembl_id"], r["alt_index"], r["AF"], r["ensembl_qual"])
        for r in rows.iter_rows(named=True)
    }
    assert got == {
        ("1", 100, "G"): ("rs20", 1, 0.1, "x"),  # duplicate key: the lowest rs number wins (20 < 94 < 104)
        ("1", 200, "T"): ("rs2", 1, 0.3, "z"),  # each sample ALT matches its part of "T,G"
        ("1", 200, "G"): ("rs2", 2, 0.3, "z"),
        ("1", 300, "A"): ("rs3", 1, 0.4, "w"),  # an rsID beats another kind of id; <NON_REF> has no row
        ("1", 400, None): (None, None, None, None),  # no ALT: one unannotated row, never a match
        ("2", 500, "CA"): ("rs5", 1, None, None),  # the chr2 file has no AF: null
        ("MT", 73, "G"): ("rs6", 1, 0.9, None),
        ("1", 600, "C"): (None, 1, None, None),
    }
    assert rows["record"].to_list() == [0, 1, 1, 2, 3, 4, 5, 6]
    assert rows.columns[:5] == ["chrom", "start", "ref", "alt", "rsid"]
    assert rows.filter(pl.col("start") == 200)["rsid"].to_list() == ["rs9", "rs9"]
    assert rows["qual"].to_list()[0] == 50.0, "the sample's column keeps its name"


def test_a_reference_without_the_known_columns_is_one_clear_error(tmp_path: Path) -> None:
    broken = {"1": pl.DataFrame({"chrom": ["1"], "pos": [100], "ref": ["A"], "alt": ["G"], "id": ["rs1"]})}
    with pytest.raises(EnsemblError, match=r"homo_sapiens-chr1.parquet lacks the column\(s\) start"):
        annotate_both(tmp_path, broken)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("alt", [["G"]], "alt column is large_list<element: large_string>, not a single value a row"),
        ("ref", [{"base": "A"}], "ref column is struct<base: large_string>, not a single value a row"),
        ("id", [5], "id column is int64, not text"),
    ],
)
def test_a_reference_whose_known_columns_have_other_types_is_one_clear_error(
    tmp_path: Path, column: str, value: list, message: str
) -> None:
    """An `alt` list or an integer `id` failed the Polars or DuckDB engine with its own multi-line error."""
    row = {"chrom": ["1"], "start": [100], "ref": ["A"], "alt": ["G"], "id": ["rs1"], column: value}
    with pytest.raises(EnsemblError) as info:
        annotate_both(tmp_path, {"1": pl.DataFrame(row)})
    assert str(info.value) == f"homo_sapiens-chr1.parquet's {message}; not an Ensembl reference file"


def test_a_sample_on_contigs_the_reference_lacks_is_unannotated_by_both_engines(tmp_path: Path) -> None:
    rows = annotate_both(tmp_path, {})  # no file for any of the sample's contigs
    assert rows.height == 8 and rows["ensembl_id"].null_count() == 8


def test_a_reference_too_wide_or_with_a_footer_too_large_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing a footer takes ~23 times its size in memory, and every reference column is carried into the output:
    a contig file of 200,000 columns (36 MB) took 660 MB to read its schema."""
    row: dict[str, list] = {"chrom": ["1"], "start": [100], "ref": ["A"], "alt": ["G"], "id": ["rs1"]}
    wide = {**row, **{f"c{i}": [None] for i in range(1_000)}}
    with pytest.raises(
        EnsemblError, match=r"homo_sapiens-chr1.parquet has 1,005 columns \(this version carries up"
    ):
        annotate_both(tmp_path, {"1": pl.DataFrame(wide)})
    monkeypatch.setattr("just_dna_pipelines.ensembl.columns.MAX_FOOTER_BYTES", 100)
    with pytest.raises(
        EnsemblError, match=r"has a Parquet footer of [0-9,]+ bytes \(this version reads up to 100\)"
    ):
        annotate_both(tmp_path, {"1": pl.DataFrame(row)})
