"""htslib's errors become one clean line; its own stderr lines stay out of our output."""

from __future__ import annotations

from pathlib import Path

import pysam.bcftools
import pytest

from just_dna_pipelines.io.htslib_quiet import htslib_error_line, quiet_htslib


def test_a_bcftools_error_becomes_one_clean_line() -> None:
    error = pysam.utils.SamtoolsError(
        "bcftools returned with error 1: stdout=, stderr=index of /work/shared/x/hc.vcf.gz does not contain "
        "any count metadata. Please re-index with a newer version of bcftools or tabix.\n"
    )
    line = htslib_error_line(error)
    assert line == (
        "index of hc.vcf.gz does not contain any count metadata. Please re-index with a newer version of "
        "bcftools or tabix."
    )


def test_tags_and_quotes_are_dropped() -> None:
    assert htslib_error_line(OSError("'[E::hts_open_format] Failed to open file /srv/a/b.vcf'")) == (
        "Failed to open file b.vcf"
    )


def test_htslib_says_nothing_while_quiet(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.vcf"
    broken.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\t\n")
    with quiet_htslib(), pytest.raises(pysam.utils.SamtoolsError):
        pysam.bcftools.view(str(broken), "-H")
    assert capfd.readouterr().err == ""
