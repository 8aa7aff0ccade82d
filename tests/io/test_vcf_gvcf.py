"""gVCF reference blocks found from the records prove hom-ref sites, whatever the header says."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

# DeepVariant writes no ##GVCFBlock line and no <NON_REF>/<*> ALT header line.
DEEPVARIANT_HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End position">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Quality">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA12878\n"
)
RECORDS = {
    "deepvariant": [
        "chr1 1 . N <*> 0 . END=99 GT:GQ 0/0:50",
        "chr1 100 . G A,<*> 50 PASS . GT:GQ 1/1:30",
        "chr1 101 . C <*> 0 . END=299 GT:GQ 0/0:50",
        "chr1 350 . A <*> 0 . END=450 GT:GQ 0/0:45",
    ],
    "illumina": [
        "chr1 1 . N . . PASS END=99;BLOCKAVG_min30p3a GT:GQ 0/0:50",
        "chr1 100 . G A 50 PASS . GT:GQ 1/1:30",
        "chr1 101 . C . . PASS END=299;BLOCKAVG_min30p3a GT:GQ 0/0:50",
        "chr1 350 . A . . PASS END=450;BLOCKAVG_min30p3a GT:GQ 0/0:45",
    ],
}
ROWS = [
    {"rsid": "rs1", "chrom": "1", "start": 100, "ref": "G", "genotype": ["A", "A"], "weight": 0.5},
    {"rsid": "rs2", "chrom": "1", "start": 200, "ref": "T", "genotype": ["T", "T"], "weight": -0.3},
    {"rsid": "rs3", "chrom": "1", "start": 300, "ref": "C", "genotype": ["C", "C"], "weight": 0.2},
    {"rsid": "rs4", "chrom": "1", "start": 400, "ref": "G", "genotype": ["G", "G"], "weight": 0.35},
]


def write_module(root: Path) -> Path:
    folder = root / "demo"
    folder.mkdir(parents=True)
    defaults = {"state": None, "priority": None, "conclusion": "", "gene": None, "category": None}
    pl.DataFrame([defaults | row for row in ROWS], schema_overrides={"priority": pl.Float64}).write_parquet(
        folder / "weights.parquet"
    )
    return root


@pytest.mark.parametrize("caller", ["deepvariant", "illumina"])
def test_blocks_without_header_markers_prove_hom_ref(tmp_path: Path, caller: str) -> None:
    vcf = tmp_path / f"{caller}.g.vcf"
    vcf.write_text(DEEPVARIANT_HEADER + "".join("\t".join(r.split()) + "\n" for r in RECORDS[caller]))
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    assert not result.header.is_gvcf and result.is_gvcf and result.ref_blocks == 3
    blocks = pl.read_parquet(result.output).filter("ref_block").select("start", "end").rows()
    assert blocks == [(1, 99), (101, 299), (350, 450)]
    out = tmp_path / "out"
    out.mkdir()
    sample = SampleContext(result.output, "GRCh38", has_rsids=False, is_gvcf=result.is_gvcf)
    summary = annotate_sample(sample, write_module(tmp_path / "modules"), ["demo"], out)["demo"]
    matched = pl.read_parquet(out / "demo_weights.parquet")
    got = {r["rsid"]: r["evidence"] for r in matched.iter_rows(named=True)}
    # rs1 is called; rs2 (200) and rs4 (400) lie in blocks; rs3 (300) lies in none, so it stays untested.
    assert got == {"rs1": "call", "rs2": "inferred_hom_ref", "rs4": "inferred_hom_ref"}
    assert summary["ledger"]["inferred_hom_ref"] == 2


def test_real_deepvariant_gvcf_blocks_are_found(tmp_path: Path, genomes: Path) -> None:
    vcf = (
        genomes.parent
        / "corpus"
        / "vcf"
        / "deepvariant__deepvariant__testdata__golden.postprocess_gvcf_output.head.g.vcf"
    )
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    frame = pl.read_parquet(result.output)
    assert result.is_gvcf and result.ref_blocks == 28 and result.records == 50
    first = frame.row(0, named=True)
    assert (first["start"], first["end"], first["ref_block"], first["zygosity"]) == (
        10000000,
        10000116,
        True,
        "hom_ref",
    )


def test_haploid_reference_blocks_prove_hom_ref_on_x_y_and_mt_alone(tmp_path: Path) -> None:
    """A man's X written with one copy (`0` blocks, GATK at ploidy 1) proves the reference there as a diploid block
    does (they were ignored); on an autosome one copy means the other was deleted, so it proves nothing."""
    from just_dna_pipelines.annotation.regions import gvcf_reference_blocks

    records = [
        "chrX 1000 . A <NON_REF> . . END=1999 GT:GQ 0:60",
        "chrY 500 . C <NON_REF> . . END=600 GT:GQ 0:60",
        "chrM 10 . G <NON_REF> . . END=20 GT:GQ 0:60",
        "chr1 1000 . T <NON_REF> . . END=1999 GT:GQ 0:60",
        "chr1 3000 . T <NON_REF> . . END=3999 GT:GQ 0/0:60",
    ]
    vcf = tmp_path / "haploid.g.vcf"
    vcf.write_text(DEEPVARIANT_HEADER + "".join("\t".join(r.split()) + "\n" for r in records))
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    intervals = gvcf_reference_blocks(pl.scan_parquet(result.output)).sort("chrom", "first").rows()
    assert intervals == [("1", 3000, 3999), ("MT", 10, 20), ("X", 1000, 1999), ("Y", 500, 600)]


def test_strelka_blocks_prove_the_reference_by_their_gqx(tmp_path: Path) -> None:
    """Strelka and Isaac state a block's quality as GQX (no GQ): a block under MIN_BLOCK_GQ proves nothing, as a
    GQ block under it does not (it was taken as proof whatever its GQX)."""
    from just_dna_pipelines.annotation.regions import MIN_BLOCK_GQ, gvcf_reference_blocks

    header = DEEPVARIANT_HEADER.replace(
        "##FORMAT=<ID=GQ,",
        '##FORMAT=<ID=GQX,Number=1,Type=Integer,Description="Least GQ">\n'
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n##FORMAT=<ID=GQ,',
    )
    records = [
        "chr1 1 . N . . PASS END=99;BLOCKAVG_min30p3a GT:GQX:DP 0/0:126:45",
        f"chr1 100 . G . . PASS END=199;BLOCKAVG_min30p3a GT:GQX:DP 0/0:{MIN_BLOCK_GQ - 1}:3",
        "chr1 200 . G A 50 PASS . GT:GQ:GQX:DP 0/1:30:12:20",
        f"chr1 300 . C . . PASS END=399;BLOCKAVG_min30p3a GT:GQX:DP 0/0:{MIN_BLOCK_GQ}:8",
    ]
    vcf = tmp_path / "strelka.g.vcf"
    vcf.write_text(header + "".join("\t".join(r.split()) + "\n" for r in records))
    result = normalize_vcf(vcf, tmp_path / "calls.parquet")
    table = pl.read_parquet(result.output)
    assert table.select("start", "gq").rows() == [
        (1, 126),
        (100, MIN_BLOCK_GQ - 1),
        (200, 30),
        (300, MIN_BLOCK_GQ),
    ]
    intervals = gvcf_reference_blocks(pl.scan_parquet(result.output)).sort("first").rows()
    assert intervals == [("1", 1, 99), ("1", 300, 399)]
