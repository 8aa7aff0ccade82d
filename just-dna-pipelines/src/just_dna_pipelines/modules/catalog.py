"""Display defaults of the known modules, used when a source has no module.json (as on Hugging Face)."""

from __future__ import annotations

from dataclasses import dataclass

GENOME_BUILD = "GRCh38"
# The modules the just-dna-seq/annotators dataset publishes (used to lay out the asset graph before it is cached).
HUB_MODULES: tuple[str, ...] = (
    "coronary",
    "thrombophilia",
    "lipidmetabolism",
    "vo2max",
    "longevitymap",
    "superhuman",
    "cardio",
    "cancer",
    "pathogenic",
    "pharmgkb",
)


@dataclass(frozen=True)
class ModuleDefaults:
    """Title and description shown for a module."""

    title: str
    description: str


DEFAULTS: dict[str, ModuleDefaults] = {
    "longevitymap": ModuleDefaults(
        "Longevity map",
        "Variants associated with human longevity (LongevityMap, Human Ageing Genomic Resources), "
        "weighted per genotype and grouped into 12 pathway categories.",
    ),
    "lipidmetabolism": ModuleDefaults(
        "Lipid metabolism",
        "Variants in lipid metabolism genes (LPL, CETP, APOA5, ...) and their effect on blood lipids.",
    ),
    "vo2max": ModuleDefaults(
        "VO2max",
        "Variants associated with the response of maximal oxygen uptake (VO2max) to endurance training.",
    ),
    "superhuman": ModuleDefaults(
        "Superhuman alleles",
        "Rare protective alleles that give unusual abilities or resistance to disease.",
    ),
    "coronary": ModuleDefaults(
        "Coronary artery disease",
        "GWAS variants associated with coronary artery disease risk.",
    ),
    "thrombophilia": ModuleDefaults(
        "Thrombophilia",
        "Variants associated with an inherited tendency to blood clotting.",
    ),
    "cardio": ModuleDefaults(
        "Cardiovascular health",
        "Variants associated with cardiovascular traits and disease risk.",
    ),
    "cancer": ModuleDefaults(
        "Cancer predisposition",
        "Variants in genes associated with inherited cancer risk.",
    ),
    "pathogenic": ModuleDefaults(
        "Pathogenic variants",
        "Variants classified as pathogenic or likely pathogenic in clinical databases.",
    ),
    "pharmgkb": ModuleDefaults(
        "Pharmacogenomics (PharmGKB)",
        "Variants that change how a person responds to drugs, from PharmGKB's clinical annotations.",
    ),
}


def defaults_for(name: str) -> ModuleDefaults:
    """The built-in title/description of a module, or a plain one made from its name."""
    return DEFAULTS.get(name) or ModuleDefaults(name, f"Annotation module {name}.")
