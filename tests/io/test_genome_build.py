"""Genome build detection from contig lengths and the reference line."""

from just_dna_pipelines.io.genome_build import detect_genome_build, normalize_chrom


def test_contig_lengths_decide() -> None:
    assert detect_genome_build({"chr1": 248_956_422}, None) == ("GRCh38", [])
    assert detect_genome_build({"1": 249_250_621, "21": 48_129_895}, None) == ("GRCh37", [])


def test_reference_line_when_no_contigs() -> None:
    assert detect_genome_build({}, "file:///ref/hg19.fa")[0] == "GRCh37"
    assert detect_genome_build({}, "GRCh38_full_analysis_set")[0] == "GRCh38"


def test_contradiction_is_unknown_with_a_warning() -> None:
    build, warnings = detect_genome_build({"chr1": 248_956_422}, "hg19")
    assert build == "unknown" and "contradicts" in warnings[0]


def test_nothing_known_is_unknown() -> None:
    build, warnings = detect_genome_build({"scaffold_1": 1000}, None)
    assert build == "unknown" and warnings


def test_chrom_names() -> None:
    assert [normalize_chrom(c) for c in ("chr1", "CHRX", "chrM", "M", "MT", "21")] == [
        "1",
        "X",
        "MT",
        "MT",
        "MT",
        "21",
    ]


def test_an_ncbi36_file_is_named_for_what_it_is() -> None:
    """hg18 lengths or reference names read as NCBI36 (they were "unknown"); a header naming NCBI36 with another
    build's lengths (the VCF spec's own ploidy example: B36 named, GRCh37's X length) contradicts itself."""
    assert detect_genome_build({"chr1": 247_249_719, "chrX": 154_913_754}, None) == ("NCBI36", [])
    assert detect_genome_build({}, "file:///seq/references/NCBI36.fasta")[0] == "NCBI36"
    assert detect_genome_build({}, "hg18")[0] == "NCBI36"
    build, warnings = detect_genome_build(
        {"X": 155_270_560}, "file:///seq/references/1000GenomesPilot-NCBI36.fasta"
    )
    assert build == "unknown" and "contig lengths say GRCh37, ##reference says NCBI36" in warnings[0]
