"""lipidmetabolism, vo2max, thrombophilia: a per-genotype weight table, an rsid table, a studies table.

These databases spell each genotype out (`CG`), so the genotype is that column's two letters, sorted;
their `state`/`zygosity` columns are kept only as provenance. Positions come from the LongevityMap
annotator's GRCh38 `snps` table where it covers the rsid; other rows match by rsid.
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
    table_names,
    valid_rsid,
    weight_row,
)
from just_dna_pipelines.modules.genotypes import Locus, genotype_from_letters

PHENOTYPES = {
    "lipidmetabolism": "Lipid metabolism",
    "vo2max": "VO2max response to training",
    "thrombophilia": "Thrombophilia",
}


def _first(names: set[str], *candidates: str) -> str | None:
    """The first candidate table present."""
    return next((c for c in candidates if c in names), None)


def _db(folder: Path) -> Path:
    """The one .sqlite file of a module folder."""
    found = sorted(folder.glob("*.sqlite"))
    if not found:
        raise ModuleSourceError(f"no .sqlite file in {folder}")
    return found[0]


def compile_genotype_tables(name: str, folder: Path, loci: dict[str, Locus]) -> CompiledModule:
    """Compile a weight/rsids/studies SQLite module."""
    db = _db(folder)
    module = CompiledModule(name, [db])
    names = table_names(db)
    weight_table = _first(names, "weight", "genotype_weights")
    rsid_table = _first(names, "rsids", "rsid")
    if weight_table is None or rsid_table is None:
        raise ModuleSourceError(f"{db} has no weight/rsids tables (found: {', '.join(sorted(names))})")
    meta = {rsid: r for r in read_table(db, rsid_table) if (rsid := valid_rsid(r.get("rsid")))}

    rows: list[Row] = []
    for r in read_table(db, weight_table):
        rsid = valid_rsid(r.get("rsid"))
        genotype = genotype_from_letters(r.get("genotype"))
        if rsid is None or genotype is None:
            module.dropped["no rsid or no two-base genotype"] += 1
            module.notes.append(
                f"dropped {r.get('rsid')} {r.get('genotype')!r}: not an rsid + two-base genotype"
            )
            continue
        info = meta.get(rsid, {})
        rows.append(
            weight_row(
                rsid,
                genotype,
                parse_weight(r.get("weight")),
                locus=loci.get(rsid),
                allele_state=clean(r.get("state")),
                conclusion=clean(r.get("genotype_specific_conclusion")) or clean(info.get("rsid_conclusion")),
                gene=clean(info.get("gene")),
            )
        )
    for curation in sorted((folder / "gen2_curation").glob("*.csv")):
        if not curation.stem.endswith("_studies"):
            module.sources.append(curation)
            rows = apply_weight_curation(module, rows, load_curation(curation))
    module.weights = finish_weights(module, rows, loci)

    phenotype = PHENOTYPES.get(name)
    weighted = set(module.weights["rsid"].to_list())
    module.annotations = annotations_frame(
        [
            {"rsid": rsid, "gene": clean(r.get("gene")), "phenotype": phenotype, "category": None}
            for rsid, r in meta.items()
            if rsid in weighted
        ]
    )
    studies = _studies(db, names, meta)
    for curation in sorted((folder / "gen2_curation").glob("*_studies.csv")):
        module.sources.append(curation)
        studies = apply_study_curation(module, studies, load_curation(curation))
    module.studies = studies_frame(studies)
    return module


def _studies(db: Path, names: set[str], meta: dict[str, Row]) -> list[Row]:
    """Study rows: the dedicated table first, then the rsid table's PMID lists for pairs it lacks."""
    rows: list[Row] = []
    if "studies" in names:
        for r in read_table(db, "studies"):
            rsid = valid_rsid(r.get("rsid") or r.get("snp"))
            for pmid in parse_pmids(r.get("pubmed_id")) if rsid else []:
                rows.append(
                    {
                        "rsid": rsid,
                        "pmid": pmid,
                        "population": clean(r.get("populations")),
                        "p_value": clean(r.get("p_value")),
                    }
                )
    studied = {(r["rsid"], r["pmid"]) for r in rows}
    for rsid, r in meta.items():
        pmids = parse_pmids(r.get("pmids"))
        for pmid in pmids:
            if (rsid, pmid) in studied:
                continue  # the studies table describes this paper; the rsid table's cells describe the rsid
            # One p-value beside several papers cannot be attributed to any one of them.
            p_value = clean(r.get("p_value")) if len(pmids) == 1 else None
            rows.append(
                {"rsid": rsid, "pmid": pmid, "population": clean(r.get("population")), "p_value": p_value}
            )
    return rows


def apply_study_curation(module: CompiledModule, studies: list[Row], curation: list[Row]) -> list[Row]:
    """Apply (rsid, pmid, field, new_value) fixes to study rows; note fixes that matched nothing."""
    for fix in curation:
        hits = [s for s in studies if s["rsid"] == fix["rsid"] and s["pmid"] == fix["pmid"]]
        for study in hits:
            study[fix["field"]] = fix["new_value"]
        if not hits:
            module.notes.append(f"study curation for {fix['rsid']} PMID {fix['pmid']} matched no row")
        else:
            module.notes.append(f"study curation: {fix['rsid']} PMID {fix['pmid']} {fix['field']} fixed")
    return studies
