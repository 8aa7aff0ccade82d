"""The report of a real GRCh37 genome: each call names where the person's own file holds it, beside the
modules' GRCh38 position. NA12878 chr21 (Platinum Genomes 7.0.0, hg19) annotated through the CLI."""

from __future__ import annotations

import html as markup
import re
from pathlib import Path

import polars as pl
import pysam
import pytest

from just_dna_pipelines.cli import main
from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import write_report
from just_dna_pipelines.settings import get_settings

pytestmark = [pytest.mark.slow, pytest.mark.fixtures]

GRCH37 = "PG_NA12878_chr21.vcf.gz"


def annotate_grch37(genome: Path, modules: Path, chain: Path, engine: str, monkeypatch) -> Path:
    """Annotate the GRCh37 genome with longevitymap through the CLI (folders from `pipeline_env`, lifted with
    `chain`); return the sample folder."""
    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", str(chain))
    get_settings.cache_clear()
    status = main(
        ["annotate-modules", "--vcf", str(genome), "--user", "u", "--sample", "NA12878", "--modules",
         "longevitymap", "--modules-source", str(modules), "--engine", engine, "--no-report"]
    )  # fmt: skip
    assert status == 0
    return get_settings().sample_output_dir("u", "NA12878")


def where_line(html: str, rsid: str) -> str:
    """The text of a variant's position line (the paragraph of its details row)."""
    row = html.index(f'data-v="{rsid}"')
    paragraph = re.search(r'<p class="where">(.*?)</p>', html[row:], re.S)
    assert paragraph is not None
    return markup.unescape(re.sub(r"<[^>]+>", "", paragraph.group(1)))


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_grch37_report_names_where_the_persons_file_holds_each_call(
    pipeline_env,
    genomes: Path,
    compiled_modules: Path,
    liftover_chain: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
) -> None:
    sample_dir = annotate_grch37(genomes / GRCH37, compiled_modules, liftover_chain, engine, monkeypatch)
    paths = write_report(build_report_data(sample_dir), sample_dir / "reports")
    line = where_line(paths["longevity_report.html"].read_text(encoding="utf-8"), "rs2253363")
    found = re.fullmatch(
        r"Position chr21:14945905 \(GRCh38, reference G\); call 1\|1 at chr(\w+):(\d+) in your GRCh37 file; .+",
        line,
    )
    assert found, line
    chrom, start = found.group(1), int(found.group(2))

    # The person's file, read on its own: nothing at the GRCh38 position; at the one the report names, the
    # record of rs2253363 (REF G, ALT A, homozygous ALT, as the report's call says), dbSNP's GRCh37 place.
    with pysam.VariantFile(str(genomes / GRCH37)) as vcf:
        assert not list(vcf.fetch("chr21", 14_945_904, 14_945_905))
        (record,) = vcf.fetch(f"chr{chrom}", start - 1, start)
    assert (record.pos, record.ref, record.alts, record.samples[0]["GT"]) == (start, "G", ("A",), (1, 1))
    assert (chrom, start) == ("21", 16_318_226)

    # The downloads carry the same places in columns that name their build.
    download = pl.read_parquet(paths["longevitymap_variants.parquet"]).filter(pl.col("rsid") == "rs2253363")
    columns = ("chrom_grch38", "start_grch38", "chrom_in_file", "start_in_file", "file_build")
    assert download.select(columns).rows() == [("21", 14_945_905, "21", 16_318_226, "GRCh37")]
    csv = pl.read_csv(
        paths["longevitymap_variants.csv"],
        schema_overrides={"chrom_grch38": pl.String, "chrom_in_file": pl.String},
    )
    assert csv.filter(pl.col("rsid") == "rs2253363").select(columns).rows() == download.select(columns).rows()
