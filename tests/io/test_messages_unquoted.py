"""Input errors around VCF intake are one line without Python quoting."""

from __future__ import annotations

from pathlib import Path

import pytest

from just_dna_pipelines import service
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.remote_vcf import download_hf_vcf, zenodo_api_url


def test_a_wrong_upload_name_is_named_plainly(pipeline_env) -> None:
    with pytest.raises(PipelineError) as info:
        service.upload_path("alice", "genome.exe")
    assert str(info.value) == (
        "genome.exe is not a .vcf, .vcf.gz or .bcf file, nor a DNA-test raw file (.txt, .csv, .gz or .zip)"
    )


def test_remote_source_errors_are_unquoted(tmp_path: Path) -> None:
    with pytest.raises(PipelineError) as zenodo:
        zenodo_api_url("ftp://example.org/x")
    with pytest.raises(PipelineError) as hf:
        download_hf_vcf("owner/repo", tmp_path, token=None, endpoint="http://127.0.0.1:9", offline=True)
    assert (
        str(zenodo.value)
        == "not a Zenodo record URL: ftp://example.org/x (expected https://zenodo.org/records/NUMBER)"
    )
    assert str(hf.value) == "--hf-source wants OWNER/REPO/PATH/TO/FILE.vcf.gz, got owner/repo"
