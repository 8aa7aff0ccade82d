"""Names and words the report uses for modules, longevitymap pathway categories and ledger reasons."""

from __future__ import annotations

# The 12 longevitymap pathway categories, in the order the report lists them: (key, title, one-line description).
LONGEVITY_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("lipids", "Lipids", "Transport and metabolism of cholesterol and fats (e.g. APOE, CETP)."),
    (
        "insulin",
        "Insulin / IGF-1 signalling",
        "Nutrient sensing through insulin and IGF-1 (e.g. FOXO3, IGF1R).",
    ),
    (
        "antioxidant",
        "Antioxidant defence",
        "Enzymes that neutralise reactive oxygen species (e.g. SOD2, GPX1).",
    ),
    ("mitochondria", "Mitochondria", "Energy production and mitochondrial maintenance."),
    ("sirtuin", "Sirtuins", "NAD+-dependent deacetylases linked to calorie restriction (e.g. SIRT1)."),
    ("mtor", "mTOR", "The mTOR growth pathway that integrates nutrients and growth signals."),
    (
        "tumor-suppressor",
        "Tumour suppressors",
        "Genes that restrain cell growth and cancer (e.g. TP53, CDKN2A).",
    ),
    ("renin-angiotensin", "Renin-angiotensin system", "Blood-pressure regulation (e.g. ACE, AGT)."),
    ("heat-shock", "Heat-shock response", "Chaperones that protect proteins under stress (e.g. HSPA1A)."),
    ("inflammation", "Inflammation", "Immune signalling and inflammatory cytokines (e.g. IL6, TNF)."),
    ("genome_maintenance", "Genome maintenance", "DNA repair, telomeres and RNA editing (e.g. WRN, ADARB1)."),
    ("other", "Other", "Variants that the curators did not assign to one of the pathways above."),
)

MODULE_TITLES: dict[str, tuple[str, str]] = {
    "longevitymap": ("Longevity (LongevityMap)", "Variants studied for association with human longevity."),
    "lipidmetabolism": ("Lipid metabolism", "Variants affecting blood lipids and cardiovascular risk."),
    "vo2max": ("VO2 max", "Variants associated with aerobic capacity and response to training."),
    "superhuman": ("Superhuman traits", "Rare variants with unusual protective or performance effects."),
    "coronary": ("Coronary artery disease", "Variants associated with coronary artery disease risk."),
    "thrombophilia": ("Thrombophilia", "Variants associated with blood-clotting disorders."),
}

# Why a site could not be tested: the annotation step's reason codes -> words for a non-specialist.
UNTESTED_REASONS: dict[str, str] = {
    "no_call": "in the file but without a genotype call (./.)",
    "filtered": "in the file but removed by the filters (PASS, depth or quality)",
    "ref_mismatch": "in the file with a reference allele different from the module's (another build or strand)",
    "absent": "not in the file, and nothing proves the reference genotype there (no gVCF block or confident-regions BED)",
    "rsid_absent": "its rsID is not in the file",
    "chromosome_not_in_vcf": "the file has no records on its chromosome at all",
    "genome_build_mismatch": "the file is not on GRCh38 (the build of the module's positions) and has no rsIDs",
    "no_coordinates_and_no_rsids": "the module has no GRCh38 position for it and the file has no rsIDs",
    "no_unique_grch37_position": "no unique GRCh37 position: lifting its GRCh38 position gives none, several, "
    "or another chromosome (and it was not found by rsID)",
    "lift_reverse_strand": "its GRCh38 position lifts to the reverse strand of GRCh37, so it is not matched by "
    "position, and it was not found by rsID",
    "no_liftover_chain": "the file is GRCh37 and no liftover chain was available, so positions were not used, "
    "and its rsID is not in the file",
    "build_unknown": "the file's genome build is unknown (or older than GRCh37), so positions were not used, "
    "and its rsID is not in the file",
    "not_on_array": "not on this DNA-test array (an array reads a fixed set of positions)",
    "conflicting_calls": "the file calls it twice with different genotypes, so it does not say which is yours",
    "allele_mismatch": "alleles do not match the reference (strand?): the file's alleles are not among the "
    "module's reference and alternative alleles",
    "indel_call": "the array reports an insertion/deletion call (I/D), which cannot be compared with the "
    "module's alleles",
}


def reason_words(code: str) -> str:
    """Words for a ledger reason code; unknown codes are shown as they are, underscores spaced."""
    return UNTESTED_REASONS.get(code, code.replace("_", " "))


def module_title(name: str) -> tuple[str, str]:
    """Title and one-line description of a module when its module.json says nothing."""
    return MODULE_TITLES.get(name, (name, ""))
