"""The Ensembl outputs on a real genome: the annotated VCF that bcftools reads, and the rsID fill for modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pysam
import pysam.bcftools
import pytest

from just_dna_pipelines.annotation.pipeline import SampleContext, annotate_sample
from just_dna_pipelines.ensembl.annotate import FILL_FILE, VCF_FILE, VcfOptions, annotate_with_ensembl
from just_dna_pipelines.ensembl.cache import ensure_reference
from just_dna_pipelines.ensembl.rsid_fill import apply_rsid_fill, matches_via_filled_rsids, positions_of_rsids
from just_dna_pipelines.io.vcf_header import read_vcf_header

pytestmark = pytest.mark.fixtures
MATCHED_ON_CHR21 = ["rs2253363", "rs3788157", "rs414743"]  # by position (tests/defs): the truth to reproduce


@pytest.fixture(scope="module")
def ensembl_out(
    genomes: Path, na12878_calls: Path, real_reference: Path, tmp_path_factory
) -> tuple[Path, dict]:
    """NA12878 chr21 annotated (Polars engine) with the annotated VCF written."""
    out = tmp_path_factory.mktemp("ensembl_out")
    header = read_vcf_header(genomes / "PG_NA12878_hg38-chr21.vcf.gz")
    reference = ensure_reference(str(real_reference), ["21"])
    options = VcfOptions(header.samples[0], header.contigs, header.contig_naming)
    facts = annotate_with_ensembl(na12878_calls, reference, out, engine="polars", vcf=options)
    return out, facts


def test_annotated_vcf_is_read_by_bcftools(ensembl_out: tuple[Path, dict]) -> None:
    out, facts = ensembl_out
    vcf = out / VCF_FILE
    assert (out / (VCF_FILE + ".tbi")).is_file()
    body = pysam.bcftools.view("-H", str(vcf)).splitlines()
    assert len(body) == facts["rows"] == facts["vcf_records"] == 66_050
    with pysam.VariantFile(str(vcf)) as reader:
        assert list(reader.header.samples) == ["NA12878"]
        assert "chr21" in reader.header.contigs and reader.header.contigs["chr21"].length == 46_709_983
        (site,) = list(reader.fetch("chr21", 14_945_904, 14_945_905))  # through the index
        assert site.id == "rs2253363" and site.alts == ("A",) and site.samples["NA12878"]["GT"] == (1, 1)
        assert (
            site.info["TSA"] == "SNV"
            and site.info["dbSNP_154"] is True
            and site.info["ensembl_id"] == "rs2253363"
        )
        split = [r for r in reader.fetch("chr21") if r.samples["NA12878"]["GT"] == (1, 0)]
    assert split, "a 1|2 record is split into 1|0 and 0|1, as bcftools norm -m- writes it"
    assert facts["rows_annotated"] > 13_000 and facts["records"] == 65_370


def test_rsid_fill_makes_rows_known_only_by_rsid_testable(
    ensembl_out: tuple[Path, dict], na12878_calls: Path, compiled_modules: Path, tmp_path: Path
) -> None:
    out, facts = ensembl_out
    # Hold out LongevityMap's chr21 coordinates: those rows are now known only by rsID, as on the hub.
    modules = tmp_path / "modules"
    shutil.copytree(compiled_modules / "longevitymap", modules / "longevitymap")
    weights_path = modules / "longevitymap" / "weights.parquet"
    weights = pl.read_parquet(weights_path)
    on_chr21 = pl.col("chrom") == "21"
    held_out = set(weights.filter(on_chr21)["rsid"])
    weights.with_columns(
        pl.when(on_chr21).then(None).otherwise(pl.col(c)).alias(c) for c in ("chrom", "start", "ref")
    ).write_parquet(weights_path)
    assert set(MATCHED_ON_CHR21) <= held_out

    def run(calls: Path, has_rsids: bool, name: str) -> tuple[dict, pl.DataFrame]:
        sample = SampleContext(calls_path=calls, genome_build="GRCh38", has_rsids=has_rsids, is_gvcf=False)
        (tmp_path / name).mkdir()
        summary = annotate_sample(sample, modules, ["longevitymap"], tmp_path / name)["longevitymap"]
        return summary, pl.read_parquet(tmp_path / name / "longevitymap_weights.parquet")

    before, matched_before = run(na12878_calls, False, "before")
    assert matched_before.is_empty()
    # The module's own 12 rsID-only sites plus the held-out ones: none testable from a VCF without rsIDs.
    assert before["ledger"]["not_testable_reasons"]["no_coordinates_and_no_rsids"] == 12 + len(held_out)

    assert facts["rsids_filled"] > 0
    filled = apply_rsid_fill(na12878_calls, out / FILL_FILE, tmp_path / "filled.parquet")
    after, matched_after = run(filled.calls_path, True, "after")
    assert sorted(matched_after["rsid"]) == MATCHED_ON_CHR21
    assert matches_via_filled_rsids(matched_after, held_out, filled.filled_rsids) == 3
    assert after["ledger"]["called"] > before["ledger"]["called"]
    # The fill also says where those rsIDs lie, so a module-sites-only read can include them.
    positions = positions_of_rsids(out / FILL_FILE, MATCHED_ON_CHR21).sort("start")
    assert positions["start"].to_list() == [14_945_905, 45_090_793, 45_092_160]
