"""A synthetic whole-genome-sized annotation result: every module, ~1,000 longevity variants with studies."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl

from just_dna_pipelines.modules.schema import ANNOTATIONS_SCHEMA, MATCHED_SCHEMA, STUDIES_SCHEMA
from just_dna_pipelines.report.categories import LONGEVITY_CATEGORIES

CATEGORIES = [key for key, _, _ in LONGEVITY_CATEGORIES]
# Rows per module, about what a whole genome matches (longevitymap: ~1,000 of its 1,039 weight rows' rsids).
ROWS = {
    "longevitymap": 1000,
    "lipidmetabolism": 15,
    "vo2max": 13,
    "superhuman": 60,
    "coronary": 27,
    "thrombophilia": 9,
}
GENES = ["APOE", "FOXO3", "SOD2", "SIRT1", "MTOR", "TP53", "ACE", "HSPA1A", "IL6", "ADARB1", "CETP", "IGF1R"]
DESIGN = (
    "Association study of candidate genes with exceptional longevity in 1,500 centenarians of North European "
    "ancestry and 2,000 younger controls matched for sex and region"
)
CONCLUSION = (
    "Carriers of the minor allele were more frequent among centenarians than controls; the association "
    "replicated in an independent cohort but not in a third population."
)


def write_synthetic_sample(root: Path, seed: int = 7) -> Path:
    """Write the sample folder and module folders under `root`; return the sample folder."""
    rng = random.Random(seed)
    sample_dir = root / "users" / "bench" / "wgs"
    results = sample_dir / "modules"
    results.mkdir(parents=True, exist_ok=True)
    modules_root = root / "modules"
    entries = {}
    for module, count in ROWS.items():
        rows, annotations, studies = [], [], []
        for i in range(count):
            rsid = f"rs{1000000 + i * 7 + len(module)}"
            weight = round(rng.choice([-1, 1]) * rng.choice([0.035, 0.07, 0.14, 0.175, 0.35, 0.5, 1.0]), 4)
            hom = rng.random() < 0.4
            rows.append(
                {
                    "module": module,
                    "rsid": rsid,
                    "chrom": str(rng.randint(1, 22)),
                    "start": rng.randint(10_000, 200_000_000),
                    "ref": "G",
                    "genotype": ["A", "A"] if hom else ["A", "G"],
                    "gt": "1|1" if hom else "0|1",
                    "zygosity": "hom" if hom else "het",
                    "weight": weight,
                    "state": "protective" if weight > 0 else "risk",
                    "priority": 0.35,
                    "conclusion": f"{CONCLUSION[: rng.randint(60, len(CONCLUSION))]} ({rsid})",
                    "gene": rng.choice(GENES),
                    "category": rng.choice(CATEGORIES) if module == "longevitymap" else None,
                    "evidence": "call",
                }
            )
            annotations.append(
                {"rsid": rsid, "gene": rows[-1]["gene"], "phenotype": "longevity", "category": None}
            )
            for j in range(rng.randint(1, 3)):
                studies.append(
                    {
                        "rsid": rsid,
                        "pmid": str(20000000 + i * 3 + j),
                        "population": rng.choice(["Danish", "Italian", "Japanese", "American (Caucasian)"]),
                        "p_value": f"{rng.random() / 100:.2g}",
                        "conclusion": CONCLUSION,
                        "study_design": DESIGN,
                    }
                )
        folder = modules_root / module
        folder.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(rows, schema=MATCHED_SCHEMA).write_parquet(results / f"{module}_weights.parquet")
        pl.DataFrame(annotations, schema=ANNOTATIONS_SCHEMA).write_parquet(folder / "annotations.parquet")
        pl.DataFrame(studies, schema=STUDIES_SCHEMA).write_parquet(folder / "studies.parquet")
        sites = count * 2
        entries[module] = {
            "status": "done",
            "reason": None,
            "version": "0.5",
            "sha256": "ab" * 32,
            "matched": count,
            "protective": sum(r["weight"] > 0 for r in rows),
            "risk": sum(r["weight"] < 0 for r in rows),
            "net_weight": sum(r["weight"] for r in rows),
            "ledger": {
                "sites": sites,
                "called": count,
                "no_call": 3,
                "inferred_hom_ref": count // 2,
                "not_testable": sites - count - count // 2 - 3,
                "not_testable_reasons": {"absent": sites - count - count // 2 - 3},
            },
            "output": f"{module}_weights.parquet",
        }
    manifest = {
        "user": "bench",
        "sample": "wgs",
        "partition_key": "bench/wgs",
        "run_id": "bench-run",
        "created_at": "2026-11-22T03:00:00Z",
        "pipeline_version": "0.1.0",
        "engine": "polars",
        "input": {
            "file_name": "wgs.vcf.gz",
            "sha256": "cd" * 32,
            "sample_column": "wgs",
            "samples": ["wgs"],
            "genome_build": "GRCh38",
            "contig_naming": "chr",
            "is_gvcf": False,
            "records": 4_800_000,
            "records_kept": 4_750_000,
        },
        "filters": {"pass_only": True, "min_depth": None, "min_quality": None},
        "confident_regions": None,
        "modules_source": {
            "kind": "local",
            "label": str(modules_root),
            "root": str(modules_root),
            "revision": None,
        },
        "modules": entries,
    }
    (results / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return sample_dir
