"""coronary: one `coronary_disease` table with a row per (rsid, genotype), PMIDs as free text.

The genotype is the `Genotype` column's two letters, sorted. The source's `state`/`zygosity` columns
disagree with its own genotypes (e.g. `AA` labelled alt/hom where A is the reference), so they are
not used; `allele_state` is derived instead: `ref` when both alleles are the reference, else `alt`.
Each genotype row repeats its rsid's citations (PMIDs, population, design, p-value), with cells that
drift from row to row (`European` beside `European; Chinese`); they describe the same papers, not
other results, so a study is taken once per (rsid, PMID), from the first genotype row naming it.
"""

from __future__ import annotations

from pathlib import Path

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.compilers.common import (
    CompiledModule,
    Row,
    annotations_frame,
    apply_weight_curation,
    clean,
    finish_weights,
    load_curation,
    parse_pmids,
    parse_weight,
    read_table,
    studies_frame,
    valid_rsid,
    weight_row,
)
from just_dna_pipelines.modules.genotypes import Locus, genotype_from_letters

PHENOTYPE = "Coronary artery disease"


def compile_coronary(folder: Path, loci: dict[str, Locus]) -> CompiledModule:
    """Compile the coronary SQLite folder into the three module tables."""
    db = folder / "coronary.sqlite"
    if not db.is_file():
        raise ModuleSourceError(f"no coronary.sqlite in {folder}")
    module = CompiledModule("coronary", [db])
    rows: list[Row] = []
    annotations: list[Row] = []
    studies: list[Row] = []
    cited: set[tuple[str, str]] = set()
    for r in read_table(db, "coronary_disease"):
        rsid = valid_rsid(r.get("rsid"))
        genotype = genotype_from_letters(r.get("genotype"))
        if rsid is None or genotype is None:
            module.dropped["no rsid or no two-base genotype"] += 1
            continue
        ref = (clean(r.get("ref_allele")) or "").upper()
        gene = clean(r.get("gene"))
        rows.append(
            weight_row(
                rsid,
                genotype,
                parse_weight(r.get("weight")),
                locus=loci.get(rsid),
                allele_state="ref" if genotype == [ref, ref] else "alt",
                conclusion=clean(r.get("conclusion")),
                gene=gene,
            )
        )
        annotations.append({"rsid": rsid, "gene": gene, "phenotype": PHENOTYPE, "category": None})
        pmids = parse_pmids(r.get("pmid"))
        for pmid in pmids:
            if (rsid, pmid) in cited:
                continue  # see the module docstring: the rsid's citations, repeated per genotype
            cited.add((rsid, pmid))
            studies.append(
                {
                    "rsid": rsid,
                    "pmid": pmid,
                    "population": clean(r.get("population")),
                    # One p-value cell beside several papers cannot be attributed to any one of them.
                    "p_value": clean(r.get("p_value")) if len(pmids) == 1 else None,
                    "study_design": clean(r.get("gwas_study_design")),
                }
            )
    curation = folder / "gen2_curation" / "coronary.csv"
    if curation.is_file():
        module.sources.append(curation)
        rows = apply_weight_curation(module, rows, load_curation(curation))
    module.weights = finish_weights(module, rows, loci)
    module.annotations = annotations_frame(annotations)
    module.studies = studies_frame(studies)
    return module
