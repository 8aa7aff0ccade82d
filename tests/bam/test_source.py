"""Where a BAM lives: hostile names give a safe, distinct output folder name; path and file:// agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from just_dna_pipelines.bam.source import locate

SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{8}")


@pytest.mark.parametrize(
    "url",
    [
        "https://h/a/..%2F..%2Fevil.bam",
        "https://h/",
        "/tmp/x/.bam",
        "/tmp/$(rm -rf ~).bam",
        "file:///tmp/..bam",
        "https://h/a b/ünï cødé.bam?x=1#y",
        "/tmp/" + "a" * 300 + ".bam",
    ],
)
def test_hostile_names_become_one_safe_folder_name(url: str) -> None:
    name = locate(url).output_name
    assert SAFE_FOLDER.fullmatch(name), name
    assert "/" not in name and name not in (".", "..") and len(name) < 100


def test_a_path_and_its_file_url_share_a_folder_other_files_do_not(tmp_path: Path) -> None:
    bam = tmp_path / "reads.bam"
    bam.write_bytes(b"")
    (tmp_path / "link.bam").symlink_to(bam)
    same = {locate(str(bam)).output_name, locate(bam.as_uri()).output_name}
    assert len(same) == 1
    assert locate(str(tmp_path / "link.bam")).source_id == str(bam.resolve())
    assert locate(str(tmp_path / "other" / "reads.bam")).output_name not in same
    assert locate("https://h/reads.bam").output_name != locate("https://g/reads.bam").output_name
