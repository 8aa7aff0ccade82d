"""A module's deletions written dbSNP's way ("-" for the deleted allele) read from a VCF's records.

Some module tables take their alleles from dbSNP, which writes a deletion as the deleted bases against "-":
CCR5-delta32 (rs333) is `ref ACAGTCAGTATCAATTCTGGAAGAATTTCCAG`, alleles `-` and that sequence, at 3:46373453.
A VCF never writes "-": it keeps an anchor base, `REF ACAGTCAGTATCAATTCTGGAAGAATTTCCAGA ALT A` (Ensembl's
record of rs333), so matching by REF and alleles found the site untestable ("ref_mismatch") in a carrier.

A record deletes the bases of REF after its ALT (ALT a prefix of REF). It is the module's deletion when it
deletes as many bases and leaves the same sequence. Deleting L bases at q instead of p (shift d = q - p,
|d| <= L) leaves the same sequence exactly when the bases deleted at q are the module's rotated by d: the
record's REF then shows every base that decides it, so no reference genome is needed (rs333's record deletes
at p + 1 the module's bases rotated by one). Such a record is given to the matcher once more, written the
module's way (at p, REF the module's, "-" for its deleting ALT), so both engines match it by their usual
rules and the results show the module's genotypes ("-/-"). Only records overlapping p are considered: they
are what a site read through an index keeps, and a left-aligned VCF writes a deletion there.

Insertions written against "-" are not translated (no module has one); such a site stays untestable.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

DELETED = "-"
REF_PADDING = 50


def deletion_sites(sites: pl.DataFrame) -> pl.DataFrame:
    """The placed sites whose alleles are a dbSNP deletion: ref bases, and "-" among the alleles."""
    return sites.filter(
        pl.col("match_start").is_not_null()
        & pl.col("ref").str.contains(r"^[ACGTNacgtn]+$")
        & pl.col("alleles").list.contains(DELETED)
    ).select("match_chrom", "match_start", pl.col("ref").alias("deleted"))


def deleting_alt(start: int, ref: str, alts: list[str], site_start: int, deleted: str) -> str | None:
    """The ALT of a record (at `start` with `ref`) that deletes what the site deletes at `site_start`, or None."""
    wanted = deleted.upper()
    for alt in alts:
        kept, record_ref = _trimmed(alt.upper(), ref.upper())
        if not kept or not record_ref.startswith(kept) or len(record_ref) - len(kept) != len(wanted):
            continue
        if not start <= site_start <= start + len(record_ref) - 1:
            continue  # the record does not overlap the site
        shift = start + len(kept) - site_start  # where the record's deleted bases begin, from the site's
        if abs(shift) <= len(wanted) and record_ref[len(kept) :] == _rotated(wanted, shift):
            return alt
    return None


def _trimmed(alt: str, ref: str) -> tuple[str, str]:
    """ALT and REF without the bases they share at the end (a multi-allelic record pads its alleles so)."""
    while len(alt) > 1 and len(ref) > 1 and alt[-1] == ref[-1]:
        alt, ref = alt[:-1], ref[:-1]
    return alt, ref


def _rotated(bases: str, shift: int) -> str:
    turn = shift % len(bases)
    return bases[turn:] + bases[:turn]


def deletion_records(calls_path: Path, sites: pl.DataFrame) -> pl.DataFrame | None:
    """The sample's records that carry a site's dbSNP deletion, written the module's way; None when none do.

    Same columns as the normalized calls: start and end span the deleted bases, ref is the module's, the
    deleting ALT becomes "-" in `alts` and in `genotype` and REF becomes the module's ref there.
    """
    wanted = deletion_sites(sites)
    if wanted.is_empty():
        return None
    # A record deleting the site's bases and overlapping it starts at most its length (one anchor base
    # before, or a shift) before it; the margin takes REFs padded for other ALTs of a multi-allelic record.
    reach = pl.col("deleted").str.len_chars() * 2 + REF_PADDING
    windows = wanted.select(
        pl.col("match_chrom").alias("chrom"),
        pl.int_ranges(pl.col("match_start") - reach, pl.col("match_start") + 1).alias("start"),
    ).explode("start")
    calls = pl.scan_parquet(calls_path)
    near = (
        calls.filter(~pl.col("ref_block") & pl.col("ref").is_not_null())
        .join(windows.unique().lazy(), on=["chrom", "start"], how="semi")
        .collect()
    )
    if near.is_empty():
        return None
    rows = []
    for record in near.iter_rows(named=True):
        for chrom, site_start, deleted in wanted.iter_rows():
            if record["chrom"] != chrom:
                continue
            alt = deleting_alt(record["start"], record["ref"], record["alts"] or [], site_start, deleted)
            if alt is None:
                continue
            as_module = {record["ref"]: deleted, alt: DELETED}
            genotype = record["genotype"]
            rows.append(
                record
                | {
                    "start": site_start,
                    "end": site_start + len(deleted) - 1,
                    "ref": deleted,
                    "alts": [as_module.get(a, a) for a in record["alts"] or []],
                    "genotype": None if genotype is None else [as_module.get(a, a) for a in genotype],
                }
            )
    if not rows:
        return None
    return pl.DataFrame(rows, schema=near.schema)
