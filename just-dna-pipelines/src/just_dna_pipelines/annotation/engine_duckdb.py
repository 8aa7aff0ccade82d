"""Genotype-aware matching with DuckDB: the same rules as the Polars engine (see its docstring), in SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from just_dna_pipelines.annotation.sites import SITE_CALL_SCHEMA

SITE_CALLS_SQL = """
WITH variant_calls AS (
    SELECT chrom AS call_chrom, start AS call_start, rsid AS call_rsid, ref AS call_ref, alts AS call_alts,
        gt, genotype, zygosity, passes_filters
    FROM read_parquet($calls_path) WHERE NOT ref_block
),
candidates AS (
    SELECT s.*, c.call_chrom, c.call_start, c.call_rsid, c.call_ref, c.call_alts, c.gt, c.genotype, c.zygosity,
        c.passes_filters, true AS by_position
    FROM sites s JOIN variant_calls c ON s.match_chrom = c.call_chrom AND s.match_start = c.call_start
    WHERE s.match_start IS NOT NULL
    UNION ALL
    SELECT s.*, c.call_chrom, c.call_start, c.call_rsid, c.call_ref, c.call_alts, c.gt, c.genotype, c.zygosity,
        c.passes_filters, false AS by_position
    FROM sites s JOIN variant_calls c ON s.rsid = c.call_rsid
    WHERE $rsid_mode = 'also' OR ($rsid_mode = 'fallback' AND s.match_start IS NULL)
),
classified AS (
    SELECT *,
        CASE WHEN zygosity = 'indel' THEN 'indel_call'
             WHEN len(list_filter(genotype, lambda x: regexp_matches(x, '^(<.*>|[*])$'))) > 0 THEN 'unresolved_allele'
             WHEN zygosity = 'hemizygous' AND call_chrom NOT IN ('X', 'Y', 'MT') THEN 'one_copy_call'
             WHEN call_ref IS NOT NULL AND ref IS NOT NULL AND call_ref <> ref THEN 'ref_mismatch'
             WHEN call_ref IS NULL AND alleles IS NOT NULL AND genotype IS NOT NULL
                  AND NOT list_has_all(alleles, genotype) THEN 'allele_mismatch'
        END AS bad,
        (passes_filters AND genotype IS NOT NULL) AS usable,
        coalesce(call_rsid = rsid, false) AS same_rsid
    FROM candidates
),
split AS (  -- a multi-allelic call split into one record per ALT (see the Polars engine's merge_split_records)
    SELECT module, rsid, call_chrom, call_start, call_ref,
        count(*) AS records,
        flatten(list(call_alts)) AS all_alts,
        min(len(genotype)) AS ploidy,
        max(len(genotype)) AS most,
        flatten(list(list_filter(genotype, lambda x: x <> call_ref))) AS non_ref,
        string_agg(gt, ',' ORDER BY array_to_string(call_alts, ',')) AS gts
    FROM classified
    WHERE bad IS NULL AND usable AND by_position AND call_ref IS NOT NULL
    GROUP BY module, rsid, call_chrom, call_start, call_ref
),
merging AS (
    SELECT module, rsid, call_chrom, call_start, call_ref, gts,
        list_sort(CASE ploidy - len(non_ref) WHEN 0 THEN non_ref WHEN 1 THEN list_append(non_ref, call_ref)
                  ELSE [call_ref, call_ref] END) AS merged
    FROM split
    WHERE records > 1 AND len(all_alts) = len(list_distinct(all_alts)) AND ploidy = most AND len(non_ref) <= ploidy
),
merged_calls AS (
    SELECT c.* REPLACE (coalesce(m.merged, c.genotype) AS genotype, coalesce(m.gts, c.gt) AS gt)
    FROM classified c LEFT JOIN merging m
      ON c.module = m.module AND c.rsid = m.rsid AND c.call_chrom = m.call_chrom AND c.call_start = m.call_start
     AND c.call_ref = m.call_ref AND c.bad IS NULL AND c.usable AND c.by_position
    QUALIFY m.merged IS NULL OR row_number() OVER (
        PARTITION BY c.module, c.rsid, c.call_chrom, c.call_start, c.call_ref, m.merged IS NULL
        ORDER BY c.same_rsid DESC, array_to_string(c.call_alts, ',')) = 1
),
judged AS (
    SELECT *, coalesce(gt, '') || '|' || coalesce(array_to_string(genotype, '/'), '') AS tiebreak
    FROM merged_calls
),
keyed AS (
    SELECT *,
        CASE WHEN bad IS NULL AND usable THEN array_to_string(list_sort(
            CASE WHEN zygosity = 'hemizygous' THEN list_concat(genotype, genotype) ELSE genotype END), '/')
        END AS key
    FROM judged
),
tiered AS (
    SELECT *,
        coalesce(min(key) OVER tier <> max(key) OVER tier, false) AS conflict
    FROM keyed
    WINDOW tier AS (PARTITION BY module, rsid, (bad IS NULL), usable, by_position, same_rsid)
),
best AS (
    SELECT module, rsid,
        CASE WHEN bad IS NOT NULL OR conflict THEN 'not_testable' WHEN usable THEN 'called' ELSE 'no_call' END
            AS status,
        CASE WHEN conflict THEN 'conflicting_calls' WHEN bad IS NOT NULL THEN bad WHEN usable THEN NULL
             WHEN genotype IS NULL THEN 'no_call' ELSE 'filtered' END AS reason,
        CASE WHEN conflict THEN NULL ELSE gt END AS gt,
        CASE WHEN conflict THEN NULL ELSE key END AS genotype_key,
        call_chrom AS sample_chrom, call_start AS sample_start
    FROM tiered
    QUALIFY row_number() OVER (
        PARTITION BY module, rsid
        ORDER BY (bad IS NULL) DESC, usable DESC, by_position DESC, same_rsid DESC, tiebreak ASC,
            call_chrom ASC, call_start ASC
    ) = 1
),
merged AS (
    SELECT s.module, s.rsid, s.chrom, s.start, s.ref, s.match_chrom, s.match_start, s.position_note,
        b.status, b.reason, b.gt, b.genotype_key, b.sample_chrom, b.sample_start
    FROM sites s LEFT JOIN best b ON s.module = b.module AND s.rsid = b.rsid
),
spans AS (  -- longer records not called as reference (a deletion): a site inside one is never inferred
    SELECT chrom AS span_chrom, start AS span_first, start + strlen(ref) - 1 AS span_last
    FROM read_parquet($calls_path)
    WHERE NOT ref_block AND strlen(ref) > 1 AND zygosity <> 'hom_ref'
),
spanned AS (
    SELECT DISTINCT m.module, m.rsid
    FROM merged m JOIN spans s
      ON m.match_chrom = s.span_chrom AND s.span_first < m.match_start AND s.span_last >= m.match_start
    WHERE m.status IS NULL
),
covered AS (
    SELECT DISTINCT m.module, m.rsid
    FROM merged m JOIN intervals i
      ON m.match_chrom = i.chrom AND m.match_start BETWEEN i.first AND i.last
    WHERE m.status IS NULL AND m.ref IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM spanned sp WHERE sp.module = m.module AND sp.rsid = m.rsid)
)
SELECT m.module, m.rsid, m.chrom, m.start, m.ref,
    CASE WHEN cv.rsid IS NOT NULL THEN 'inferred_hom_ref' ELSE coalesce(m.status, 'not_testable') END AS status,
    CASE WHEN cv.rsid IS NOT NULL THEN NULL
         WHEN m.status IS NOT NULL THEN m.reason
         WHEN sp.rsid IS NOT NULL THEN 'within_a_variant'
         WHEN m.position_note IS NOT NULL THEN m.position_note
         WHEN m.match_start IS NOT NULL THEN 'absent'
         WHEN $rsid_mode <> 'never' THEN 'rsid_absent'
         ELSE 'no_coordinates_and_no_rsids' END AS reason,
    CASE WHEN cv.rsid IS NOT NULL THEN '0/0*' ELSE m.gt END AS gt,
    CASE WHEN cv.rsid IS NOT NULL THEN m.ref || '/' || m.ref ELSE m.genotype_key END AS genotype_key,
    CASE WHEN cv.rsid IS NOT NULL THEN m.match_chrom ELSE m.sample_chrom END AS sample_chrom,
    CASE WHEN cv.rsid IS NOT NULL THEN m.match_start ELSE m.sample_start END AS sample_start
FROM merged m LEFT JOIN covered cv ON m.module = cv.module AND m.rsid = cv.rsid
    LEFT JOIN spanned sp ON m.module = sp.module AND m.rsid = sp.rsid
"""

MATCH_SQL = """
SELECT w.* EXCLUDE (chrom, start, ref),
    coalesce(w.chrom, c.chrom) AS chrom, coalesce(w.start, c.start) AS start, coalesce(w.ref, c.ref) AS ref,
    c.gt,
    CASE WHEN c.status = 'inferred_hom_ref' THEN 'inferred_hom_ref' ELSE 'call' END AS evidence,
    c.sample_chrom, c.sample_start
FROM weights w JOIN calls c
  ON w.module = c.module AND w.rsid = c.rsid AND w.genotype_key = c.genotype_key
WHERE c.status IN ('called', 'inferred_hom_ref')
"""


def site_calls(
    calls_path: Path | list[Path],
    sites: pl.DataFrame,
    ref_intervals: pl.DataFrame,
    *,
    rsid_mode: str,
) -> pl.DataFrame:
    """Classify every placed module site: called, no_call, inferred_hom_ref or not_testable (with the reason).

    `calls_path`: the normalized calls, and any records added for the modules' sake (dbsnp_deletions.py)."""
    paths = calls_path if isinstance(calls_path, list) else [calls_path]
    with duckdb.connect() as con:
        con.register("sites", sites.to_arrow())
        con.register("intervals", ref_intervals.to_arrow())
        params = {"calls_path": [str(path) for path in paths], "rsid_mode": rsid_mode}
        result = pl.DataFrame(pl.from_arrow(con.sql(SITE_CALLS_SQL, params=params).to_arrow_table()))
    return result.cast(SITE_CALL_SCHEMA).sort("module", "rsid")  # type: ignore[arg-type]


def match_weights(weights: pl.DataFrame, calls: pl.DataFrame) -> pl.DataFrame:
    """The weights rows whose genotype equals the site's called or inferred genotype."""
    with duckdb.connect() as con:
        con.register("weights", weights.to_arrow())
        con.register("calls", calls.to_arrow())
        return pl.DataFrame(pl.from_arrow(con.sql(MATCH_SQL).to_arrow_table()))
