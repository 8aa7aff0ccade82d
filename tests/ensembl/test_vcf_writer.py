"""The annotated VCF declares what its records use: an unsorted input with FILTER values other than PASS."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pysam

from just_dna_pipelines.ensembl.annotate import VCF_FILE, VcfOptions, annotate_with_ensembl
from just_dna_pipelines.ensembl.cache import ensure_reference
from just_dna_pipelines.io.vcf_header import read_vcf_header
from just_dna_pipelines.io.vcf_normalize import normalize_vcf

HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr2,length=242193529>
##FILTER=<ID=RefCall,Description="Genotyping model thinks this site is reference.">
##FILTER=<ID=LowQual,Description="Confidence in this variant being real is below calling threshold.">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
"""
# Contig blocks out of order (chr1, chr2, chr1): the writer's output needs bcftools sort before tabix.
RECORDS = [
    "chr1 100 . A G 50 PASS . GT 0/1",
    "chr2 500 . C T 3 RefCall . GT 0/0",
    "chr1 200 . C T 5 LowQual;RefCall . GT 0/1",
]


def annotated(
    tmp_path: Path, records: list[str], reference_rows: list[dict[str, object]]
) -> tuple[Path, dict]:
    """A VCF of `records` (space-separated fields) annotated against a local reference of one-row contig files;
    the annotated VCF and the facts."""
    vcf = tmp_path / "in.vcf"
    vcf.write_text(HEADER + "".join("\t".join(r.split()) + "\n" for r in records))
    calls = normalize_vcf(vcf, tmp_path / "calls.parquet")
    data = tmp_path / "reference" / "data"
    data.mkdir(parents=True)
    for row in reference_rows:
        pl.DataFrame({name: [value] for name, value in row.items()}).write_parquet(
            data / f"homo_sapiens-chr{row['chrom']}.parquet"
        )
    contigs = [str(row["chrom"]) for row in reference_rows]
    reference = ensure_reference(str(tmp_path / "reference"), contigs)
    header = read_vcf_header(vcf)
    out = tmp_path / "out"
    out.mkdir()
    facts = annotate_with_ensembl(
        calls.output, reference, out, vcf=VcfOptions("S1", header.contigs, header.contig_naming)
    )
    return out / VCF_FILE, facts


def test_an_unsorted_input_with_its_own_filters_gives_a_vcf_bcftools_reads_without_complaint(
    tmp_path: Path, pipeline_env
) -> None:
    rows = [
        {"chrom": "1", "start": 100, "ref": "A", "alt": "G", "id": "rs1"},
        {"chrom": "2", "start": 500, "ref": "C", "alt": "T", "id": "rs2"},
    ]
    written, facts = annotated(tmp_path, RECORDS, rows)
    assert facts["vcf_records"] == 3 and written.with_name(VCF_FILE + ".tbi").is_file()
    with pysam.VariantFile(str(written)) as reader:
        assert {"RefCall", "LowQual"} <= set(reader.header.filters)
        records = [(r.chrom, r.pos, tuple(r.filter)) for r in reader]
    assert records == [
        ("chr1", 100, ("PASS",)),
        ("chr1", 200, ("LowQual", "RefCall")),
        ("chr2", 500, ("RefCall",)),
    ]


def test_a_hostile_reference_cannot_add_header_lines_or_records(tmp_path: Path, pipeline_env) -> None:
    """The reference (a dataset anyone may publish) named a column with a quote and a newline, and gave an id
    holding a newline and tabs: the first ended its ##INFO line and added a made-up ##INFO=<ID=FAKE> line, the
    second wrote a made-up record (chr1:150, GT 1/1) into the person's annotated VCF. Now the column is named
    escaped inside its description and an id a VCF cannot hold is '.' (the INFO field keeps it, percent-encoded)."""
    evil_id = "rs1\nchr1\t150\tINJECTED\tA\tT\t99\tPASS\t.\tGT\t1/1"
    evil_column = 'note">\n##INFO=<ID=FAKE,Number=0,Type=Flag,Description="x'
    rows = [
        {"chrom": "1", "start": 100, "ref": "A", "alt": "G", "id": evil_id, evil_column: "v"},
        {"chrom": "2", "start": 500, "ref": "C", "alt": "T", "id": "rs2", evil_column: "v"},
    ]
    written, facts = annotated(
        tmp_path, ["chr1 100 . A G 50 PASS . GT 0/1", "chr2 500 . C T 3 PASS . GT 0/0"], rows
    )
    assert facts["vcf_records"] == 2
    with pysam.VariantFile(str(written)) as reader:
        assert "FAKE" not in reader.header.info
        described = [
            line for line in str(reader.header).splitlines() if "Ensembl reference column note" in line
        ]
        records = [(r.chrom, r.pos, r.id, r.info.get("ensembl_id")) for r in reader]
    assert len(described) == 1 and "\\n##INFO=<ID=FAKE" in described[0], described
    assert records == [
        ("chr1", 100, None, "rs1%0Achr1%09150%09INJECTED%09A%09T%0999%09PASS%09.%09GT%091/1"),
        ("chr2", 500, "rs2", "rs2"),
    ]
