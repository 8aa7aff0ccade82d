"""`pipelines annotate-modules` as a new user runs it, in a real process: real-world VCF shapes from the
peer-suite corpus are annotated with a clean stderr, and the CLI names the sample it read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from just_dna_pipelines.modules.demo import ensure_demo_sample


def annotate(vcf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules", "--vcf", str(vcf), "--user", "u",
         "--modules-source", "demo", "--no-report", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def corpus(genomes: Path) -> Path:
    folder = genomes.parent / "corpus" / "vcf"
    if not folder.is_dir():
        pytest.skip(f"the VCF corpus is not at {folder.resolve()}")
    return folder


@pytest.mark.slow
def test_a_blank_control_is_skipped_and_the_cli_says_how_to_pick(pipeline_env, corpus: Path) -> None:
    proc = annotate(corpus / "vcfpy__tests__vcfs_from_the_wild__freebayes.vcf")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert (
        "reading sample NA12878 by default (BLANK skipped as controls); the file has 7: BLANK, NA12878, "
        "NA12891, NA12892, NA19238, NA19239, NA19240; pick another with --sample-column NAME"
    ) in proc.stdout
    manifest = (
        pipeline_env.output_dir / "users/u/vcfpy__tests__vcfs_from_the_wild__freebayes/modules/manifest.json"
    )
    facts = json.loads(manifest.read_text())["input"]
    assert (facts["sample_column"], facts["malformed_records"]) == ("NA12878", 0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("with_index", "how"),
    [(True, "module sites read through the index"), (False, "counted in one pass; module sites read")],
)
def test_htslib_stays_quiet_on_a_successful_run(
    pipeline_env, corpus: Path, tmp_path: Path, with_index: bool, how: str
) -> None:
    # This file's header makes htslib warn ([W::bcf_hdr_check_sanity]) when the index is used.
    name = "vcflib__samples__1kGP_high_coverage_Illumina.chr1.filtered.SNV_INDEL_SV_phased_panel-head-1000.vcf.gz"
    vcf = corpus / name
    if not with_index:  # a copy without its .tbi: read in one pass
        vcf = tmp_path / name
        vcf.write_bytes((corpus / name).read_bytes())
    proc = annotate(vcf, "--sample-column", "HG00097")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "reading sample HG00097 as asked; the file has " in proc.stdout
    assert f"sample column HG00097, 889 records ({how})" in proc.stdout


@pytest.mark.slow
def test_the_step_lines_count_one_variant_in_the_singular(pipeline_env, tmp_path: Path) -> None:
    proc = annotate(ensure_demo_sample(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.endswith("module vo2max: done, 1 matched variant") for line in lines), proc.stdout
    assert any(line.endswith("module coronary: done, 2 matched variants") for line in lines), proc.stdout
    assert any(line.startswith("  vo2max           done        1 variant (+") for line in lines), proc.stdout
