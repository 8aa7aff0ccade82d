"""superhuman: protective ("superhuman") alleles, narrowed by the PMID curation CSV.

The source has one row per (rsid, alt) with a zygosity (`hom`, `het`, `both`) and rarely a genotype.
Kept rows: rsids the curation names (scope `rsid`), plus the curation's own additions (rows with a
`genotype` cell, e.g. `G/T T/T`). Genotypes: the explicit genotype if any; else from ref/alt (the
source's, or the GRCh38 `snps` table's when it has exactly one alt): hom -> [alt, alt],
het -> sorted([ref, alt]), both -> both. A row naming no allele at a multi-allelic or unknown locus
is dropped: guessing which alt is protective would invent a claim. Gene-level (`gene-indel`) grounding
names no alleles, so those source indels cannot become genotypes and are counted as dropped.
The source has no effect sizes: weight is null and state is `protective` on every row.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.compilers.common import (
    CompiledModule,
    Row,
    annotations_frame,
    clean,
    finish_weights,
    load_curation,
    read_table,
    studies_frame,
    valid_rsid,
    weight_row,
)
from just_dna_pipelines.modules.dropped import NOT_NAMED_BY_CURATION
from just_dna_pipelines.modules.genotypes import BASES, Locus, genotype_from_letters

CURATION = Path("gen2_curation") / "superhuman_pmid_curation.csv"


def _allele(value: object) -> str | None:
    """An upper-case A/C/G/T allele, or None (`-`, blanks, symbols)."""
    text = (clean(value) or "").upper()
    return text if text and set(text) <= BASES else None


def _position(value: object) -> tuple[str, int] | None:
    """`1:156860987` -> ("1", 156860987); ranges and blanks -> None."""
    text = clean(value) or ""
    chrom, _, pos = text.partition(":")
    return (chrom.removeprefix("chr"), int(pos)) if chrom and pos.isdigit() else None


def _genotypes(ref: str, alt: str, zygosity: str) -> list[list[str]]:
    """Carrier genotypes of `alt` for a zygosity of hom, het or both."""
    hom, het = [alt, alt], sorted([ref, alt])
    return {"hom": [hom], "het": [het]}.get(zygosity, [het, hom])


def compile_superhuman(folder: Path, loci: dict[str, Locus]) -> CompiledModule:
    """Compile the superhuman SQLite folder into the three module tables."""
    db = folder / "superhuman.sqlite"
    if not db.is_file():
        raise ModuleSourceError(f"no superhuman.sqlite in {folder}")
    module = CompiledModule("superhuman", [db])
    curation = load_curation(folder / CURATION) if (folder / CURATION).is_file() else None
    if curation is None:
        module.notes.append("no PMID curation: every source row kept, no studies")
    else:
        module.sources.append(folder / CURATION)
    named = {c["rsid"] for c in curation or [] if c["scope"] == "rsid" and not c["genotype"]}
    override = {c["rsid"]: c["conclusion"] for c in curation or [] if c["conclusion"]}

    source = read_table(db, "superhuman")
    own_loci = _source_loci(source, loci)
    rows: list[Row] = []
    annotations: list[Row] = []
    for r in source:
        rsid = valid_rsid(r.get("rsid"))
        if rsid is None:
            continue  # citation-only rows without a variant
        if curation is not None and rsid not in named:
            module.dropped[NOT_NAMED_BY_CURATION] += 1
            continue
        genotypes = _row_genotypes(r, own_loci.get(rsid))
        if not genotypes:
            module.dropped["no allele named at a multi-allelic or unknown locus"] += 1
            module.notes.append(
                f"dropped {rsid} ({clean(r.get('gene'))}): no allele to build a genotype from"
            )
            continue
        superability = clean(r.get("superability")) or "Beneficial variant"
        adverse = clean(r.get("adverse_effects"))
        conclusion = override.get(rsid) or superability + (f" Adverse effects: {adverse}" if adverse else "")
        rows.extend(_protective_rows(rsid, genotypes, own_loci.get(rsid), conclusion, clean(r.get("gene"))))
        annotations.append(
            {"rsid": rsid, "gene": clean(r.get("gene")), "phenotype": superability, "category": None}
        )
    for c in curation or []:
        if c["scope"] == "rsid" and c["genotype"]:
            genotypes = [g for text in c["genotype"].split() if (g := genotype_from_letters(text))]
            rows.extend(
                _protective_rows(c["rsid"], genotypes, own_loci.get(c["rsid"]), c["conclusion"], c["gene"])
            )
            annotations.append(
                {"rsid": c["rsid"], "gene": c["gene"], "phenotype": c["conclusion"], "category": None}
            )
    module.weights = finish_weights(module, rows, own_loci)
    weighted = set(module.weights["rsid"].to_list())
    module.annotations = annotations_frame([a for a in annotations if a["rsid"] in weighted])
    module.studies = studies_frame(
        [
            {
                "rsid": c["rsid"],
                "pmid": c["pmid"],
                "population": c["population"] or None,
                "p_value": c["p_value"] or None,
                "conclusion": c["conclusion"] or override.get(c["rsid"]),
                "study_design": c["study_design"] or None,
            }
            for c in curation or []
            if c["rsid"] in weighted
        ]
    )
    return module


def _source_loci(source: Iterable[Row], loci: dict[str, Locus]) -> dict[str, Locus]:
    """GRCh38 loci: the `snps` table's where it knows the rsid, else `location_38` + the source ref/alts."""
    found: dict[str, Locus] = {}
    for r in source:
        rsid, pos, ref, alt = valid_rsid(r.get("rsid")), _position(r.get("location_38")), None, None
        ref, alt = _allele(r.get("ref_allele")), _allele(r.get("alt_allele"))
        if rsid is None or rsid in loci or pos is None or ref is None:
            continue
        known = found.get(rsid) or Locus(pos[0], pos[1], ref, ())
        if alt and alt not in known.alts:
            known = Locus(known.chrom, known.start, known.ref, (*known.alts, alt))
        found[rsid] = known
    return {**found, **loci}


def _row_genotypes(r: Row, locus: Locus | None) -> list[list[str]]:
    """The carrier genotypes one source row stands for (see the module docstring)."""
    explicit = genotype_from_letters(r.get("genotype"))
    if explicit:
        return [explicit]
    zygosity = (clean(r.get("zygosity")) or "").lower()
    ref, alt = _allele(r.get("ref_allele")), _allele(r.get("alt_allele"))
    if ref and alt:
        return _genotypes(ref, alt, zygosity)
    if locus is not None and len(locus.alts) == 1:
        return _genotypes(locus.ref, locus.alts[0], zygosity)
    return []


def _protective_rows(
    rsid: str, genotypes: list[list[str]], locus: Locus | None, conclusion: str | None, gene: str | None
) -> list[Row]:
    """Weights rows for protective genotypes (no effect size in the source: weight null)."""
    return [
        weight_row(rsid, g, None, locus=locus, conclusion=conclusion, gene=gene, state="protective")
        for g in genotypes
    ]
