"""Tell a sample's genome build from its data when its header does not (or to check what the header claims).

The evidence is the modules' own sites, placed in each build (GRCh38 as given, GRCh37 lifted): a record with a
module rsID should sit at that rsID's position in the right build, and a record at a module position should
carry the module's reference base there. In the wrong build both agree only by chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from just_dna_pipelines.liftover.chain import Chain
from just_dna_pipelines.liftover.sites import MODULES_BUILD, lift_positions

MIN_AGREEING = 3  # a handful of exact agreements is far beyond chance at a few hundred sites
MIN_SHARE = 0.9  # and nearly all of what could be checked must agree


@dataclass(frozen=True)
class BuildDecision:
    """The build used for positions, how it was decided, and the counts behind it."""

    build: str  # "GRCh38", "GRCh37", "NCBI36" or "unknown"
    source: str  # "header", "data", "header+data" or "none"
    evidence: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """The decision as plain data for facts and manifests."""
        return {"build": self.build, "source": self.source, "evidence": self.evidence}


def site_placements(sites: pl.DataFrame, chain: Chain | None) -> dict[str, pl.DataFrame]:
    """The module sites (rsid, chrom, start, ref) at their positions in each build we can place them in."""
    placed = sites.filter(pl.col("start").is_not_null()).select("rsid", "chrom", "start", "ref")
    placements = {MODULES_BUILD: placed}
    if chain is not None:
        lifted = lift_positions(placed, chain).filter(pl.col("lifted_start").is_not_null())
        placements["GRCh37"] = placed.join(lifted, on=["chrom", "start"]).select(
            "rsid", pl.col("lifted_chrom").alias("chrom"), pl.col("lifted_start").alias("start"), "ref"
        )
    return placements


def build_evidence(calls_path: Path, sites: pl.DataFrame, chain: Chain | None) -> dict[str, dict[str, int]]:
    """Per build: module rsIDs seen in the file and how many sit at that build's position; records at that
    build's module positions that carry a REF and how many carry the module's reference base."""
    calls = (
        pl.scan_parquet(calls_path)
        .filter(~pl.col("ref_block") & pl.col("start").is_not_null())
        .select("chrom", "start", "rsid", pl.col("ref").str.slice(0, 1).alias("first_base"))
    )
    evidence: dict[str, dict[str, int]] = {}
    for build, placed in site_placements(sites, chain).items():
        by_rsid = (
            calls.filter(pl.col("rsid").is_not_null())
            .join(placed.lazy(), on="rsid", suffix="_site")
            .group_by("rsid")
            .agg(
                ((pl.col("chrom") == pl.col("chrom_site")) & (pl.col("start") == pl.col("start_site"))).any()
            )
            .select(pl.len().alias("seen"), pl.col("chrom").sum().alias("agree"))
            .collect()
            .row(0, named=True)
        )
        by_ref = (
            calls.filter(pl.col("first_base").is_not_null())
            .join(placed.filter(pl.col("ref").is_not_null()).lazy(), on=["chrom", "start"])
            .select(
                pl.len().alias("seen"),
                (pl.col("first_base") == pl.col("ref").str.slice(0, 1)).sum().alias("agree"),
            )
            .collect()
            .row(0, named=True)
        )
        evidence[build] = {
            "rsids_seen": int(by_rsid["seen"] or 0),
            "rsids_at_position": int(by_rsid["agree"] or 0),
            "positions_seen": int(by_ref["seen"] or 0),
            "positions_with_ref": int(by_ref["agree"] or 0),
        }
    return evidence


def _agreeing(counts: dict[str, int]) -> tuple[int, int]:
    return (
        counts["rsids_at_position"] + counts["positions_with_ref"],
        counts["rsids_seen"] + counts["positions_seen"],
    )


def supported(counts: dict[str, int]) -> bool:
    """Whether the data clearly says the file is on this build."""
    agree, seen = _agreeing(counts)
    return agree >= MIN_AGREEING and agree >= MIN_SHARE * seen


def contradicted(counts: dict[str, int]) -> bool:
    """Whether the data clearly say the file is not on this build (enough checks, mostly failing)."""
    agree, seen = _agreeing(counts)
    return seen >= 2 * MIN_AGREEING and agree < 0.5 * seen


def decide_build(claim: str | None, evidence: dict[str, dict[str, int]]) -> BuildDecision:
    """The build to place module sites in: what the data clearly supports, else what the header claims, else unknown."""
    backed = [build for build, counts in evidence.items() if supported(counts)]
    if len(backed) == 1:
        build = backed[0]
        agree, seen = _agreeing(evidence[build])
        if claim is None or claim == build:
            return BuildDecision(build, "data" if claim is None else "header+data", evidence)
        return BuildDecision(
            build,
            "data",
            evidence,
            [
                f"the file says {claim} but its data agree with {build} at {agree} of {seen} module sites; {build} is used"
            ],
        )
    if claim is not None and not (claim in evidence and contradicted(evidence[claim])):
        return BuildDecision(claim, "header", evidence)
    if claim is not None:
        agree, seen = _agreeing(evidence[claim])
        return BuildDecision(
            "unknown",
            "none",
            evidence,
            [
                f"the file says {claim} but only {agree} of {seen} module sites agree with that, "
                "so positions are not used; only rsIDs are matched"
            ],
        )
    checked = ", ".join(f"{b}: {_agreeing(c)[0]} of {_agreeing(c)[1]}" for b, c in evidence.items())
    return BuildDecision(
        "unknown",
        "none",
        evidence,
        [
            "the genome build is neither stated by the file nor clear from its data "
            f"(module sites agreeing per build - {checked}), so positions are not used; only rsIDs are matched"
        ],
    )
