"""VCF normalization: one edge case per test on inline records, plus the real fixture genomes."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.vcf_filters import VcfFilters
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n##contig=<ID=chrM,length=16569>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Quality">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
)


def vcf(tmp_path: Path, *records: str, header: str = HEADER, name: str = "in.vcf") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join("\t".join(r.split()) + "\n" for r in records))
    return path


def rows(tmp_path: Path, *records: str, header: str = HEADER, **kwargs) -> list[dict]:
    kwargs.setdefault("sample_column", "S1")  # the default skips a sample without calls; these tests read S1
    result = normalize_vcf(vcf(tmp_path, *records, header=header), tmp_path / "out.parquet", **kwargs)
    return pl.read_parquet(result.output).to_dicts()


@pytest.mark.parametrize(
    ("gt", "genotype", "zygosity"),
    [
        ("0|1", ["A", "G"], "het"),
        ("1|0", ["A", "G"], "het"),
        ("1/1", ["G", "G"], "hom_alt"),
        ("0/0", ["A", "A"], "hom_ref"),
        ("./.", None, "no_call"),
        ("0/.", None, "no_call"),
        (".", None, "no_call"),
        ("1", ["G"], "hemizygous"),
        ("1/2", ["C", "G"], "het"),
        ("2|2", ["C", "C"], "hom_alt"),
    ],
)
def test_genotype_is_sorted_alleles_from_gt(tmp_path: Path, gt: str, genotype, zygosity: str) -> None:
    (row,) = rows(tmp_path, f"chr1 100 . A G,C 50 PASS . GT:DP {gt}:20 0/0:5")
    assert row["genotype"] == genotype
    assert row["zygosity"] == zygosity
    assert row["gt"] == gt


def test_columns_chrom_rsid_depth_quality(tmp_path: Path) -> None:
    (a, b) = rows(
        tmp_path,
        "chr1 100 COSV9;rs123 A G 37.5 PASS . GT:GQ:DP 0/1:40:17 0/0",
        "chrM 200 . T C . LowQual . GT 1/1 0/0",
    )
    assert (a["chrom"], a["start"], a["ref"], a["alts"], a["rsid"]) == ("1", 100, "A", ["G"], "rs123")
    assert (a["qual"], a["dp"], a["gq"], a["filter"]) == (37.5, 17, 40, "PASS")
    assert (b["chrom"], b["rsid"], b["qual"], b["dp"]) == ("MT", None, None, None)
    assert (a["passes_filters"], b["passes_filters"]) == (True, False)


def test_filters_are_configurable(tmp_path: Path) -> None:
    records = ["chr1 100 . A G 10 PASS . GT:DP 0/1:5 0/0:5", "chr1 200 . A G 60 PASS . GT:DP 0/1:30 0/0:5"]
    got = rows(tmp_path, *records, filters=VcfFilters(min_depth=10, min_quality=20))
    assert [r["passes_filters"] for r in got] == [False, True]
    got = rows(tmp_path, "chr1 100 . A G 10 LowQual . GT 0/1 0/0", filters=VcfFilters(passing_filters=None))
    assert got[0]["passes_filters"] is True


def test_second_sample_by_name(tmp_path: Path) -> None:
    result = normalize_vcf(
        vcf(tmp_path, "chr1 100 . A G 50 PASS . GT 0/0 1/1"), tmp_path / "o.parquet", sample_column="S2"
    )
    assert result.sample_column == "S2"
    assert pl.read_parquet(result.output)["zygosity"].to_list() == ["hom_alt"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("hello world\n", "not a VCF"),
        (HEADER, "no records"),
        (
            HEADER.replace('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n', "")
            + "chr1\t1\t.\tA\tG\t.\t.\t.\tDP\t4\t5\n",
            "no GT",
        ),
        (
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t1\t.\tA\tG\t.\t.\t.\n",
            "no sample",
        ),
    ],
)
def test_bad_input_is_one_clear_error_and_no_output(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.vcf"
    path.write_text(content)
    out = tmp_path / "out" / "variants.parquet"
    with pytest.raises(VcfError, match=message) as info:
        normalize_vcf(path, out)
    assert "\n" not in str(info.value)
    assert not out.exists()
    assert not list(out.parent.glob("*")) if out.parent.exists() else True


def test_unknown_sample_names_the_samples(tmp_path: Path) -> None:
    with pytest.raises(VcfError, match="samples: S1, S2"):
        normalize_vcf(
            vcf(tmp_path, "chr1 1 . A G . . . GT 0/1 0/1"), tmp_path / "o.parquet", sample_column="X"
        )


def test_truncated_gzip_leaves_nothing(tmp_path: Path, genomes: Path) -> None:
    data = (genomes / "PG_NA12878_hg38-chr21.vcf.gz").read_bytes()
    truncated = tmp_path / "cut.vcf.gz"
    truncated.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out" / "variants.parquet"
    with pytest.raises(VcfError, match=r"truncated|damaged"):
        normalize_vcf(truncated, out)
    assert not out.exists() and not list(out.parent.glob("*"))


def test_plain_gzip_is_read(tmp_path: Path) -> None:
    text = HEADER + "chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/0\n"
    path = tmp_path / "plain.vcf.gz"
    path.write_bytes(gzip.compress(text.encode()))
    result = normalize_vcf(path, tmp_path / "o.parquet")
    assert result.records == 1 and result.header.container == "vcf.gz"


def test_real_platinum_grch38(tmp_path: Path, genomes: Path) -> None:
    result = normalize_vcf(genomes / "PG_NA12878_hg38-chr21.vcf.gz", tmp_path / "o.parquet")
    frame = pl.read_parquet(result.output)
    assert result.records == 65_370 and result.header.genome_build == "GRCh38"
    assert result.no_calls == 53
    assert frame.filter(pl.col("alts").list.len() > 1).height == 652
    assert frame["filter"].value_counts().sort("filter").to_dicts() == [
        {"filter": "OverlapConflict", "count": 812},
        {"filter": "OverlapConflict;Silver", "count": 50},
        {"filter": "PASS", "count": 60_206},
        {"filter": "Silver", "count": 4_302},
    ]
    row = frame.filter(pl.col("start") == 45090793).row(0, named=True)
    assert (row["chrom"], row["gt"], row["genotype"], row["zygosity"]) == ("21", "1|0", ["C", "T"], "het")


def test_real_deepvariant_without_chr(tmp_path: Path, genomes: Path) -> None:
    result = normalize_vcf(genomes / "antku_small.vcf", tmp_path / "o.parquet")
    frame = pl.read_parquet(result.output)
    counts = dict(frame.group_by("gt").len().iter_rows())
    assert counts == {"./.": 268, "0/1": 256, "0/0": 147, "1/1": 115, "1/2": 6, "0/2": 1}
    assert result.header.contig_naming == "plain" and result.header.genome_build == "GRCh38"
    assert frame["dp"].null_count() == 0 and frame["gq"].null_count() == 0
    refcall = frame.filter(pl.col("filter") == "RefCall")
    assert refcall.height == 415 and refcall["passes_filters"].all()


def test_real_bcf_matches_its_record_count(tmp_path: Path, genomes: Path) -> None:
    result = normalize_vcf(genomes / "pg-hg38.bcf", tmp_path / "o.parquet")
    assert result.header.container == "bcf"
    assert result.records == 58_447 and result.records_passing == 58_447


def test_real_multi_sample_picks_by_name(tmp_path: Path, genomes: Path) -> None:
    path = genomes / "vcfanno_query.vcf.gz"
    first = normalize_vcf(path, tmp_path / "a.parquet")
    third = normalize_vcf(path, tmp_path / "b.parquet", sample_column="NA12877")
    assert first.sample_column == "NA12889" and third.sample_column == "NA12877"
    assert first.records == third.records == 337
    a, b = pl.read_parquet(first.output), pl.read_parquet(third.output)
    assert not a["gt"].equals(b["gt"])


def test_real_grch37_is_detected(tmp_path: Path, genomes: Path) -> None:
    result = normalize_vcf(genomes / "PG_NA12878_chr21.vcf.gz", tmp_path / "o.parquet")
    assert result.header.genome_build == "GRCh37"
    assert result.records == 65_402


def test_sites_only_vcf_is_refused(tmp_path: Path, genomes: Path) -> None:
    with pytest.raises(VcfError, match="sites-only"):
        normalize_vcf(genomes / "longevity_snps_1000genom.vcf", tmp_path / "o.parquet")


@pytest.mark.parametrize("reader", ["scan", "index"])
@pytest.mark.parametrize("with_index", [True, False])
def test_reading_module_sites_equals_the_full_read_there(
    tmp_path: Path, genomes: Path, with_index: bool, reader: str
) -> None:
    source = genomes / "PG_NA12878_hg38-chr21.vcf.gz"
    vcf = tmp_path / source.name
    shutil.copy(source, vcf)
    if with_index:
        shutil.copy(source.with_name(source.name + ".tbi"), vcf.with_name(vcf.name + ".tbi"))
    sites = pl.DataFrame({"chrom": ["21", "21", "21", "1"], "start": [14945905, 45090793, 45201523, 100]})
    by_sites = normalize_vcf(vcf, tmp_path / "sites.parquet", sites=sites, site_reader=reader)
    full = normalize_vcf(vcf, tmp_path / "full.parquet")
    assert by_sites.mode == "module_sites" and full.mode == "full"
    assert by_sites.records == full.records == 65_370
    assert by_sites.chromosomes == ["21"]
    expected = pl.read_parquet(full.output).join(sites, on=["chrom", "start"], how="semi")
    assert pl.read_parquet(by_sites.output).equals(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [vcf.name, "sites.parquet", "full.parquet"] + ([vcf.name + ".tbi"] if with_index else [])
    )


def test_plain_gzip_cannot_be_indexed_so_it_is_read_whole(tmp_path: Path) -> None:
    plain = vcf(
        tmp_path,
        "chr1 100 rs1 A G 50 PASS . GT:DP 0/1:12 0/0:9",
        "chr1 200 . C T,G 40 q10 . GT 1/2 ./.",
        "chr1 300 . G GA 60 PASS . GT:GQ 1|1:99 0|1:30",
        "chrM 16000 . T C 70 PASS . GT 1 0",
        name="plain.vcf",
    )
    packed = tmp_path / "plain.vcf.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))  # gzip, not bgzip: no index, no block-wise scan
    sites = pl.DataFrame({"chrom": ["1"], "start": [200]})
    result = normalize_vcf(packed, tmp_path / "packed.parquet", sites=sites)
    assert result.mode == "full" and result.records == 4
    # every record, read as from the same text uncompressed
    normalize_vcf(plain, tmp_path / "plain.parquet")
    whole = pl.read_parquet(tmp_path / "plain.parquet")
    assert whole.height == 4
    assert pl.read_parquet(tmp_path / "packed.parquet").equals(whole)


@pytest.mark.parametrize(
    ("gt", "genotype", "zygosity"),
    [
        ("/0|1", ["A", "G"], "het"),
        ("|1/1", ["G", "G"], "hom_alt"),
        ("/0", ["A"], "hemizygous"),
        ("|0", ["A"], "hemizygous"),
        ("/./1", None, "no_call"),
        ("|.", None, "no_call"),
        ("0|0|1", None, "no_call"),  # triploid: not a diploid call
    ],
)
def test_vcf44_explicit_phasing_is_read(tmp_path: Path, gt: str, genotype, zygosity: str) -> None:
    (row,) = rows(tmp_path, f"chr1 100 . A G 50 PASS . GT {gt} 0/0")
    assert (row["gt"], row["genotype"], row["zygosity"]) == (gt, genotype, zygosity)


def test_gt_not_first_in_format_is_no_call(tmp_path: Path) -> None:
    (row,) = rows(tmp_path, "chr1 100 . A G 50 PASS . DP:GT 20:1/1 5:0/0")
    assert (row["gt"], row["zygosity"]) == (None, "no_call")


def test_gt_used_but_not_declared_is_read(tmp_path: Path) -> None:
    header = HEADER.replace('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n', "")
    (row,) = rows(tmp_path, "chr1 100 . A G 50 PASS . GT 1/1 0/0", header=header)
    assert (row["genotype"], row["zygosity"]) == (["G", "G"], "hom_alt")


def test_a_latin1_byte_in_info_does_not_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.vcf"
    path.write_bytes(HEADER.encode() + b"chr1\t100\t.\tA\tG\t50\tPASS\tNOTE=caf\xe9\tGT\t0/1\t0/0\n")
    result = normalize_vcf(path, tmp_path / "out.parquet", sample_column="S1")
    assert (result.records, pl.read_parquet(result.output)["genotype"].to_list()) == (1, [["A", "G"]])


@pytest.mark.parametrize("name", ["p*.vcf", "my genome [copy].vcf", "p?.vcf"])
def test_a_file_name_is_read_as_a_name_never_as_a_pattern(tmp_path: Path, name: str) -> None:
    """Polars took the path for a glob: "p*.vcf" read every p...vcf beside it too (another genome's calls reported
    as this one's), and "my genome [copy].vcf" read none of its own (all 1 records "damaged", refused)."""
    own = vcf(tmp_path, "chr1 100 rs1 A G 50 PASS . GT 0/1 0/0", name=name)
    vcf(
        tmp_path,
        "chr1 200 rs2 C T 50 PASS . GT 1/1 1/1",
        "chr1 300 rs3 C T 50 PASS . GT 1/1 1/1",
        name="pa.vcf",
    )
    result = normalize_vcf(own, tmp_path / "out.parquet")
    assert (result.records, result.malformed_records) == (1, 0)
    assert pl.read_parquet(result.output)["rsid"].to_list() == ["rs1"]
