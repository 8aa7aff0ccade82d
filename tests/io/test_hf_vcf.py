"""`--hf-source`: a VCF fetched from a hostile or broken hub is whole and verified, or nothing is kept."""

from __future__ import annotations

from pathlib import Path

import huggingface_hub.constants
import pytest

from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.io.remote_vcf import download_hf_vcf

REPO = "someone/genomes"
VCF = "samples/demo.vcf"
BODY = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.fixture
def hub(pipeline_env, monkeypatch: pytest.MonkeyPatch, fake_hub_factory, tmp_path: Path):
    """A loopback hub serving one VCF; the hub client's own cache pointed into tmp_path."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(
        huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "home/.cache/huggingface/hub")
    )
    return fake_hub_factory(REPO, {VCF: BODY})


def fetch(hub, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return download_hf_vcf(f"{REPO}/{VCF}", folder, token=None, endpoint=hub.endpoint, offline=False)


def test_an_etag_naming_a_path_writes_nothing_outside(hub, tmp_path: Path) -> None:
    """The hub client stored the file as blobs/{ETag} in its cache: `../../../../../pwned` wrote it to the
    home folder (`../../../../../.bashrc` would have replaced the user's shell start-up file)."""
    hub.lie_etag[VCF] = "../../../../../pwned"
    got = fetch(hub, tmp_path / "input")
    assert got == tmp_path / "input" / "demo.vcf" and got.read_bytes() == BODY
    assert list(tmp_path.rglob("pwned")) == []
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "input/demo.vcf"
    ]


@pytest.mark.timeout(60)
def test_a_vcf_streamed_without_end_is_cut_and_not_kept(hub, tmp_path: Path) -> None:
    hub.cut[VCF] = (0, "flood")
    with pytest.raises(PipelineError, match=f"more than the {len(BODY):,} bytes announced") as info:
        fetch(hub, tmp_path / "input")
    assert "\n" not in str(info.value)
    assert list((tmp_path / "input").iterdir()) == []


def test_a_vcf_that_differs_from_its_listed_checksum_is_not_kept(hub, tmp_path: Path) -> None:
    """The hub client kept a file without checking it against the SHA-256 the hub listed."""
    hub.lie_sha256[VCF] = "0" * 64
    with pytest.raises(PipelineError, match="checksum mismatch") as info:
        fetch(hub, tmp_path / "input")
    assert "\n" not in str(info.value)
    assert list((tmp_path / "input").iterdir()) == []
