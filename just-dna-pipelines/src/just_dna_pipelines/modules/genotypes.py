"""Genotype rules shared by the module compilers: from source rows to sorted allele lists.

LongevityMap stores an effect allele with a `state` (`ref`, `alt`, `spec`) and a `zygosity`
(`hom`, `het`) instead of a genotype. With the GRCh38 locus (ref + alts) it maps as follows:

| state | zygosity | genotype                        | needs the locus? |
|-------|----------|---------------------------------|------------------|
| alt   | hom      | [allele, allele]                | no               |
| alt   | het      | sorted([ref, allele])           | yes (ref)        |
| ref   | hom      | [ref, ref] (= [allele, allele]) | no               |
| ref   | het      | sorted([allele, alt])           | yes, one alt only |
| spec  | any      | sorted(two letters of allele)   | no               |

The curation CSVs are keyed by these raw genotypes, so they are applied next. Only then is every
genotype checked against its locus (all modules): an allele not observed there (neither ref nor a
known alt) is an authoring slip, usually a minus-strand spelling. It is never complemented on a
guess: the curation CSV fixes the known cases by name, and what remains is dropped and reported (a
genotype that no forward-strand call can carry would only ever match by accident).
"""

from __future__ import annotations

from dataclasses import dataclass

BASES = frozenset("ACGT")


@dataclass(frozen=True)
class Locus:
    """A GRCh38 site: chrom without `chr`, 1-based start, reference allele and known alts."""

    chrom: str
    start: int
    ref: str
    alts: tuple[str, ...]

    @property
    def alleles(self) -> frozenset[str]:
        """Every allele observed at the site."""
        return frozenset((self.ref, *self.alts))


@dataclass(frozen=True)
class GenotypeResult:
    """A mapped genotype, or None with the reason it could not be mapped."""

    genotype: list[str] | None
    reason: str | None = None


def state_from_weight(weight: float | None) -> str:
    """`protective` for a positive weight, `risk` for a negative one, `neutral` for zero or none."""
    if weight is None or weight == 0:
        return "neutral"
    return "protective" if weight > 0 else "risk"


def effect_of(weight: float | None, state: str | None) -> str:
    """How a matched row counts: `protective` or `risk` by its weight's sign; a row without a weight (superhuman's
    rows are curated as protective and carry none) by the state its module gives it; else `neutral`."""
    if weight:
        return "protective" if weight > 0 else "risk"
    return state if state in ("protective", "risk") else "neutral"


def genotype_from_letters(text: str | None) -> list[str] | None:
    """Sorted alleles of a genotype spelled `CG`, `C/G`, `C|G` or `G C`; None unless two single bases."""
    if text is None:
        return None
    cleaned = text.strip().upper()
    for sep in ("/", "|", " "):
        cleaned = cleaned.replace(sep, "")
    if len(cleaned) != 2 or not set(cleaned) <= BASES:
        return None
    return sorted(cleaned)


def genotype_key(genotype: list[str]) -> str:
    """The `C/G` spelling of a sorted genotype, as the curation CSVs write it."""
    return "/".join(genotype)


def longevitymap_genotype(allele: str, state: str, zygosity: str, locus: Locus | None) -> GenotypeResult:
    """Map one LongevityMap `allele_weights` row to a genotype (see the module docstring's table)."""
    allele = (allele or "").strip().upper()
    state = (state or "").strip().lower()
    zygosity = (zygosity or "").strip().lower()
    if state == "spec":
        letters = genotype_from_letters(allele)
        return GenotypeResult(letters) if letters else GenotypeResult(None, "spec allele is not two bases")
    if not allele or not set(allele) <= BASES:
        return GenotypeResult(None, "allele is not made of A/C/G/T")
    if zygosity == "hom":
        return GenotypeResult([allele, allele])
    if zygosity != "het":
        return GenotypeResult(None, f"unknown zygosity {zygosity!r}")
    if locus is None:
        return GenotypeResult(None, "heterozygous row without a known locus")
    if state == "alt":
        if allele == locus.ref:
            return GenotypeResult(None, "alt row names the reference allele")
        return GenotypeResult(sorted([locus.ref, allele]))
    if state == "ref":
        if len(locus.alts) != 1:
            return GenotypeResult(None, "ref/het row at a multi-allelic locus")
        return GenotypeResult(sorted([allele, locus.alts[0]]))
    return GenotypeResult(None, f"unknown state {state!r}")


def off_locus_alleles(genotype: list[str], locus: Locus | None) -> list[str]:
    """Alleles of `genotype` not observed at `locus` (none when the locus is unknown)."""
    if locus is None:
        return []
    return sorted({a for a in genotype if a not in locus.alleles})
