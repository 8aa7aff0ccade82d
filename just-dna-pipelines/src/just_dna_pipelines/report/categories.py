"""Names and words the report uses for modules, longevitymap pathway categories and ledger reasons."""

from __future__ import annotations

from just_dna_pipelines.annotation.regions import MIN_BLOCK_GQ

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
    "absent": "not in the file, and nothing proves the reference genotype there (no confident gVCF block, "
    f"GQ {MIN_BLOCK_GQ} or more with reads, and no confident-regions BED covers it)",
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
    "within_a_variant": "inside a longer variant the file calls for you there (e.g. a deletion), so your base "
    "at this position cannot be told",
    "one_copy_call": "the file gives one allele on a chromosome you have two copies of (the other copy lost, "
    "e.g. a deletion), so your genotype there cannot be told",
    "allele_mismatch": "alleles do not match the reference (strand?): the file's alleles are not among the "
    "module's reference and alternative alleles",
    "unresolved_allele": "the file's call there names an allele it does not spell out (an unobserved allele "
    "such as <*> or <NON_REF>, a structural variant, or a deletion covering the site), so your genotype there "
    "cannot be compared with the module's",
    "indel_call": "the array reports an insertion/deletion call (I/D), which cannot be compared with the "
    "module's alleles",
}

# Why a curated variant never became a site to test: the module compiler's drop reasons (module.json `dropped`)
# -> (what the compiler counted, words for a non-specialist). Reasons not listed are shown as they are.
DROPPED_REASONS: dict[str, tuple[str, str]] = {
    "no allele named at a multi-allelic or unknown locus": (
        "variants",
        "the module's source names no allele, so there is no genotype to look for",
    ),
    "allele not observed at the GRCh38 locus": (
        "genotypes",
        "the allele named is never observed at the variant's GRCh38 position (likely a strand slip in the "
        "module's source), so no call can match",
    ),
    "no rsid or no two-base genotype": (
        "genotypes",
        "the module's source gives no rsID, or a genotype that is not two single bases (such as a deletion)",
    ),
    "invalid rsid": ("genotypes", "the module's source gives no valid rsID"),
    "allele is not made of A/C/G/T": (
        "genotypes",
        "the module's source spells the allele with something other than A, C, G or T",
    ),
    "spec allele is not two bases": (
        "genotypes",
        "the module's source spells a genotype that is not two bases",
    ),
    "heterozygous row without a known locus": (
        "genotypes",
        "no position is known for the variant, so the second allele of the heterozygous genotype is unknown",
    ),
    "alt row names the reference allele": (
        "genotypes",
        "the module's source names the reference allele as the alternative one",
    ),
    "ref/het row at a multi-allelic locus": (
        "genotypes",
        "the variant has several alternative alleles and the module's source does not say which one the "
        "heterozygous genotype carries",
    ),
}


def untestable_in_module_text(module: str, reason: str, count: int) -> str:
    """One sentence: how many of a module's curated variants could not be tested for one drop reason, and why."""
    what, words = DROPPED_REASONS.get(reason, ("entries", reason))
    return f"{count} of {module}'s curated {what} could not be tested: {words}."


def reason_words(code: str) -> str:
    """Words for a ledger reason code; unknown codes are shown as they are, underscores spaced."""
    return UNTESTED_REASONS.get(code, code.replace("_", " "))


def module_title(name: str) -> tuple[str, str]:
    """Title and one-line description of a module when its module.json says nothing."""
    return MODULE_TITLES.get(name, (name, ""))
