"""Lifting GRCh38 module sites to GRCh37 with UCSC's real chain, and finding (or not finding) a chain."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import polars as pl
import pytest

from just_dna_pipelines.io.vcf_normalize import normalize_vcf
from just_dna_pipelines.liftover.chain import ChainUnavailable, find_chain, load_chain
from just_dna_pipelines.liftover.sites import (
    BUILD_UNKNOWN,
    NO_CHAIN,
    NO_UNIQUE_POSITION,
    lift_one,
    lift_positions,
    placed_sites,
)
from just_dna_pipelines.settings import Settings


@pytest.fixture(scope="module")
def chain(liftover_chain: Path):
    return load_chain(liftover_chain, "configured")


def test_known_sites_lift_to_where_the_grch37_file_has_them(chain) -> None:
    # rs2253363, rs3788157, rs414743: GRCh38 positions from the module, GRCh37 ones from PG_NA12878_chr21.
    assert lift_one(chain, "21", 14_945_905) == (16_318_226, None)
    assert lift_one(chain, "21", 45_090_793) == (46_510_708, None)
    assert lift_one(chain, "21", 45_092_160) == (46_512_075, None)
    # longevitymap's rs9876781 (chr3:48445934 on GRCh38) is in a gap of the chain.
    assert lift_one(chain, "3", 48_445_934) == (None, NO_UNIQUE_POSITION)
    assert lift_one(chain, "MT", 3_000) == (None, NO_UNIQUE_POSITION)


def test_the_lift_agrees_with_the_same_person_on_both_builds(tmp_path: Path, genomes: Path, chain) -> None:
    """Every GRCh38 SNV of NA12878 chr21, lifted, should mostly sit on the same call in the GRCh37 file."""
    new = pl.read_parquet(
        normalize_vcf(genomes / "PG_NA12878_hg38-chr21.vcf.gz", tmp_path / "38.parquet").output
    )
    old = pl.read_parquet(normalize_vcf(genomes / "PG_NA12878_chr21.vcf.gz", tmp_path / "37.parquet").output)
    snvs = new.filter((pl.col("ref").str.len_chars() == 1) & (pl.col("filter") == "PASS"))
    lifted = lift_positions(snvs, chain).filter(pl.col("lifted_start").is_not_null())
    pairs = (
        snvs.join(lifted, on=["chrom", "start"])
        .join(
            old.select(
                "chrom", "start", pl.col("ref").alias("ref37"), pl.col("genotype").alias("genotype37")
            ),
            left_on=["lifted_chrom", "lifted_start"],
            right_on=["chrom", "start"],
        )
        .with_columns((pl.col("ref") == pl.col("ref37")).alias("same_ref"))
    )
    # Measured: 98.6% lift uniquely, 99.4% of those are in the GRCh37 file, 99.6% with the same REF, 99.3% with
    # the same genotype (two call-set versions, 7.0.0 and hg38 2.0.1, differ a little). An off-by-one lift
    # would agree on REF about a third of the time.
    assert lifted.height > 0.98 * snvs.height
    assert pairs.height > 0.98 * lifted.height
    assert pairs["same_ref"].mean() > 0.99  # type: ignore[operator]
    assert (pairs["genotype"] == pairs["genotype37"]).mean() > 0.98  # type: ignore[operator]


def test_placed_sites_say_where_to_look_or_why_not(chain) -> None:
    sites = pl.DataFrame(
        {
            "module": ["m", "m", "m"],
            "rsid": ["rs2253363", "rs9876781", "rs1"],
            "chrom": ["21", "3", None],
            "start": [14_945_905, 48_445_934, None],
            "ref": ["G", "C", None],
        },
        schema_overrides={"start": pl.Int64},
    )
    on38 = placed_sites(sites, "GRCh38", None)
    assert on38["match_start"].to_list() == [14_945_905, 48_445_934, None]
    on37 = placed_sites(sites, "GRCh37", chain)
    assert on37["match_start"].to_list() == [16_318_226, None, None]
    assert on37["position_note"].to_list() == [None, NO_UNIQUE_POSITION, None]
    assert placed_sites(sites, "GRCh37", None)["position_note"].to_list() == [NO_CHAIN, NO_CHAIN, None]
    unknown = placed_sites(sites, "unknown", chain)
    assert unknown["match_start"].null_count() == 3
    assert unknown["position_note"].to_list() == [BUILD_UNKNOWN, BUILD_UNKNOWN, None]


def _settings(tmp_path: Path, **values) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", **values)


def test_chain_from_the_configured_path(tmp_path: Path, liftover_chain: Path) -> None:
    found = find_chain(_settings(tmp_path, liftover_chain=liftover_chain, liftover_chain_url=""))
    assert found.origin == "configured" and found.describe()["file_name"] == "hg38ToHg19.over.chain.gz"
    assert len(found.sha256) == 64


def test_a_cached_download_is_used_without_the_network(tmp_path: Path, liftover_chain: Path) -> None:
    cached = tmp_path / "cache" / "liftover" / "hg38ToHg19.over.chain.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(liftover_chain.read_bytes())
    assert find_chain(_settings(tmp_path, liftover_chain_url="http://127.0.0.1:9/x")).origin == "cache"


def test_no_chain_offline_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ChainUnavailable) as off:
        find_chain(_settings(tmp_path, liftover_chain_url=""))
    assert "JUST_DNA_PIPELINES_LIFTOVER_CHAIN" in str(off.value) and "\n" not in str(off.value)
    started = time.perf_counter()
    with pytest.raises(ChainUnavailable) as unreachable:
        find_chain(_settings(tmp_path, liftover_chain_url="http://127.0.0.1:9/hg38ToHg19.over.chain.gz"))
    assert time.perf_counter() - started < 5
    message = str(unreachable.value)
    assert message.startswith("could not download the liftover chain") and "\n" not in message
    assert not (tmp_path / "cache" / "liftover" / "hg38ToHg19.over.chain.gz").exists()
    with pytest.raises(ChainUnavailable, match="was not found"):
        find_chain(_settings(tmp_path, liftover_chain=tmp_path / "missing.chain.gz"))


def test_a_wrong_or_damaged_chain_is_refused(tmp_path: Path, liftover_chain: Path) -> None:
    # The reverse direction (hg19 -> hg38): sizes swapped in the header lines.
    reverse = tmp_path / "hg19ToHg38.over.chain.gz"
    with gzip.open(liftover_chain, "rt") as src, gzip.open(reverse, "wt") as out:
        for number, line in enumerate(src):
            if number > 200:
                break
            fields = line.split()
            if fields and fields[0] == "chain":
                fields[2:7], fields[7:12] = fields[7:12], fields[2:7]
                line = " ".join(fields) + "\n"
            out.write(line)
    with pytest.raises(ChainUnavailable, match="is not a GRCh38 to GRCh37"):
        load_chain(reverse, "configured")
    damaged = tmp_path / "damaged.chain.gz"
    damaged.write_bytes(liftover_chain.read_bytes()[:5000])
    with pytest.raises(ChainUnavailable):
        load_chain(damaged, "configured")
