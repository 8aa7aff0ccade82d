"""A name given on the command line with a bidi override or another invisible control is refused on one line
that shows the control as an escape (it cannot reorder what the terminal prints)."""

from __future__ import annotations

import pytest

from just_dna_pipelines.cli import main


@pytest.mark.parametrize(("option", "what"), [("--sample", "sample name"), ("--user", "user name")])
@pytest.mark.parametrize("control", ["\u202e", "\u2067", "\u200b", "\ufeff"])
def test_a_name_with_an_invisible_control_is_refused_escaped(
    pipeline_env, tmp_path, capsys, option, what, control
):
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    vcf = ensure_demo_sample(tmp_path)
    args = ["--vcf", str(vcf), "--modules-source", "demo", "--no-report", "--user", "alice"]
    code = main(["annotate-modules", *args, option, f"{control}fdp.exe"])
    err = capsys.readouterr().err
    assert code == 2
    escaped = ascii(control)[1:-1]
    assert err == (
        f"error: invalid {what} '{escaped}fdp.exe': use 1-64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit\n"
    )
    assert not (pipeline_env.output_dir / "users").exists()
