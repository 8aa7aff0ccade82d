"""Genotype-aware matching with Polars (lazy): site calls, then weights rows whose genotype equals the call.

Sites arrive placed (liftover/sites.py): `match_chrom`/`match_start` say where to look in the sample (null with
a `position_note` when positions cannot be used). The rules, shared with the DuckDB engine:
- candidates are the sample's records at the site's place, and by rsid where `rsid_mode` allows
  ("fallback": sites without a place; "also": every site; "never");
- a candidate is testable unless it is an array indel call, a call naming an allele it does not spell out (`<*>`,
  `<NON_REF>`, a symbolic SV allele, `*`), a one-allele call outside X, Y and MT, its REF
  differs from the module's, or (records
  without a REF, as from DNA-test arrays) its alleles are not among the module's alleles;
- a VCF's multi-allelic site split into one record per ALT (`bcftools norm -m-`: `G>A 1|1` and `G>C 0|0`, where
  0 means "not this ALT") is read as one call: usable records at the site's place with the same REF, distinct
  ALTs and one ploidy are merged (their non-reference alleles, the rest REF; `gt` their GTs joined by ","),
  when those alleles fit the ploidy; else they stay apart and conflict;
- per site the best candidate wins: testable, then with a usable call, then found by position, then with the
  module's rsid, then a fixed order (genotype, then the record's position); when equally good candidates call
  different genotypes (a DNA-test file listing an rsID twice, a VCF's split records of one site), the site is
  not testable ("conflicting_calls");
- a site no record starts at, inside the REF of a longer record that does not call the reference (a deletion the
  person carries, or a no-call), is not testable ("within_a_variant"), never inferred hom-ref;
- the winner's position in the sample is the site's `sample_chrom`/`sample_start` (modules.schema.SAMPLE_POSITION_SCHEMA).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from just_dna_pipelines.annotation.regions import ONE_COPY_CONTIGS
from just_dna_pipelines.annotation.sites import SITE_CALL_SCHEMA
from just_dna_pipelines.modules.schema import SAMPLE_POSITION_SCHEMA

USABLE = ("called", "inferred_hom_ref")
CONFLICTING_CALLS = "conflicting_calls"  # equally good records call the site differently
# One allele where a person has two copies (not X, Y or MT): the other copy is lost (a deletion) or the caller
# wrote half a call; as for reference blocks (regions.py), the genotype cannot be told.
ONE_COPY_CALL = "one_copy_call"
# Inside the REF of a longer record the person does not carry as reference (a deletion): never inferred hom-ref.
WITHIN_A_VARIANT = "within_a_variant"
# A genotype naming an allele the file does not spell out: gVCF's unobserved `<*>`/`<NON_REF>`, a symbolic SV
# allele (`<DEL>`), or `*` (the site deleted by an overlapping record): it cannot be compared with the module's.
UNRESOLVED_ALLELE = "unresolved_allele"
UNRESOLVED_PATTERN = r"^(<.*>|[*])$"
RSID_MODES = ("never", "fallback", "also")


def _candidate_calls(calls: pl.LazyFrame, sites: pl.DataFrame, rsid_mode: str) -> pl.DataFrame:
    """Every (site, record) pair: by the site's place in the sample, and by rsid as `rsid_mode` allows."""
    placed = pl.col("match_start").is_not_null()
    by_position = sites.filter(placed)
    if rsid_mode == "also":
        by_rsid = sites
    elif rsid_mode == "fallback":
        by_rsid = sites.filter(~placed)
    else:
        by_rsid = sites.clear()
    variant_calls = calls.filter(~pl.col("ref_block")).select(
        pl.col("chrom").alias("call_chrom"),
        pl.col("start").alias("call_start"),
        pl.col("rsid").alias("call_rsid"),
        pl.col("ref").alias("call_ref"),
        pl.col("alts").alias("call_alts"),
        "gt",
        "genotype",
        "zygosity",
        "passes_filters",
    )
    parts = []
    if by_position.height:
        keys = by_position.select(pl.col("match_chrom"), pl.col("match_start")).unique().lazy()
        near = variant_calls.join(
            keys, left_on=["call_chrom", "call_start"], right_on=["match_chrom", "match_start"], how="semi"
        )
        parts.append(
            by_position.lazy()
            .join(
                near,
                left_on=["match_chrom", "match_start"],
                right_on=["call_chrom", "call_start"],
                coalesce=False,
            )
            .with_columns(pl.lit(True).alias("by_position"))
        )
    if by_rsid.height:
        ids = by_rsid.select(pl.col("rsid").alias("call_rsid")).unique().lazy()
        named = variant_calls.join(ids, on="call_rsid", how="semi")
        parts.append(
            by_rsid.lazy()
            .join(named, left_on="rsid", right_on="call_rsid", how="inner", coalesce=False)
            .with_columns(pl.lit(False).alias("by_position"))
        )
    if not parts:
        return pl.DataFrame()
    columns = [
        *sites.columns,
        "call_chrom",
        "call_start",
        "call_rsid",
        "call_ref",
        "call_alts",
        "gt",
        "genotype",
        "zygosity",
        "passes_filters",
        "by_position",
    ]
    return pl.concat([part.select(columns) for part in parts]).collect()


SPLIT_KEY = ["module", "rsid", "call_chrom", "call_start", "call_ref"]


def merge_split_records(candidates: pl.DataFrame) -> pl.DataFrame:
    """The candidates with each site's split records of one multi-allelic call merged into one (module docstring)."""
    mergeable = (
        untestable_reason().is_null()
        & pl.col("passes_filters")
        & pl.col("genotype").is_not_null()
        & pl.col("by_position")
        & pl.col("call_ref").is_not_null()
    )
    rows = candidates.with_row_index("_row").filter(mergeable)
    if rows.height < 2:
        return candidates
    non_ref = (
        rows.select(*SPLIT_KEY, "genotype")
        .explode("genotype")
        .filter(pl.col("genotype") != pl.col("call_ref"))
        .group_by(SPLIT_KEY)
        .agg(pl.col("genotype").alias("_non_ref"))
    )
    # GTs joined in the order of the records' ALTs; the merged row is the record with the module's rsID, else
    # the first by ALT (the DuckDB engine orders the same way)
    ordered = rows.with_columns(pl.col("call_alts").list.join(",").alias("_alt_text")).sort("_alt_text")
    same_rsid = (pl.col("call_rsid") == pl.col("rsid")).fill_null(False)
    representative = (
        ordered.sort([same_rsid, pl.col("_alt_text")], descending=[True, False])
        .group_by(SPLIT_KEY)
        .agg(pl.col("_row").first().alias("_first"))
    )
    groups = (
        ordered.group_by(SPLIT_KEY)
        .agg(
            pl.len().alias("_records"),
            pl.col("call_alts").list.explode(keep_nulls=False, empty_as_null=False).alias("_alts"),
            pl.col("genotype").list.len().min().alias("_ploidy"),
            pl.col("genotype").list.len().max().alias("_most"),
            pl.col("gt").str.join(",").alias("_gts"),
            pl.col("_row"),
        )
        .join(non_ref, on=SPLIT_KEY, how="left")
        .join(representative, on=SPLIT_KEY)
        .with_columns(pl.col("_non_ref").fill_null([]))
        .filter(
            (pl.col("_records") > 1)
            & (pl.col("_alts").list.len() == pl.col("_alts").list.n_unique())
            & (pl.col("_ploidy") == pl.col("_most"))
            & (pl.col("_non_ref").list.len() <= pl.col("_ploidy"))
        )
    )
    if groups.is_empty():
        return candidates
    missing = pl.col("_ploidy") - pl.col("_non_ref").list.len()
    ref = pl.col("call_ref")
    genotype = (
        pl.when(missing == 0)
        .then(pl.col("_non_ref"))
        .when(missing == 1)
        .then(pl.concat_list([pl.col("_non_ref"), ref]))
        .otherwise(pl.concat_list([ref, ref]))
        .list.sort()
    )
    merged = groups.select(pl.col("_first").alias("_row"), genotype.alias("_merged"), "_gts")
    first = rows.join(merged, on="_row").with_columns(
        pl.col("_merged").alias("genotype"), pl.col("_gts").alias("gt")
    )
    replaced = groups.select(pl.col("_row").explode())
    kept = candidates.with_row_index("_row").join(replaced, on="_row", how="anti")
    return pl.concat([kept, first.select(kept.columns)]).drop("_row")


def untestable_reason() -> pl.Expr:
    """Why a candidate record cannot test the site (null when it can)."""
    outside = pl.col("genotype").list.set_difference(pl.col("alleles")).list.len() > 0
    unresolved = pl.col("genotype").list.eval(pl.element().str.contains(UNRESOLVED_PATTERN)).list.any()
    return (
        pl.when(pl.col("zygosity") == "indel")
        .then(pl.lit("indel_call"))
        .when(unresolved.fill_null(False))
        .then(pl.lit(UNRESOLVED_ALLELE))
        .when((pl.col("zygosity") == "hemizygous") & ~pl.col("call_chrom").is_in(list(ONE_COPY_CONTIGS)))
        .then(pl.lit(ONE_COPY_CALL))
        .when(
            pl.col("call_ref").is_not_null()
            & pl.col("ref").is_not_null()
            & (pl.col("call_ref") != pl.col("ref"))
        )
        .then(pl.lit("ref_mismatch"))
        .when(
            pl.col("call_ref").is_null()
            & pl.col("alleles").is_not_null()
            & pl.col("genotype").is_not_null()
            & outside
        )
        .then(pl.lit("allele_mismatch"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _best(candidates: pl.DataFrame) -> pl.DataFrame:
    """One candidate per site, ranked as the module docstring says, classified into status and reason."""
    genotype = (
        pl.when(pl.col("zygosity") == "hemizygous")
        .then(pl.concat_list([pl.col("genotype"), pl.col("genotype")]))
        .otherwise(pl.col("genotype"))
    )
    ranked = candidates.with_columns(
        untestable_reason().alias("_bad"),
        (pl.col("passes_filters") & pl.col("genotype").is_not_null()).alias("usable"),
        (pl.col("call_rsid") == pl.col("rsid")).fill_null(False).alias("same_rsid"),
        pl.concat_str(
            [pl.col("gt").fill_null(""), pl.col("genotype").list.join("/").fill_null("")], separator="|"
        ).alias("_order"),
    ).with_columns(pl.col("_bad").is_null().alias("ok"))
    key = pl.when(pl.col("ok") & pl.col("usable")).then(genotype.list.sort().list.join("/"))
    tier = ["module", "rsid", "ok", "usable", "by_position", "same_rsid"]
    # Candidates as good as each other that call the site differently (two rows of one rsID in a DNA-test
    # file, a VCF's split records of one site): the file does not say which genotype is the person's.
    ranked = ranked.with_columns(key.alias("_key")).with_columns(
        (pl.col("_key").min().over(tier) != pl.col("_key").max().over(tier))
        .fill_null(False)
        .alias("_conflict")
    )
    best = (
        ranked.sort(
            [*tier, "_order", "call_chrom", "call_start"],
            descending=[False, False, True, True, True, True, False, False, False],
            maintain_order=True,
        )
        .group_by("module", "rsid", maintain_order=True)
        .first()
    )
    testable = pl.col("ok") & ~pl.col("_conflict")
    return best.select(
        "module",
        "rsid",
        pl.when(~testable)
        .then(pl.lit("not_testable"))
        .when(pl.col("usable"))
        .then(pl.lit("called"))
        .otherwise(pl.lit("no_call"))
        .alias("status"),
        pl.when(pl.col("_conflict"))
        .then(pl.lit(CONFLICTING_CALLS))
        .when(~pl.col("ok"))
        .then(pl.col("_bad"))
        .when(pl.col("usable"))
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("genotype").is_null())
        .then(pl.lit("no_call"))
        .otherwise(pl.lit("filtered"))
        .alias("reason"),
        pl.when(~pl.col("_conflict")).then(pl.col("gt")).alias("gt"),
        pl.when(testable).then(pl.col("_key")).alias("genotype_key"),
        pl.col("call_chrom").alias("sample_chrom"),
        pl.col("call_start").alias("sample_start"),
    )


def site_calls(
    calls_path: Path | list[Path],
    sites: pl.DataFrame,
    ref_intervals: pl.DataFrame,
    *,
    rsid_mode: str,
) -> pl.DataFrame:
    """Classify every placed module site: called, no_call, inferred_hom_ref or not_testable (with the reason).

    `calls_path`: the normalized calls, and any records added for the modules' sake (dbsnp_deletions.py)."""
    calls = pl.scan_parquet(calls_path)
    candidates = _candidate_calls(calls, sites, rsid_mode)
    if candidates.height:
        best = _best(merge_split_records(candidates))
    else:
        best = pl.DataFrame(
            schema={
                k: SITE_CALL_SCHEMA[k]
                for k in ("module", "rsid", "status", "reason", "gt", "genotype_key", *SAMPLE_POSITION_SCHEMA)
            }
        )

    merged = sites.join(best, on=["module", "rsid"], how="left")
    spanned = _spanned(calls, merged.filter(pl.col("status").is_null()))
    merged = merged.join(
        spanned.with_columns(pl.lit(True).alias("_spanned")), on=["module", "rsid"], how="left"
    )
    merged = merged.with_columns(
        pl.when(pl.col("_spanned")).then(pl.lit("not_testable")).otherwise(pl.col("status")).alias("status"),
        pl.when(pl.col("_spanned"))
        .then(pl.lit(WITHIN_A_VARIANT))
        .otherwise(pl.col("reason"))
        .alias("reason"),
    ).drop("_spanned")
    covered = _covered(merged.filter(pl.col("status").is_null()), ref_intervals)
    absent_reason = (
        pl.when(pl.col("position_note").is_not_null())
        .then(pl.col("position_note"))
        .when(pl.col("match_start").is_not_null())
        .then(pl.lit("absent"))
        .when(pl.lit(rsid_mode != "never"))
        .then(pl.lit("rsid_absent"))
        .otherwise(pl.lit("no_coordinates_and_no_rsids"))
    )
    merged = merged.join(
        covered.with_columns(pl.lit(True).alias("_covered")), on=["module", "rsid"], how="left"
    ).with_columns(pl.col("_covered").fill_null(False))
    inferred = pl.col("status").is_null() & pl.col("_covered")
    return merged.select(
        "module",
        "rsid",
        "chrom",
        "start",
        "ref",
        pl.when(inferred)
        .then(pl.lit("inferred_hom_ref"))
        .otherwise(pl.col("status").fill_null("not_testable"))
        .alias("status"),
        pl.when(inferred)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("status").is_null())
        .then(absent_reason)
        .otherwise(pl.col("reason"))
        .alias("reason"),
        pl.when(inferred).then(pl.lit("0/0*")).otherwise(pl.col("gt")).alias("gt"),
        pl.when(inferred)
        .then(pl.concat_str([pl.col("ref"), pl.lit("/"), pl.col("ref")]))
        .otherwise(pl.col("genotype_key"))
        .alias("genotype_key"),
        pl.when(inferred).then(pl.col("match_chrom")).otherwise(pl.col("sample_chrom")).alias("sample_chrom"),
        pl.when(inferred).then(pl.col("match_start")).otherwise(pl.col("sample_start")).alias("sample_start"),
    ).cast(SITE_CALL_SCHEMA)  # type: ignore[arg-type]


def _spanned(calls: pl.LazyFrame, absent: pl.DataFrame) -> pl.DataFrame:
    """The absent sites inside the REF of a longer record (a deletion, a complex variant) that does not call the
    reference there: the person's base at the site is not what a reference-proving interval says."""
    places = absent.filter(pl.col("match_start").is_not_null()).select(
        "module", "rsid", "match_chrom", "match_start"
    )
    if places.is_empty():
        return places.select("module", "rsid")
    length = pl.col("ref").str.len_bytes()
    spans = (
        calls.filter(
            ~pl.col("ref_block")
            & (length > 1)
            & (pl.col("zygosity") != "hom_ref")
            & pl.col("chrom").is_in(places["match_chrom"].unique().to_list())
        )
        .select(
            pl.col("chrom").alias("_chrom"),
            pl.col("start").alias("_first"),
            (pl.col("start") + length - 1).alias("_last"),
        )
        .collect()
    )
    if spans.is_empty():
        return places.select("module", "rsid").clear()
    hits = places.join_where(
        spans,
        pl.col("match_chrom") == pl.col("_chrom"),
        pl.col("_first") < pl.col("match_start"),
        pl.col("_last") >= pl.col("match_start"),
    )
    return hits.select("module", "rsid").unique()


def _covered(absent: pl.DataFrame, intervals: pl.DataFrame) -> pl.DataFrame:
    """The absent sites whose place in the sample falls inside a reference-proving interval."""
    candidates = absent.filter(pl.col("match_start").is_not_null() & pl.col("ref").is_not_null())
    if candidates.is_empty() or intervals.is_empty():
        return candidates.select("module", "rsid").clear()
    # Intervals are merged (disjoint), so the nearest start at or before a position is the only candidate.
    nearest = candidates.sort("match_chrom", "match_start").join_asof(
        intervals.rename({"chrom": "match_chrom"}).sort("match_chrom", "first"),
        left_on="match_start",
        right_on="first",
        by="match_chrom",
        strategy="backward",
        check_sortedness=False,
    )
    return nearest.filter(pl.col("last").is_not_null() & (pl.col("match_start") <= pl.col("last"))).select(
        "module", "rsid"
    )


def match_weights(weights: pl.DataFrame, calls: pl.DataFrame) -> pl.DataFrame:
    """The weights rows whose genotype equals the site's called or inferred genotype."""
    usable = calls.filter(pl.col("status").is_in(USABLE)).select(
        "module",
        "rsid",
        "genotype_key",
        "gt",
        pl.col("status").alias("evidence"),
        pl.col("chrom").alias("_chrom"),
        pl.col("start").alias("_start"),
        pl.col("ref").alias("_ref"),
        *SAMPLE_POSITION_SCHEMA,
    )
    return weights.join(usable, on=["module", "rsid", "genotype_key"], how="inner").with_columns(
        pl.coalesce("chrom", "_chrom").alias("chrom"),
        pl.coalesce("start", "_start").alias("start"),
        pl.coalesce("ref", "_ref").alias("ref"),
        pl.when(pl.col("evidence") == "inferred_hom_ref")
        .then(pl.lit("inferred_hom_ref"))
        .otherwise(pl.lit("call"))
        .alias("evidence"),
    )
