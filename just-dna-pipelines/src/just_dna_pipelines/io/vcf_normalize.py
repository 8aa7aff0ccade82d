"""Normalize one sample of a VCF/BCF into a Parquet table of calls, streaming (bounded memory).

Output columns: chrom (no `chr`; chrM -> MT), start (1-based), end (gVCF reference blocks; else = start),
ref, alts (list), rsid, qual, filter, gt (raw), genotype (sorted allele strings; null for no-calls),
zygosity (hom_ref, het, hom_alt, hemizygous, no_call), dp, gq, passes_filters, ref_block.
Damaged records (wrong number of columns, no position) are skipped and counted.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.io.genome_build import normalize_chrom
from just_dna_pipelines.io.vcf_bcf import bcf_as_vcf
from just_dna_pipelines.io.vcf_count import check_bounds
from just_dna_pipelines.io.vcf_filters import VcfFilters
from just_dna_pipelines.io.vcf_header import VcfHeader
from just_dna_pipelines.io.vcf_limits import ReadLimits, read_limits
from just_dna_pipelines.io.vcf_peek import REF_BLOCK_ALTS
from just_dna_pipelines.io.vcf_preview import VcfPreview, preview_vcf
from just_dna_pipelines.io.vcf_records import (
    check_damage,
    describe_read_error,
    is_blank,
    is_malformed,
    sample_field,
    scan_records,
)
from just_dna_pipelines.io.vcf_samples import choose_sample

__all__ = ["NormalizedVcf", "choose_sample", "normalize_vcf", "normalized_calls"]


@dataclass(frozen=True)
class NormalizedVcf:
    """What normalization produced, for metadata and the ledger."""

    header: VcfHeader
    sample_column: str
    records: int
    records_passing: int
    no_calls: int
    ref_blocks: int
    filters: VcfFilters
    output: Path
    mode: str = "full"  # "full": every record; "module_sites": only records at the given sites, via the index
    chromosomes: list[str] | None = None  # chromosomes with records (from the index in "module_sites" mode)
    malformed_records: int = 0  # damaged records skipped (among those read: all, or the module sites')
    is_gvcf: bool = False  # gVCF by its header or by reference blocks among its records
    warnings: list[str] = field(default_factory=list)


def _format_position(field_name: str) -> pl.Expr:
    """0-based position of a key in FORMAT (null when absent), by plain string search: no per-row lists."""
    padded = pl.concat_str([pl.lit(":"), pl.col("FORMAT"), pl.lit(":")])
    found = padded.str.find(f":{field_name}:", literal=True)
    return padded.str.slice(0, found).str.count_matches(":", literal=True)


def _format_value(field_name: str) -> pl.Expr:
    """A FORMAT field's value for the chosen sample, found by the field's position in FORMAT."""
    return pl.col("SAMPLE").str.split(":").list.get(_format_position(field_name), null_on_oob=True)


def _int_or_null(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Int64, strict=False)


def _genotype_columns() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The raw GT, the sorted allele list and the zygosity of the chosen sample.

    Measured choices for whole genomes: indices cut with `split_exact` (not regexes), alleles looked up in
    one REF,ALT list, the genotype built as one sorted "a,b" string split once, zygosity from the indices.
    GT counts only when FORMAT starts with it (as the spec requires); a VCF 4.4 leading phase mark
    (`/0|1`, `|0`) is dropped; more than two alleles is not a diploid call, so no call.
    """
    has_gt = (pl.col("FORMAT") == "GT") | pl.col("FORMAT").str.starts_with("GT:")
    gt = pl.when(has_gt).then(pl.col("SAMPLE").str.split_exact(":", 1).struct.field("field_0"))
    indices = gt.str.strip_chars_start("/|").str.replace_all("|", "/", literal=True).str.split_exact("/", 2)
    first_index = indices.struct.field("field_0").cast(pl.Int64, strict=False)
    second_raw = indices.struct.field("field_1")
    second_index = second_raw.cast(pl.Int64, strict=False)
    polyploid = indices.struct.field("field_2").is_not_null()
    alleles = pl.concat_str([pl.col("REF"), pl.lit(","), pl.col("ALT")]).str.split(",")
    first = alleles.list.get(first_index, null_on_oob=True)
    second = alleles.list.get(second_index, null_on_oob=True)
    haploid = second_raw.is_null()
    genotype = (
        pl.when(first.is_null() | polyploid)
        .then(pl.lit(None, dtype=pl.String))
        .when(haploid)
        .then(first)
        .when(second.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(first <= second)
        .then(pl.concat_str([first, pl.lit(","), second]))
        .otherwise(pl.concat_str([second, pl.lit(","), first]))
        .str.split(",")
    )
    zygosity = (
        pl.when(first_index.is_null() | polyploid | (~haploid & second_index.is_null()))
        .then(pl.lit("no_call"))
        .when(haploid)
        .then(pl.lit("hemizygous"))
        .when(first_index != second_index)
        .then(pl.lit("het"))
        .when(first_index == 0)
        .then(pl.lit("hom_ref"))
        .otherwise(pl.lit("hom_alt"))
    )
    return gt, genotype, zygosity


def _block_columns(start: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Whether a record is a gVCF reference block, and where it ends (from the records, not the header).

    A block has ALT <*> or <NON_REF> (DeepVariant, GATK), or ALT "." with an END (Illumina). INFO is only
    searched on candidate rows, so plain VCFs pay next to nothing.
    """
    alt = pl.col("ALT")
    symbolic = alt.is_in(list(REF_BLOCK_ALTS))
    candidate_info = pl.when(symbolic | (alt == ".")).then(pl.col("INFO"))
    end_value = candidate_info.str.extract(r"(?:^|;)END=(\d+)", 1).cast(pl.Int64, strict=False)
    ref_block = symbolic | ((alt == ".") & end_value.is_not_null())
    end = pl.when(ref_block).then(end_value.fill_null(start)).otherwise(start)
    return ref_block, end


def calls_from_records(
    records: pl.LazyFrame, header: VcfHeader, sample: str, filters: VcfFilters
) -> pl.LazyFrame:
    """The normalization query over scanned records (see vcf_records.scan_records): well-formed ones only."""
    column = sample_field(header.samples.index(sample))
    frame = records.filter(~is_blank() & ~is_malformed(header)).select(
        pl.col("CHROM"),
        pl.col("POS"),
        pl.col("ID"),
        pl.col("REF"),
        pl.col("ALT"),
        pl.col("QUAL"),
        pl.col("FILTER"),
        pl.col("INFO"),
        pl.col("FORMAT"),
        pl.col(column).alias("SAMPLE"),
    )
    gt, genotype, zygosity = _genotype_columns()
    chrom = pl.col("CHROM").str.strip_prefix("chr").str.strip_prefix("Chr").str.strip_prefix("CHR")
    chrom = pl.when(chrom.is_in(["M", "m"])).then(pl.lit("MT")).otherwise(chrom)
    alts = (
        pl.when(pl.col("ALT") == ".")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.col("ALT").str.split(","))
    )
    start = pl.col("POS").cast(pl.Int64, strict=False)
    ref_block, end = _block_columns(start)
    dp = _int_or_null(_format_value("DP")) if "DP" in header.format_fields else None
    gq = _int_or_null(_format_value("GQ")) if "GQ" in header.format_fields else None
    qual = pl.col("QUAL").cast(pl.Float64, strict=False)
    rsid = pl.col("ID").str.extract(r"(rs[0-9]+)", 1)

    passes = pl.lit(True)
    if filters.passing_filters is not None:
        passes = passes & pl.col("filter").is_in(list(filters.passing_filters))
    if filters.min_depth is not None:
        passes = passes & (pl.col("dp").fill_null(0) >= filters.min_depth)
    if filters.min_quality is not None:
        passes = passes & (pl.col("qual").fill_null(0.0) >= filters.min_quality)

    return frame.select(
        chrom.alias("chrom"),
        start.alias("start"),
        end.alias("end"),
        pl.col("REF").alias("ref"),
        alts.alias("alts"),
        rsid.alias("rsid"),
        qual.alias("qual"),
        pl.col("FILTER").alias("filter"),
        gt.alias("gt"),
        genotype.alias("genotype"),
        zygosity.alias("zygosity"),
        (dp if dp is not None else pl.lit(None, dtype=pl.Int64)).alias("dp"),
        (gq if gq is not None else pl.lit(None, dtype=pl.Int64)).alias("gq"),
        ref_block.alias("ref_block"),
    ).with_columns(passes.alias("passes_filters"))


def normalized_calls(source: Path, header: VcfHeader, sample: str, filters: VcfFilters) -> pl.LazyFrame:
    """The lazy normalization query over a VCF text file (plain or gzipped)."""
    return calls_from_records(scan_records(source, header), header, sample, filters)


def site_reading_possible(preview: VcfPreview, sites: pl.DataFrame | None) -> bool:
    """Whether reading only `sites` loses nothing: a bgzipped VCF or a BCF, no rsid-only site it could match,
    and, for a gVCF, an END declared in the header (htslib finds the blocks covering a site only by it)."""
    if sites is None or preview.header.container == "vcf":
        return False
    if preview.is_gvcf and "END" not in preview.header.info_fields:
        return False
    return sites["start"].null_count() == 0 or not preview.peek.with_rsids


def _sink(
    source: Path, header: VcfHeader, sample: str, filters: VcfFilters, target: Path, label: Path
) -> int:
    """Write the calls of `source` to `target` and return how many damaged records were skipped (one scan)."""
    records = scan_records(source, header)
    query = calls_from_records(records, header, sample, filters)
    damaged = records.select(is_malformed(header).sum())
    try:
        _, counted = pl.collect_all([query.sink_parquet(target, compression="zstd", lazy=True), damaged])
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise VcfError(describe_read_error(label, exc)) from None
    return int(counted.item() or 0)


def _read_sites(path: Path, sites: pl.DataFrame, workdir: Path) -> tuple[Path, dict[str, int]] | None:
    """The records at `sites` as VCF text, and records per contig from the index; None to read everything."""
    from just_dna_pipelines.io.vcf_index import (
        extract_sites,
        indexed_contig_counts,
        indexed_view,
        write_regions_file,
    )

    indexed = indexed_view(path, workdir)
    if indexed is None:
        return None
    counts = indexed_contig_counts(indexed)
    if counts is None:
        return None
    regions = workdir / "regions.tsv"
    source = workdir / "sites.vcf"
    if write_regions_file(sites, list(counts), regions) == 0:
        source.write_text("")  # no site on the file's contigs: nothing to read
    elif not extract_sites(indexed, regions, source):
        return None
    return source, counts


def normalize_vcf(
    path: Path,
    output: Path,
    *,
    sample_column: str | None = None,
    filters: VcfFilters | None = None,
    sites: pl.DataFrame | None = None,
    limits: ReadLimits | None = None,
) -> NormalizedVcf:
    """Normalize one sample of `path` into `output` (Parquet, written atomically) and summarize it.

    With `sites` (chrom, start) and a bgzipped VCF (indexed, or indexed here on the fly) or a BCF, only the
    records at those sites are read through the index, so the time hardly grows with genome size; when the
    index cannot give per-contig counts (older tabix) or cannot be built, every record is read instead.
    """
    filters = filters or VcfFilters()
    limits = limits or read_limits()
    preview = preview_vcf(path, sample_column, limits)
    header, sample = preview.header, preview.sample_column
    check_bounds(header, limits)  # the whole file, before htslib or Polars hold any line of it
    contig_counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="jdl-vcf-") as workdir:
        by_sites = None
        if sites is not None and site_reading_possible(preview, sites):
            by_sites = _read_sites(path, sites, Path(workdir))
        if by_sites is not None:
            source, contig_counts = by_sites
        else:
            source = bcf_as_vcf(path, Path(workdir)) if header.container == "bcf" else path
        with atomic_path(output) as tmp:
            malformed = _sink(source, header, sample, filters, tmp, path)
            row = (
                pl.scan_parquet(tmp)
                .select(
                    pl.len().alias("records"),
                    pl.col("passes_filters").sum().alias("passing"),
                    (pl.col("zygosity") == "no_call").sum().alias("no_calls"),
                    pl.col("ref_block").sum().alias("ref_blocks"),
                )
                .collect()
                .row(0, named=True)
            )
            total = sum(contig_counts.values()) if by_sites else int(row["records"])
            if by_sites and total == 0:
                raise VcfError(f"{path.name} has a header but no records")
            damage = check_damage(path, total, malformed)
    return NormalizedVcf(
        header=header,
        sample_column=sample,
        records=total,
        records_passing=int(row["passing"] or 0),
        no_calls=int(row["no_calls"] or 0),
        ref_blocks=int(row["ref_blocks"] or 0),
        filters=filters,
        output=output,
        mode="module_sites" if by_sites else "full",
        chromosomes=sorted({normalize_chrom(c) for c, n in contig_counts.items() if n}) if by_sites else None,
        malformed_records=malformed,
        is_gvcf=preview.is_gvcf or bool(row["ref_blocks"]),
        warnings=[*preview.warnings, *([damage] if damage else [])],
    )
