"""Normalize one sample of a VCF/BCF into a Parquet table of calls, streaming (bounded memory).

Output columns: chrom (no `chr`; chrM -> MT), start (1-based), end (gVCF reference blocks; else = start),
ref, alts (list), rsid, qual, filter, gt (raw), genotype (sorted allele strings; null for no-calls),
zygosity (hom_ref, het, hom_alt, hemizygous, no_call), dp, gq, passes_filters, ref_block.
Bases are upper case (the spec makes REF/ALT case-insensitive; samtools 0.1 wrote `cca`). A GT naming an allele the
record does not have (`0/1` with ALT `.`, `0/2` with one ALT) is a no-call. `dp` of a gVCF reference block is its
MIN_DP where the caller writes one (DeepVariant writes no DP there); `gq` is read from integer or decimal text,
and for a block without GQ from its GQX (Strelka, Isaac).
Damaged records (wrong number of columns, no position) are skipped and counted.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from just_dna_pipelines.io.vcf_index_read import IndexedSites
    from just_dna_pipelines.io.vcf_site_scan import SiteScan

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
    mode: str = "full"  # "full": every record; "module_sites": only the records at the given sites
    chromosomes: list[str] | None = None  # chromosomes with records (scan or index, "module_sites" mode)
    site_reader: str | None = None  # "module_sites" mode: "scan" (counted in one pass) or "index" (by it)
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


def _whole_or_null(expr: pl.Expr) -> pl.Expr:
    """A number written as an integer or a decimal (GQ declared Float: `56.26`), floored; null when not one."""
    return expr.cast(pl.Float64, strict=False).floor().cast(pl.Int64, strict=False)


def _with_genotype(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add the raw GT (`gt`), the sorted allele list (`genotype`) and the `zygosity` of the chosen sample.

    GT counts only when FORMAT starts with it (as the spec requires); a VCF 4.4 leading phase mark
    (`/0|1`, `|0`) is dropped; more than two alleles is not a diploid call, so no call. Each step is its own
    `with_columns` stage: Polars then computes every intermediate once (written as one nested expression,
    it recomputed the split for every use and cost a whole genome about 9 s of CPU more).
    Measured choices: indices cut with `split_exact` (not regexes), alleles looked up in one REF,ALT list,
    the genotype built as one sorted "a,b" string split once, zygosity from the indices alone.
    """
    has_gt = (pl.col("FORMAT") == "GT") | pl.col("FORMAT").str.starts_with("GT:")
    raw = pl.col("SAMPLE").str.split_exact(":", 1).struct.field("field_0")
    frame = frame.with_columns(pl.when(has_gt).then(raw).alias("gt"))
    cut = (
        pl.col("gt")
        .str.strip_chars_start("/|")
        .str.replace_all("|", "/", literal=True)
        .str.split_exact("/", 2)
    )
    frame = frame.with_columns(cut.alias("_cut")).with_columns(
        pl.col("_cut").struct.field("field_0").cast(pl.Int64, strict=False).alias("_i1"),
        pl.col("_cut").struct.field("field_1").cast(pl.Int64, strict=False).alias("_i2"),
        pl.col("_cut").struct.field("field_1").is_null().alias("_haploid"),
        pl.col("_cut").struct.field("field_2").is_not_null().alias("_polyploid"),
        # ALT "." is no allele: a GT naming allele 1 there names nothing
        pl.when(pl.col("ALT") == ".")
        .then(pl.concat_list(pl.col("REF")))
        .otherwise(pl.concat_str([pl.col("REF"), pl.lit(","), pl.col("ALT")]).str.split(","))
        .alias("_alleles"),
    )
    frame = frame.with_columns(
        pl.col("_alleles").list.get(pl.col("_i1"), null_on_oob=True).alias("_a1"),
        pl.col("_alleles").list.get(pl.col("_i2"), null_on_oob=True).alias("_a2"),
    )
    first, second, i1, i2 = pl.col("_a1"), pl.col("_a2"), pl.col("_i1"), pl.col("_i2")
    haploid, polyploid = pl.col("_haploid"), pl.col("_polyploid")
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
    zygosity = (  # an index naming no allele of the record (null `_a1`/`_a2`) is no call either
        pl.when(first.is_null() | polyploid | (~haploid & second.is_null()))
        .then(pl.lit("no_call"))
        .when(haploid)
        .then(pl.lit("hemizygous"))
        .when(i1 != i2)
        .then(pl.lit("het"))
        .when(i1 == 0)
        .then(pl.lit("hom_ref"))
        .otherwise(pl.lit("hom_alt"))
    )
    return frame.with_columns(genotype.alias("genotype"), zygosity.alias("zygosity"))


def _with_blocks(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add `ref_block` (a gVCF reference block) and `end` (where it ends; else the start), from the records.

    A block has ALT <*> or <NON_REF> (DeepVariant, GATK), or ALT "." with an END (Illumina). INFO is only
    searched on candidate rows.
    """
    alt = pl.col("ALT")
    symbolic = alt.is_in(list(REF_BLOCK_ALTS))
    candidate_info = pl.when(symbolic | (alt == ".")).then(pl.col("INFO"))
    frame = frame.with_columns(
        symbolic.alias("_symbolic"),
        candidate_info.str.extract(r"(?:^|;)END=(\d+)", 1).cast(pl.Int64, strict=False).alias("_end"),
    ).with_columns((pl.col("_symbolic") | ((alt == ".") & pl.col("_end").is_not_null())).alias("ref_block"))
    end = (
        pl.when(pl.col("ref_block"))
        .then(pl.col("_end").fill_null(pl.col("start")))
        .otherwise(pl.col("start"))
    )
    return frame.with_columns(end.alias("end"))


def calls_from_records(
    records: pl.LazyFrame, header: VcfHeader, sample: str, filters: VcfFilters, *, gvcf: bool
) -> pl.LazyFrame:
    """The normalization query over scanned records (see vcf_records.scan_records): well-formed ones only.

    Reference blocks are looked for only in a gVCF (`gvcf`: its header or its first records say so): reading
    INFO for every record of a plain VCF would cost a whole genome seconds for nothing. Damaged records are
    dropped after the columns are built, which is cheaper than filtering the raw text columns first.
    """
    column = sample_field(header.samples.index(sample))
    wanted = ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "FORMAT"] + (["INFO"] if gvcf else [])
    # upper-cased: symbolic (<NON_REF>) and breakend ALTs match no module allele anyway
    bases = ("REF", "ALT")
    frame = records.select(
        (~is_blank() & ~is_malformed(header)).alias("_keep"),
        *(pl.col(name).str.to_uppercase() if name in bases else pl.col(name) for name in wanted),
        pl.col(column).alias("SAMPLE"),
    ).with_columns(pl.col("POS").cast(pl.Int64, strict=False).alias("start"))
    frame = _with_genotype(frame)
    if gvcf:
        frame = _with_blocks(frame)
    else:
        frame = frame.with_columns(pl.lit(False).alias("ref_block"), pl.col("start").alias("end"))
    chrom = pl.col("CHROM").str.strip_prefix("chr").str.strip_prefix("Chr").str.strip_prefix("CHR")
    chrom = pl.when(chrom.is_in(["M", "m"])).then(pl.lit("MT")).otherwise(chrom)
    alts = (
        pl.when(pl.col("ALT") == ".")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.col("ALT").str.split(","))
    )
    dp = _int_or_null(_format_value("DP")) if "DP" in header.format_fields else None
    if gvcf and "MIN_DP" in header.format_fields:  # a block's depth: the least over its bases
        min_dp = _int_or_null(_format_value("MIN_DP"))
        any_dp = dp if dp is not None else pl.lit(None, dtype=pl.Int64)
        dp = pl.when(pl.col("ref_block") & min_dp.is_not_null()).then(min_dp).otherwise(any_dp)
    gq = _whole_or_null(_format_value("GQ")) if "GQ" in header.format_fields else None
    if gvcf and "GQX" in header.format_fields:  # Strelka/Isaac blocks state GQX (their least quality), not GQ
        gqx = _whole_or_null(_format_value("GQX"))
        any_gq = gq if gq is not None else pl.lit(None, dtype=pl.Int64)
        gq = pl.when(pl.col("ref_block") & any_gq.is_null()).then(gqx).otherwise(any_gq)
    qual = pl.col("QUAL").cast(pl.Float64, strict=False)
    rsid = pl.col("ID").str.extract(r"(rs[0-9]+)", 1)

    passes = pl.lit(True)
    # The sample's own genotype filter (FORMAT/FT, e.g. `LowGQ`) counts like the record's FILTER: "." or none is
    # not filtered. A filtered genotype of one person was used as a call while a filtered record was not.
    genotype_filter = _format_value("FT") if "FT" in header.format_fields else pl.lit(None, dtype=pl.String)
    if filters.passing_filters is not None:
        passes = passes & pl.col("filter").is_in(list(filters.passing_filters))
        passes = passes & (pl.col("_ft").is_null() | pl.col("_ft").is_in([".", *filters.passing_filters]))
    if filters.min_depth is not None:
        passes = passes & (pl.col("dp").fill_null(0) >= filters.min_depth)
    if filters.min_quality is not None:
        passes = passes & (pl.col("qual").fill_null(0.0) >= filters.min_quality)

    return (
        frame.filter(pl.col("_keep"))
        .select(
            chrom.alias("chrom"),
            pl.col("start"),
            pl.col("end"),
            pl.col("REF").alias("ref"),
            alts.alias("alts"),
            rsid.alias("rsid"),
            qual.alias("qual"),
            pl.col("FILTER").alias("filter"),
            pl.col("gt"),
            pl.col("genotype"),
            pl.col("zygosity"),
            (dp if dp is not None else pl.lit(None, dtype=pl.Int64)).alias("dp"),
            (gq if gq is not None else pl.lit(None, dtype=pl.Int64)).alias("gq"),
            pl.col("ref_block"),
            genotype_filter.alias("_ft"),
        )
        .with_columns(passes.alias("passes_filters"))
        .drop("_ft")
    )


def normalized_calls(
    source: Path, header: VcfHeader, sample: str, filters: VcfFilters, *, gvcf: bool | None = None
) -> pl.LazyFrame:
    """The lazy normalization query over a VCF text file (plain or gzipped); `gvcf` defaults to the header's."""
    gvcf = header.is_gvcf if gvcf is None else gvcf
    return calls_from_records(scan_records(source, header), header, sample, filters, gvcf=gvcf)


def site_reading_possible(preview: VcfPreview, sites: pl.DataFrame | None) -> bool:
    """Whether reading only `sites` loses nothing: a bgzipped VCF or a BCF, no rsid-only site it could match,
    and, for a gVCF, an END declared in the header (htslib finds the blocks covering a site only by it)."""
    if sites is None or preview.header.container == "vcf":
        return False
    if preview.is_gvcf and "END" not in preview.header.info_fields:
        return False
    return sites["start"].null_count() == 0 or not preview.peek.with_rsids


def _record_lines(source: Path, limits: ReadLimits) -> int:
    """Record lines of a (small) VCF text written by bcftools, for the damaged count of a site read."""
    from just_dna_pipelines.io.vcf_header import read_vcf_header
    from just_dna_pipelines.io.vcf_stream import check_text_bounds

    if source.stat().st_size == 0:
        return 0
    shape = check_text_bounds(source, limits)
    return shape.lines - read_vcf_header(source, limits).header_lines - shape.blank_lines


def _read_sites(path: Path, sites: pl.DataFrame, workdir: Path) -> tuple[Path, dict[str, int]] | None:
    """The records at `sites` as VCF text, and records per contig from the index; None to read everything."""
    from just_dna_pipelines.io.vcf_index import indexed_contig_counts, indexed_view

    indexed = indexed_view(path, workdir)
    if indexed is None:
        return None
    counts = indexed_contig_counts(indexed)
    if counts is None:
        return None
    return _query_sites(indexed, sites, counts, workdir)


def _query_sites(
    indexed: Path, sites: pl.DataFrame, counts: dict[str, int], workdir: Path, *, small: bool = False
) -> tuple[Path, dict[str, int]] | None:
    """The records of an indexed VCF overlapping `sites` (on the contigs of `counts`) as VCF text, and `counts`
    (`small`: the kept records of a site read, read through once rather than through their index)."""
    from just_dna_pipelines.io.vcf_index import extract_sites, write_regions_file

    regions = workdir / "regions.tsv"
    source = workdir / "sites.vcf"
    if write_regions_file(sites, list(counts), regions) == 0:
        source.write_text("")  # no site on the file's contigs: nothing to read
    elif not extract_sites(indexed, regions, source, small=small):
        return None
    return source, counts


def _index_read_sites(
    header: VcfHeader, sites: pl.DataFrame, workdir: Path, limits: ReadLimits
) -> tuple[Path, dict[str, int]] | None:
    """Like _scan_sites, for a bgzipped VCF with its own tabix/CSI index: only the blocks the index names for
    the sites are inflated (vcf_index_read), and the same small-file query runs over the records found. None
    when there is no usable index (then the one pass reads the file)."""
    from just_dna_pipelines.io.vcf_index import index_path, is_bgzf
    from just_dna_pipelines.io.vcf_index_read import read_sites_by_index

    # verified by read_sites_by_index itself, on the index it parses anyway
    index = index_path(header.path, verify=False) if header.container == "vcf.gz" else None
    if index is None or not is_bgzf(header.path):
        return None
    return _query_kept(read_sites_by_index(header.path, index, sites, limits), sites, workdir)


def _scan_sites(
    header: VcfHeader, sites: pl.DataFrame, workdir: Path, limits: ReadLimits
) -> tuple[Path, dict[str, int]] | None:
    """Like _read_sites, without an index: one bounded pass over a bgzipped VCF (vcf_site_scan) keeps every
    record that may overlap a site, and the same index query then runs over those alone. None when the
    general path must read the file (not BGZF, lines the scan does not read as the full reader does)."""
    from just_dna_pipelines.io.vcf_index import is_bgzf
    from just_dna_pipelines.io.vcf_site_scan import scan_sites, site_scan_available

    if header.container != "vcf.gz" or not site_scan_available() or not is_bgzf(header.path):
        return None
    return _query_kept(scan_sites(header.path, header, sites, limits), sites, workdir)


def _query_kept(
    found: SiteScan | IndexedSites | None, sites: pl.DataFrame, workdir: Path
) -> tuple[Path, dict[str, int]] | None:
    """The query at `sites` over the header and records a site read kept (None when it kept none, or the
    scan's cannot be indexed), with the record counts it found.

    The scan's records are indexed first: htslib refusing to (records out of order) sends the file to the
    full read. What the file's own index led to is in order already, and is queried as plain text.
    """
    from just_dna_pipelines.io.vcf_index import index_kept_records
    from just_dna_pipelines.io.vcf_index_read import IndexedSites

    if found is None:
        return None
    if isinstance(found, IndexedSites):
        kept = workdir / "kept.vcf"
        kept.write_bytes(found.header + found.kept)
    else:
        indexed = index_kept_records(found.header, found.kept, workdir)
        if indexed is None:
            return None
        kept = indexed
    return _query_sites(kept, sites, found.contig_counts, workdir, small=True)


def normalize_vcf(
    path: Path,
    output: Path,
    *,
    sample_column: str | None = None,
    filters: VcfFilters | None = None,
    sites: pl.DataFrame | None = None,
    limits: ReadLimits | None = None,
    site_reader: str = "auto",
) -> NormalizedVcf:
    """Normalize one sample of `path` into `output` (Parquet, written atomically) and summarize it.

    With `sites` (chrom, start) and a bgzipped VCF or a BCF, only the records at those sites are read, so the
    time hardly grows with genome size. A bgzipped VCF (`site_reader` "auto", the default): through its own
    tabix/CSI index when it has one, inflating only the blocks the index names for the sites
    (io/vcf_index_read.py), else by one scan of the file (`site_reader` "scan" forces it); both check the
    bounds on every byte they inflate. Else (a BCF, `site_reader` "index", or lines the scan leaves to the
    general reader) through htslib and an index, built here on the fly when missing. When no index with
    per-contig counts can be had (older tabix, unsorted records), every record is read instead.
    """
    if site_reader not in ("auto", "scan", "index"):
        raise ValueError(f"site_reader must be auto, scan or index, not {site_reader!r}")
    filters = filters or VcfFilters()
    limits = limits or read_limits()
    preview = preview_vcf(path, sample_column, limits)
    header, sample = preview.header, preview.sample_column
    contig_counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="jdl-vcf-") as workdir:
        by_sites = None
        sites_read_by = "scan"
        read_at = sites if sites is not None and site_reading_possible(preview, sites) else None
        if read_at is not None and site_reader == "auto":
            # through the file's own index when it has one (only the blocks at the sites are inflated)
            by_sites = _index_read_sites(header, read_at, Path(workdir), limits)
            sites_read_by = "index"
        if read_at is not None and by_sites is None and site_reader in ("auto", "scan"):
            by_sites = _scan_sites(header, read_at, Path(workdir), limits)  # bounds checked in the same pass
            sites_read_by = "scan"
        if by_sites is None:
            record_lines = check_bounds(header, limits)  # the whole file, before htslib or Polars hold a line
            if read_at is not None:
                by_sites = _read_sites(path, read_at, Path(workdir))
                sites_read_by = "index"
        if by_sites is not None:
            source, contig_counts = by_sites
            record_lines = _record_lines(source, limits)
        else:
            source = bcf_as_vcf(path, Path(workdir), limits) if header.container == "bcf" else path
        with atomic_path(output) as tmp:
            try:
                query = normalized_calls(source, header, sample, filters, gvcf=preview.is_gvcf)
                query.sink_parquet(tmp, compression="zstd", statistics=True)
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise VcfError(describe_read_error(path, exc)) from None
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
            # Damaged = record lines read minus well-formed rows written: the same definition as at upload.
            malformed = max(record_lines - int(row["records"]), 0)
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
        site_reader=sites_read_by if by_sites else None,
        chromosomes=sorted({normalize_chrom(c) for c, n in contig_counts.items() if n}) if by_sites else None,
        malformed_records=malformed,
        is_gvcf=preview.is_gvcf or bool(row["ref_blocks"]),
        warnings=[*preview.warnings, *([damage] if damage else [])],
    )
