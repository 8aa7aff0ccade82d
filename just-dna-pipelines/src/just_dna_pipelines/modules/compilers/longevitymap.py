"""LongevityMap: `allele_weights` (effect allele + state + zygosity) joined with the study records.

Genotypes follow `modules.genotypes.longevitymap_genotype`; positions come from the annotator
database's GRCh38 `snps` table. A heterozygous row at an rsid with no known locus takes the one
heterozygote of the curators' spreadsheet (`longevity_map.tsv`, column `genotypes`) holding its allele;
the spreadsheet's `gene_symbol` also fills the gene where the study records name none. Studies are the `variant` rows of the weighted rsids.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from just_dna_pipelines.errors import ModuleSourceError
from just_dna_pipelines.modules.compilers.common import (
    ANNOTATOR_DB,
    CompiledModule,
    Row,
    annotations_frame,
    apply_weight_curation,
    clean,
    finish_weights,
    load_curation,
    parse_weight,
    read_table,
    studies_frame,
    table_names,
    valid_rsid,
    weight_row,
)
from just_dna_pipelines.modules.genotypes import (
    GenotypeResult,
    Locus,
    genotype_from_letters,
    longevitymap_genotype,
)

PHENOTYPE = "Longevity"
SPREADSHEET = "longevity_map.tsv"


def _read_spreadsheet(path: Path) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """From the curators' spreadsheet: heterozygous genotypes per rsid (`CC; CT; TT` -> [[C, T]]) and gene symbols."""
    hets: dict[str, list[list[str]]] = {}
    genes: dict[str, str] = {}
    if not path.is_file():
        return hets, genes
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rsid = valid_rsid(row.get("identifier")) or valid_rsid(row.get("identifier_alt"))
            if rsid is None:
                continue
            symbol = clean(row.get("gene_symbol"))
            if symbol and symbol != "-":
                genes.setdefault(rsid, symbol)
            for text in (row.get("genotypes") or "").split(";"):
                genotype = genotype_from_letters(text)
                if genotype and genotype[0] != genotype[1] and genotype not in hets.get(rsid, []):
                    hets.setdefault(rsid, []).append(genotype)
    return hets, genes


def _het_from_spreadsheet(allele: str, hets: list[list[str]], fallback: GenotypeResult) -> GenotypeResult:
    """Without a locus, a het row's genotype is the one spreadsheet heterozygote holding its allele."""
    holding = [g for g in hets if (allele or "").strip().upper() in g]
    return GenotypeResult(holding[0]) if len(holding) == 1 else fallback


def _weights_db(folder: Path) -> Path:
    """The database with `allele_weights` + `categories`, else the annotator database."""
    for name in ("longevitymap.sqlite", ANNOTATOR_DB.name):
        if (folder / name).is_file():
            return folder / name
    raise ModuleSourceError(f"no longevitymap.sqlite in {folder}")


def compile_longevitymap(folder: Path, loci: dict[str, Locus]) -> CompiledModule:
    """Compile the LongevityMap SQLite folder into the three module tables."""
    db = _weights_db(folder)
    sources = [db] + ([folder / ANNOTATOR_DB.name] if (folder / ANNOTATOR_DB.name).is_file() else [])
    module = CompiledModule("longevitymap", sources)
    names = table_names(db)
    categories = (
        {r["id"]: clean(r["name"]) for r in read_table(db, "categories")} if "categories" in names else {}
    )
    genes = {r["id"]: clean(r["symbol"]) for r in read_table(db, "gene")}
    populations = {r["id"]: clean(r["name"]) for r in read_table(db, "population")}
    variants = [v for v in read_table(db, "variant") if valid_rsid(v["identifier"])]

    gene_of: dict[str, str | None] = {}
    conclusion_of: dict[str, str] = {}
    gene_votes: dict[str, Counter[str]] = {}
    for v in variants:
        rsid = str(v["identifier"]).strip()
        symbol = genes.get(v["gene_id"])
        if symbol:
            gene_votes.setdefault(rsid, Counter())[symbol] += 1
        text = clean(v["conclusions"]) or ""
        # The longest conclusion is the most informative; the first record is often a bare "no association".
        if len(text) > len(conclusion_of.get(rsid, "")):
            conclusion_of[rsid] = text
    for rsid, votes in gene_votes.items():
        gene_of[rsid] = votes.most_common(1)[0][0]

    curator_hets, curator_genes = _read_spreadsheet(folder / SPREADSHEET)
    if curator_hets or curator_genes:
        module.sources.append(folder / SPREADSHEET)
    for rsid, symbol in curator_genes.items():
        gene_of.setdefault(rsid, symbol)  # intergenic study records carry no gene; the curators named some
    rows: list[Row] = []
    annotations: list[Row] = []
    for aw in read_table(db, "allele_weights"):
        rsid_or_none = valid_rsid(aw["rsid"])
        if rsid_or_none is None:
            module.dropped["invalid rsid"] += 1
            continue
        rsid = rsid_or_none
        locus = loci.get(rsid)
        result = longevitymap_genotype(aw["allele"], aw["state"], aw["zygosity"], locus)
        if result.genotype is None and locus is None:
            result = _het_from_spreadsheet(aw["allele"], curator_hets.get(rsid, []), result)
        if result.genotype is None:
            module.dropped[str(result.reason)] += 1
            module.notes.append(
                f"dropped {rsid} {aw['allele']} {aw['state']}/{aw['zygosity']}: {result.reason}"
            )
            continue
        category = categories.get(aw.get("category_id"))
        rows.append(
            weight_row(
                rsid,
                result.genotype,
                parse_weight(aw["weight"]),
                locus=locus,
                allele_state=clean(aw["state"]),
                zygosity=clean(aw["zygosity"]),
                priority=parse_weight(aw["priority"]),
                conclusion=conclusion_of.get(rsid) or None,
                gene=gene_of.get(rsid),
                category=category,
            )
        )
        annotations.append(
            {"rsid": rsid, "gene": gene_of.get(rsid), "phenotype": PHENOTYPE, "category": category}
        )

    curation = folder / "gen2_curation" / "longevitymap.csv"
    if curation.is_file():
        module.sources.append(curation)
        rows = apply_weight_curation(module, rows, load_curation(curation))
    module.weights = finish_weights(module, rows, loci)

    weighted = set(module.weights["rsid"].to_list())
    module.annotations = annotations_frame([a for a in annotations if a["rsid"] in weighted])
    studies = []
    for v in variants:
        rsid = str(v["identifier"]).strip()
        pmid = clean(v["quickpubmed"])
        if rsid not in weighted or pmid is None:
            continue
        studies.append(
            {
                "rsid": rsid,
                "pmid": pmid,
                "population": populations.get(v["population_id"]),
                # LongevityMap records a verdict ("significant"), not a p-value: it is the best there is.
                "p_value": clean(v["association"]),
                "conclusion": clean(v["conclusions"]),
                "study_design": clean(v["study_design"]),
            }
        )
    module.studies = studies_frame(studies)
    return module
