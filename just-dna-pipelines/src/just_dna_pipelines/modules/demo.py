"""Demo data: five small synthetic modules and a matching synthetic VCF, for trying the app offline.

Nothing here describes a real person or a real finding: positions, weights and studies are made up.
Each demo variant says which call the demo sample carries, so the VCF hits a heterozygous row, a
homozygous-alt row, an explicit 0/0, a no-call (./.) and a site absent from the VCF.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from just_dna_pipelines.io.atomic import atomic_dir
from just_dna_pipelines.io.file_lock import file_lock
from just_dna_pipelines.modules.catalog import GENOME_BUILD, defaults_for
from just_dna_pipelines.modules.genotypes import state_from_weight
from just_dna_pipelines.modules.schema import (
    ANNOTATIONS_SCHEMA,
    KNOWN_MODULES,
    STUDIES_SCHEMA,
    WEIGHTS_SCHEMA,
)
from just_dna_pipelines.modules.writer import MODULE_JSON, write_module
from just_dna_pipelines.settings import get_settings

DEMO_VERSION = "demo-1"
DEMO_SAMPLE = "DEMO"
DEMO_VCF_NAME = "demo_sample.vcf"

# GRCh38 primary assembly lengths, for the VCF header.
GRCH38_LENGTHS: dict[str, int] = {
    "chr1": 248956422, "chr2": 242193529, "chr3": 198295559, "chr4": 190214555, "chr5": 181538259,
    "chr6": 170805979, "chr7": 159345973, "chr8": 145138636, "chr9": 138394717, "chr10": 133797422,
    "chr11": 135086622, "chr12": 133275309, "chr13": 114364328, "chr14": 107043718, "chr15": 101991189,
    "chr16": 90338345, "chr17": 83257441, "chr18": 80373285, "chr19": 58617616, "chr20": 64444167,
    "chr21": 46709983, "chr22": 50818468, "chrX": 156040895, "chrY": 57227415, "chrM": 16569,
}  # fmt: skip


@dataclass(frozen=True)
class DemoVariant:
    """A synthetic variant: where it is, what each genotype weighs, and what the demo sample carries."""

    module: str
    rsid: str
    chrom: str  # without "chr"
    start: int
    ref: str
    alt: str
    gene: str
    het_weight: float
    hom_weight: float
    sample_gt: str | None  # the demo VCF's GT, or None when the site is absent from the VCF
    category: str | None = None
    ref_weight: float | None = None  # a weighted hom-ref row too, so an explicit 0/0 can hit one


DEMO_VARIANTS: tuple[DemoVariant, ...] = (
    DemoVariant("longevitymap", "rs990000101", "1", 1_100_000, "C", "T", "DEMOA1", 0.5, 1.0, "0/1", "lipids"),
    DemoVariant(
        "longevitymap", "rs990000102", "2", 2_200_000, "G", "A", "DEMOB2", -0.25, -0.5, "1/1", "insulin"
    ),
    DemoVariant(
        "longevitymap", "rs990000103", "3", 3_300_000, "A", "G", "DEMOC3", 0.2, 0.4, "0/0", "antioxidant", 0.3
    ),
    DemoVariant("longevitymap", "rs990000104", "4", 4_400_000, "T", "C", "DEMOD4", 0.3, 0.6, "./.", "mtor"),
    DemoVariant(
        "longevitymap", "rs990000105", "5", 5_500_000, "G", "T", "DEMOE5", -0.3, -0.6, None, "sirtuin"
    ),
    DemoVariant(
        "longevitymap", "rs990000106", "6", 6_600_000, "C", "G", "DEMOF6", 0.15, 0.3, "0|1", "inflammation"
    ),
    DemoVariant("lipidmetabolism", "rs990000201", "8", 8_100_000, "C", "G", "DEMOLP", -0.4, -0.8, "0/1"),
    DemoVariant("lipidmetabolism", "rs990000202", "11", 11_200_000, "A", "G", "DEMOAP", 0.35, 0.7, "1/1"),
    DemoVariant("vo2max", "rs990000301", "7", 7_100_000, "G", "A", "DEMOVO", -0.5, -1.0, "0/1"),
    DemoVariant("vo2max", "rs990000302", "12", 12_200_000, "T", "A", "DEMOAM", 0.5, 1.0, "./."),
    DemoVariant("superhuman", "rs990000401", "16", 16_100_000, "C", "T", "DEMOSH", 0.0, 0.0, "1/1"),
    DemoVariant("superhuman", "rs990000402", "19", 19_200_000, "T", "C", "DEMOAP2", 0.0, 0.0, None),
    DemoVariant("coronary", "rs990000501", "9", 9_100_000, "A", "G", "DEMOCD", -0.65, -1.3, "0/1"),
    DemoVariant(
        "coronary", "rs990000502", "21", 21_200_000, "T", "C", "DEMOFM", -0.15, -0.3, "0/0", None, -0.3
    ),
)


def _weights(variants: list[DemoVariant], name: str) -> pl.DataFrame:
    """The weights table of one demo module."""
    rows = []
    for v in variants:
        genotypes = [(sorted([v.ref, v.alt]), v.het_weight, "alt"), ([v.alt, v.alt], v.hom_weight, "alt")]
        if v.ref_weight is not None:
            genotypes.append(([v.ref, v.ref], v.ref_weight, "ref"))
        for genotype, weight, allele_state in genotypes:
            # superhuman rows are protective alleles without an effect size, like the real module.
            state = "protective" if name == "superhuman" else state_from_weight(weight)
            rows.append(
                {
                    "rsid": v.rsid, "chrom": v.chrom, "start": v.start, "ref": v.ref, "alts": [v.alt],
                    "genotype": genotype, "weight": None if name == "superhuman" else weight, "state": state,
                    "allele_state": allele_state, "zygosity": "hom" if genotype[0] == genotype[1] else "het",
                    "priority": 0.5, "gene": v.gene, "category": v.category,
                    "conclusion": f"Demo: {'/'.join(genotype)} at synthetic {v.gene} ({state}).",
                }
            )  # fmt: skip
    return pl.DataFrame(rows, schema=WEIGHTS_SCHEMA, orient="row")


def _tables(name: str) -> dict[str, pl.DataFrame]:
    """The three tables of one demo module."""
    variants = [v for v in DEMO_VARIANTS if v.module == name]
    annotations = [
        {
            "rsid": v.rsid,
            "gene": v.gene,
            "phenotype": f"Demo phenotype ({defaults_for(name).title})",
            "category": v.category,
        }
        for v in variants
    ]
    studies = [
        {
            "rsid": v.rsid, "pmid": f"demo-{i}", "population": "Synthetic cohort", "p_value": "1e-5",
            "conclusion": f"Demo study {i} of {v.gene} (synthetic, not a real publication).",
            "study_design": "demo",
        }
        for v in variants
        for i in (1, 2)
    ]  # fmt: skip
    return {
        "weights": _weights(variants, name),
        "annotations": pl.DataFrame(annotations, schema=ANNOTATIONS_SCHEMA, orient="row"),
        "studies": pl.DataFrame(studies, schema=STUDIES_SCHEMA, orient="row"),
    }


def demo_modules_dir() -> Path:
    """Where the demo modules live: `{cache_dir}/demo-modules`."""
    return get_settings().cache_dir / "demo-modules"


def _is_current(root: Path) -> bool:
    """Whether `root` holds every demo module of this DEMO_VERSION."""
    try:
        return all(
            json.loads((root / name / MODULE_JSON).read_text())["version"] == DEMO_VERSION
            for name in KNOWN_MODULES
        )
    except (OSError, ValueError, KeyError):
        return False


def ensure_demo_modules() -> Path:
    """Generate the demo module set once and return its folder.

    Built in a temporary folder and renamed into place under a lock, so processes starting together (the CLI,
    the web app, run workers) never see the folder half-written, missing, or swapped while they read it.
    """
    root = demo_modules_dir()
    if _is_current(root):
        return root
    with file_lock(root.parent / ".demo-modules.lock"):
        if _is_current(root):  # another process built it while we waited
            return root
        with atomic_dir(root) as temp:  # in place of an older DEMO_VERSION's, if any
            for name in KNOWN_MODULES:
                write_module(temp, name, _tables(name), _meta(name))
    return root


def _meta(name: str) -> dict[str, object]:
    """module.json of one demo module."""
    defaults = defaults_for(name)
    return {
        "name": name,
        "title": f"{defaults.title} (demo data)",
        "description": f"Synthetic demo rows for trying the app; not real findings. {defaults.description}",
        "version": DEMO_VERSION,
        "genome_build": GENOME_BUILD,
        "demo": True,
        "built_from": [],
    }


def ensure_demo_sample(directory: Path) -> Path:
    """Write the demo VCF (one sample, DEMO) into `directory` if absent, atomically; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DEMO_VCF_NAME
    if path.is_file():
        return path
    lines = [
        "##fileformat=VCFv4.2",
        "##source=just-dna-lite DEMO sample: synthetic genotypes, not a real person",
        "##reference=GRCh38",
        *(f"##contig=<ID={c},length={n},assembly=GRCh38>" for c, n in GRCH38_LENGTHS.items()),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", DEMO_SAMPLE]),
    ]
    order = list(GRCH38_LENGTHS)
    called = sorted(
        (v for v in DEMO_VARIANTS if v.sample_gt), key=lambda v: (order.index(f"chr{v.chrom}"), v.start)
    )
    for v in called:
        dp, gq = ("0", ".") if v.sample_gt == "./." else ("32", "99")
        lines.append("\t".join([f"chr{v.chrom}", str(v.start), v.rsid, v.ref, v.alt, "50", "PASS", ".", "GT:DP:GQ", f"{v.sample_gt}:{dp}:{gq}"]))  # fmt: skip
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path
