"""What a web user reads of a server message: file names, never the server's folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from just_dna_pipelines.server_paths import hide_server_paths


@pytest.fixture
def roots(pipeline_env, monkeypatch: pytest.MonkeyPatch):
    """Configured folders whose paths hold spaces, as a server's may."""
    from just_dna_pipelines.settings import get_settings

    output = pipeline_env.root / "my data" / "output"
    modules = pipeline_env.root / "my modules"
    monkeypatch.setenv("JUST_DNA_PIPELINES_OUTPUT_DIR", str(output))
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(modules))
    get_settings.cache_clear()
    return output, modules


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            "cannot write {output}/users/alice/s1/report.html: disk full",
            "cannot write report.html: disk full",
        ),
        ("module folder {modules} does not exist", "module folder my modules does not exist"),
        (
            "No such file or directory: '{modules}/vo2max/weights.parquet'",
            "No such file or directory: 'weights.parquet'",
        ),
        (
            'PlRefPath {{ inner: "/srv/a b/c.parquet" }}',
            'PlRefPath {{ inner: "c.parquet" }}',
        ),
        ("unreadable /srv/modules/vo2max/weights.parquet (bad)", "unreadable weights.parquet (bad)"),
        (
            "No such file (os error 2): ...v/my modules/x/weights.parquet (set POLARS_VERBOSE=1 to see full path)",
            "No such file (os error 2): weights.parquet",
        ),
        (
            "see https://huggingface.co/datasets/x/y and a/b/c",
            "see https://huggingface.co/datasets/x/y and a/b/c",
        ),
        (
            "module longevitymap failed... reading: ...ho/srv/m/x/weights.parquet (set POLARS_VERBOSE=1 to see full "
            "path)",
            "module longevitymap failed... reading: weights.parquet",
        ),
        (
            "a: ...x/a.parquet (set POLARS_VERBOSE=1 to see full path); b: ...y/b.parquet (set POLARS_VERBOSE=1 to "
            "see full path)",
            "a: a.parquet; b: b.parquet",
        ),
        ("the key may not contain '/'", "the key may not contain '/'"),
    ],
    ids=[
        "under-a-root-with-spaces",
        "a-root-alone",
        "quoted",
        "quoted-elsewhere",
        "unquoted",
        "cut-by-polars",
        "urls",
        "cut-by-polars-after-other-dots",
        "cut-by-polars-twice",
        "a-quoted-slash",
    ],
)
def test_server_paths_become_file_names(roots, message: str, shown: str) -> None:
    output, modules = roots
    text = hide_server_paths(message.format(output=output, modules=modules))
    expected = shown.format(output=output, modules=modules)
    assert text == expected
    assert str(Path(output).parent.parent) not in text


def test_a_long_message_with_an_unclosed_quote_is_read_in_one_pass(pipeline_env) -> None:
    """A VCF's #CHROM columns are quoted in its refusal: "'/a/a/a..." with no closing quote, 160 KB, took the quoted
    path pattern 50 s (tried at every slash; an upload's refusal is shown through it). Now one pass: this test ends
    in well under the suite's per-test timeout, where it did not."""
    message = "malformed VCF columns: '" + "/a" * 200_000
    assert hide_server_paths(message) == "malformed VCF columns: 'a"  # a path's shape: its last part is kept
