"""Normalize one sample of a VCF/BCF into a Parquet table of calls, streaming (bounded memory).

Output columns: chrom (no `chr`; chrM -> MT), start (1-based), end (gVCF reference blocks; else = start),
ref, alts (list), rsid, qual, filter, gt (raw), genotype (sorted allele strings; null for no-calls),
zygosity (hom_ref, het, hom_alt, hemizygous, no_call), dp, gq, passes_filters, ref_block.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io.atomic import atomic_path
from just_dna_pipelines.io.genome_build import normalize_chrom
from just_dna_pipelines.io.vcf_filters import VcfFilters
from just_dna_pipelines.io.vcf_header import VcfHeader, read_vcf_header

SYMBOLIC_REF_ALTS = ("<NON_REF>", "<*>", "*")


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


def choose_sample(header: VcfHeader, sample_column: str | None) -> str:
    """The sample to read: the one named, else the first; raise VcfError when there is none."""
    if not header.samples:
        raise VcfError(f"{header.path.name} has no sample columns (a sites-only VCF carries no genotypes)")
    if sample_column is None:
        return header.samples[0]
    if sample_column not in header.samples:
        raise VcfError(
            f"sample {sample_column!r} is not in {header.path.name}; samples: {', '.join(header.samples)}"
        )
    return sample_column


def scan_vcf_text(source: Path, *, with_header: bool = True) -> pl.LazyFrame:
    """Lazily scan VCF text (plain or gzipped) as strings: the `#CHROM` line as header, or no header at all.

    Pitfalls avoided: no type inference ("." in QUAL), no quoting (INFO may hold quotes).
    """
    return pl.scan_csv(
        source,
        separator="\t",
        comment_prefix="##" if with_header else "#",
        has_header=with_header,
        infer_schema=False,
        quote_char=None,
        truncate_ragged_lines=not with_header,
    )


def _field_position(field: str) -> pl.Expr:
    """0-based position of a key in FORMAT (null when absent), by plain string search: no per-row lists."""
    padded = pl.concat_str([pl.lit(":"), pl.col("FORMAT"), pl.lit(":")])
    found = padded.str.find(f":{field}:", literal=True)
    return padded.str.slice(0, found).str.count_matches(":", literal=True)


def _format_value(field: str) -> pl.Expr:
    """A FORMAT field's value for the chosen sample, found by the field's position in FORMAT."""
    return pl.col("SAMPLE").str.split(":").list.get(_field_position(field), null_on_oob=True)


def _int_or_null(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Int64, strict=False)


def normalized_calls(source: Path, header: VcfHeader, sample: str, filters: VcfFilters) -> pl.LazyFrame:
    """The lazy normalization query over a VCF text file (plain or gzipped).

    Measured choices for whole genomes: GT indices cut with `split_exact` (not regexes), alleles looked up
    in one REF,ALT list, the genotype built as one sorted "a,b" string split once, zygosity from the
    indices alone; each costs about a parse's worth of CPU or less.
    """
    wanted = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "FORMAT", sample]
    if header.is_gvcf:
        wanted.append("INFO")
    frame = scan_vcf_text(source).select(pl.col(wanted)).rename({"#CHROM": "CHROM", sample: "SAMPLE"})

    gt = pl.col("SAMPLE").str.split_exact(":", 1).struct.field("field_0")
    indices = gt.str.replace("|", "/", literal=True).str.split_exact("/", 1)
    first_index = indices.struct.field("field_0").cast(pl.Int64, strict=False)
    second_raw = indices.struct.field("field_1")
    second_index = second_raw.cast(pl.Int64, strict=False)
    alleles = pl.concat_str([pl.col("REF"), pl.lit(","), pl.col("ALT")]).str.split(",")
    first = alleles.list.get(first_index, null_on_oob=True)
    second = alleles.list.get(second_index, null_on_oob=True)
    haploid = second_raw.is_null()
    genotype = (
        pl.when(first.is_null())
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
        pl.when(first_index.is_null() | (~haploid & second_index.is_null()))
        .then(pl.lit("no_call"))
        .when(haploid)
        .then(pl.lit("hemizygous"))
        .when(first_index != second_index)
        .then(pl.lit("het"))
        .when(first_index == 0)
        .then(pl.lit("hom_ref"))
        .otherwise(pl.lit("hom_alt"))
    )
    chrom = pl.col("CHROM").str.strip_prefix("chr").str.strip_prefix("Chr").str.strip_prefix("CHR")
    chrom = pl.when(chrom.is_in(["M", "m"])).then(pl.lit("MT")).otherwise(chrom)
    alts = (
        pl.when(pl.col("ALT") == ".")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.col("ALT").str.split(","))
    )
    start = pl.col("POS").cast(pl.Int64, strict=False)
    if header.is_gvcf:
        end = pl.col("INFO").str.extract(r"(?:^|;)END=(\d+)", 1).cast(pl.Int64, strict=False).fill_null(start)
        ref_block = pl.col("ALT").str.split(",").list.eval(pl.element().is_in(SYMBOLIC_REF_ALTS)).list.all()
    else:
        end = start
        ref_block = pl.lit(False)
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


def bcf_as_vcf(path: Path, workdir: Path) -> Path:
    """Convert a BCF to VCF text with the htslib bundled in pysam (BCF has no text to scan)."""
    import pysam.bcftools

    out = workdir / "converted.vcf"
    try:
        pysam.bcftools.view(str(path), "-Ov", "-o", str(out), catch_stdout=False)
    except pysam.utils.SamtoolsError as exc:
        raise VcfError(f"{path.name} is not a readable BCF ({str(exc).strip().splitlines()[-1]})") from None
    return out


def site_reading_possible(header: VcfHeader, sites: pl.DataFrame | None) -> bool:
    """Whether reading only `sites` loses nothing: a bgzipped VCF or a BCF, and no rsid-only site it could match."""
    from just_dna_pipelines.io.vcf_index import first_records_have_rsids

    if sites is None or header.container == "vcf":
        return False
    if sites["start"].null_count() == 0:
        return True
    return not first_records_have_rsids(header)


def normalize_vcf(
    path: Path,
    output: Path,
    *,
    sample_column: str | None = None,
    filters: VcfFilters | None = None,
    sites: pl.DataFrame | None = None,
) -> NormalizedVcf:
    """Normalize one sample of `path` into `output` (Parquet, written atomically) and summarize it.

    With `sites` (chrom, start) and a bgzipped VCF (indexed, or indexed here on the fly) or an indexed BCF,
    only the records at those sites are read through the index, so the time hardly grows with genome size.
    """
    filters = filters or VcfFilters()
    header = read_vcf_header(path)
    sample = choose_sample(header, sample_column)
    if "GT" not in header.format_fields:
        raise VcfError(f"{path.name} has no GT (genotype) FORMAT field")
    contig_counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="jdl-vcf-") as workdir:
        from just_dna_pipelines.io.vcf_index import (
            extract_sites,
            indexed_contig_counts,
            indexed_view,
            write_regions_file,
        )

        indexed = indexed_view(path, Path(workdir)) if site_reading_possible(header, sites) else None
        by_sites = indexed is not None
        if indexed is not None and sites is not None:
            contig_counts = indexed_contig_counts(indexed)
            regions = Path(workdir) / "regions.tsv"
            write_regions_file(sites, list(contig_counts), regions)
            source = Path(workdir) / "sites.vcf"
            extract_sites(indexed, regions, source)
        else:
            source = bcf_as_vcf(path, Path(workdir)) if header.container == "bcf" else path
        query = normalized_calls(source, header, sample, filters)
        with atomic_path(output) as tmp:
            try:
                query.sink_parquet(tmp, compression="zstd", statistics=True)
            except (pl.exceptions.ComputeError, pl.exceptions.PolarsError, OSError) as exc:
                raise VcfError(describe_read_error(path, exc)) from None
            summary = (
                pl.scan_parquet(tmp)
                .select(
                    pl.len().alias("records"),
                    pl.col("passes_filters").sum().alias("passing"),
                    (pl.col("zygosity") == "no_call").sum().alias("no_calls"),
                    pl.col("ref_block").sum().alias("ref_blocks"),
                    pl.col("start").is_null().sum().alias("bad_positions"),
                )
                .collect()
            )
            row = summary.row(0, named=True)
            total = sum(contig_counts.values()) if by_sites else int(row["records"])
            if total == 0:
                raise VcfError(f"{path.name} has a header but no records")
            if row["bad_positions"]:
                raise VcfError(f"{path.name} has {row['bad_positions']} records with a non-numeric POS")
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
    )


def describe_read_error(path: Path, exc: Exception) -> str:
    """Turn a reader exception into one line the user can act on."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = text.lower()
    if any(
        word in lowered
        for word in ("gzip", "deflate", "decompress", "eof", "end of file", "truncated", "corrupt")
    ):
        return f"{path.name} is truncated or a damaged gzip file ({text})"
    if "field" in lowered or "column" in lowered:
        return f"{path.name} has malformed VCF records ({text})"
    return f"could not read {path.name}: {text}"
