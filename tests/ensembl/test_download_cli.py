"""`pipelines download-ensembl` through the loopback hub: the download is recorded as an asset materialization."""

from __future__ import annotations

import re
import time

import dagster as dg
import pytest

from just_dna_pipelines.cli import main
from just_dna_pipelines.runs.instance import get_instance


def test_download_ensembl_records_the_revision(ensembl_hub, make_reference, capsys) -> None:
    hub = ensembl_hub(make_reference({"21": 20, "22": 10}))
    assert main(["download-ensembl", "--contigs", "chr21"]) == 0
    out = capsys.readouterr().out
    assert f"at revision {hub.sha}" in out and "1 contig files" in out and "downloaded now: chr21" in out
    event = get_instance().get_latest_materialization_event(dg.AssetKey("ensembl_annotations"))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["revision"].value == hub.sha and metadata["rows"].value == 20
    assert event.asset_materialization.tags["dagster/data_version"] == hub.sha

    assert main(["download-ensembl"]) == 0  # default: every contig; chr21 is reused
    assert "downloaded now: chr22" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contigs", "chr99"], "error: unknown contig 'chr99'"),
        (["--ensembl-source", "hf://not a repo"], "error: invalid Ensembl source"),
    ],
)
def test_download_ensembl_bad_input_is_one_line(pipeline_env, capsys, args: list[str], message: str) -> None:
    assert main(["download-ensembl", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_download_ensembl_offline_is_one_line(pipeline_env, capsys) -> None:
    assert main(["download-ensembl", "--contigs", "21"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: Hugging Face") and "not cached" in err[-1]


def test_the_download_bar_tells_the_speed_of_what_comes_now(capsys: pytest.CaptureFixture[str]) -> None:
    """A resumed file's bytes already there are not counted as downloaded this second; no speed at first."""
    from just_dna_pipelines.cli.download_ensembl import DownloadBar
    from just_dna_pipelines.cli.progress import RATE_AFTER_S

    bar = DownloadBar()
    bar("21", 900_000_000, 1_000_000_000)  # resumed at 900 MB
    first = capsys.readouterr().err
    assert "chr21  900.0 / 1,000.0 MB" in first and "MB/s" not in first
    time.sleep(RATE_AFTER_S)
    bar("21", 1_000_000_000, 1_000_000_000)
    done = capsys.readouterr().err
    speed = float(re.search(r"1,000.0 / 1,000.0 MB  ([0-9.,]+) MB/s", done).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert 0 < speed <= 100 / RATE_AFTER_S  # 100 MB in at least RATE_AFTER_S, not 1,000 MB
