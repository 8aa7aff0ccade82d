"""The whole-genome benchmark VCF generator writes a valid, sorted, indexed VCF holding every module site."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "bench" / "vcf" / "generate_wgs_vcf.py"
FIXTURES = REPO_ROOT / ".." / "shared" / "fixtures" / "modules"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.fixtures,
    pytest.mark.skipif(
        not (FIXTURES / "longevitymap" / "longevitymap_annotator.sqlite").is_file(),
        reason="../shared/fixtures/modules is absent",
    ),
]


def _generator():
    """Import the generator script as a module (it lives outside any package)."""
    spec = importlib.util.spec_from_file_location("generate_wgs_vcf", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-background-record VCF.gz with its .tbi, written by the script's command line."""
    out = tmp_path_factory.mktemp("wgs") / "small.vcf.gz"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--records", "2000", "--out", str(out), "--seed", "7", "--index"],
        check=True,
        capture_output=True,
    )
    return out


def test_parses_sorted_with_format_fields(small_vcf: Path) -> None:
    """pysam reads every record; contigs follow the header order and positions ascend; FORMAT is complete."""
    with pysam.VariantFile(str(small_vcf)) as vcf:
        header_contigs = list(vcf.header.contigs)
        assert vcf.header.contigs["chr1"].length == 248956422
        assert "GRCh38" in str(vcf.header)
        assert list(vcf.header.samples) == ["BENCH_SAMPLE"]
        last = (-1, 0)
        genotypes: set[str] = set()
        records = 0
        for rec in vcf:
            key = (header_contigs.index(rec.chrom), rec.pos)
            assert key > last, f"not sorted at {rec.chrom}:{rec.pos}"
            last = key
            assert list(rec.format) == ["GT", "AD", "DP", "GQ", "PL"]
            assert rec.filter.keys()[0] in {"PASS", "LowQual"}
            sample = rec.samples[0]
            gt = "|" if sample.phased else "/"
            genotypes.add(gt.join("." if a is None else str(a) for a in sample["GT"]))
            if None not in sample["GT"]:
                n = len(rec.alleles or ())
                assert len(sample["AD"]) == n
                assert len(sample["PL"]) == n * (n + 1) // 2
                assert sum(sample["AD"]) == sample["DP"]
            records += 1
    assert records >= 2000
    assert {"0/1", "1/1", "./.", "0|1", "1/2"} <= genotypes


def test_module_sites_have_true_ref(small_vcf: Path) -> None:
    """Every usable LongevityMap / superhuman site is there once, with the REF the module databases give."""
    sites, _ = _generator().load_module_sites(FIXTURES)
    assert len(sites) > 3000
    with pysam.VariantFile(str(small_vcf)) as vcf:
        for site in sites:
            found = [rec for rec in vcf.fetch(site.chrom, site.pos - 1, site.pos) if rec.pos == site.pos]
            assert len(found) == 1, f"{site.rsid} {site.chrom}:{site.pos}"
            assert found[0].ref == site.ref
    # rs7412 (APOE) is one of them: chr19:44908822 C
    assert any(s.chrom == "chr19" and s.pos == 44908822 and s.ref == "C" for s in sites)


def test_deterministic_by_seed(tmp_path: Path, small_vcf: Path) -> None:
    """The same seed gives the same records."""
    again = tmp_path / "again.vcf.gz"
    _generator().generate(again, 2000, 7, FIXTURES, index=False)
    with pysam.VariantFile(str(small_vcf)) as first, pysam.VariantFile(str(again)) as second:
        assert [str(r) for r in first] == [str(r) for r in second]
