"""Column contracts of the module tables (the layout of the `just-dna-seq/annotators` dataset).

A module folder holds `weights.parquet`, `annotations.parquet`, `studies.parquet` and, optionally,
`module.json` (title, description, version, genome build, provenance).
"""

from __future__ import annotations

import polars as pl

KNOWN_MODULES: tuple[str, ...] = ("longevitymap", "lipidmetabolism", "vo2max", "superhuman", "coronary")

# One row per (variant, genotype) with an effect. `genotype` is the sorted list of allele strings
# (e.g. ["A", "G"]); chrom has no "chr" prefix; start is the 1-based GRCh38 position. chrom/start/ref
# are null when the module knows the variant only by rsid.
WEIGHTS_SCHEMA: dict[str, pl.DataType] = {
    "rsid": pl.String(),
    "chrom": pl.String(),
    "start": pl.Int64(),
    "ref": pl.String(),
    "alts": pl.List(pl.String()),
    "genotype": pl.List(pl.String()),
    "weight": pl.Float64(),
    "state": pl.String(),  # "protective" (weight > 0), "risk" (weight < 0), "neutral" (0); as curated without a weight
    "allele_state": pl.String(),  # source row: "ref", "alt" or "spec"
    "zygosity": pl.String(),  # "hom" or "het"
    "priority": pl.Float64(),
    "conclusion": pl.String(),
    "gene": pl.String(),
    "category": pl.String(),  # longevitymap pathway category; null elsewhere
}

ANNOTATIONS_SCHEMA: dict[str, pl.DataType] = {
    "rsid": pl.String(),
    "gene": pl.String(),
    "phenotype": pl.String(),
    "category": pl.String(),
}

STUDIES_SCHEMA: dict[str, pl.DataType] = {
    "rsid": pl.String(),
    "pmid": pl.String(),
    "population": pl.String(),
    "p_value": pl.String(),
    "conclusion": pl.String(),
    "study_design": pl.String(),
}

# Where the person's own file holds a site's genotype, in the file's build (chrom/start stay the modules'
# GRCh38): the position of the record the genotype was read from (at the lifted position, or by rsID wherever
# the file lists it; for a dbSNP-style deletion, its deleted bases' start), or, for an inferred hom-ref, the
# position looked at. On a GRCh38 sample they equal chrom/start, unless a record was found by rsID elsewhere.
SAMPLE_POSITION_SCHEMA: dict[str, pl.DataType] = {"sample_chrom": pl.String(), "sample_start": pl.Int64()}

# What the matcher writes per module: `{OUTPUT_DIR}/users/{user}/{sample}/modules/{module}_weights.parquet`
# (results written before the sample position was recorded lack its two columns; the report reads them still).
MATCHED_SCHEMA: dict[str, pl.DataType] = {
    "module": pl.String(),
    "rsid": pl.String(),
    "chrom": pl.String(),
    "start": pl.Int64(),
    "ref": pl.String(),
    "genotype": pl.List(pl.String()),  # the person's genotype (sorted alleles), equal to the row's
    "gt": pl.String(),  # the raw GT of the call ("0|1"), or "0/0*" when hom-ref was inferred
    "zygosity": pl.String(),
    "weight": pl.Float64(),
    "state": pl.String(),
    "priority": pl.Float64(),
    "conclusion": pl.String(),
    "gene": pl.String(),
    "category": pl.String(),
    "evidence": pl.String(),  # "call" (genotype read from the VCF) or "inferred_hom_ref"
    **SAMPLE_POSITION_SCHEMA,
}
