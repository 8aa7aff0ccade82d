"""Bidi overrides and other invisible controls in names a page shows: escaped, refused, or dropped from a name."""

from __future__ import annotations

import pytest

from webui.services import samples
from webui.services.errors import WebError
from webui.services.uploads import ACCEPTED_KINDS, UploadSink
from webui.states.sample import other_person_notice, vcf_sample_options
from webui.states.samples import rejection_message, sample_row

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "invoice" + RLO + "fdp.exe" reads as "invoiceexe.pdf"


def test_a_file_the_browser_refused_is_named_with_its_controls_escaped():
    """The browser's refusal quoted the file's name as sent: a bidi override in it reordered the line."""
    message = rejection_message([f"invoice{RLO}fdp.exe\t2048\tfile-invalid-type"], 100)
    assert message == f"invoice\\u202efdp.exe: not a genome file this app reads; upload {ACCEPTED_KINDS}"
    assert message.isprintable()


def test_a_vcfs_person_named_with_controls_is_shown_escaped(alice, tmp_path, upload_file):
    """A VCF's sample column is the file's own text: the sample list, the person picker and the report notice
    showed a bidi override or a zero-width space in it as is."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    person = f"kid{RLO}\u2066x\u2069\u200b\ufeff"
    lines = []
    for line in ensure_demo_sample(tmp_path / "demo").read_text().splitlines():
        if line.startswith("#CHROM"):
            line += f"\t{person}"
        elif not line.startswith("#"):
            line += "\t" + line.split("\t")[-1]
        lines.append(line)
    (vcf := tmp_path / "family.vcf").write_text("\n".join(lines) + "\n")
    view = upload_file(alice, vcf)

    row = sample_row(view)
    assert row["vcf_samples"] == "DEMO, kid\\u202e\\u2066x\\u2069\\u200b\\ufeff"
    options = vcf_sample_options(view)
    assert [o["value"] for o in options] == ["DEMO", person]  # the name read from the file, as it is
    assert all(o["label"].isprintable() for o in options)
    assert other_person_notice(person, "DEMO").isprintable()


@pytest.mark.parametrize("control", [RLO, "\u2066", "\u2069", "\u200b", "\u200f", "\ufeff"])
def test_an_uploads_sample_name_has_no_controls(alice, control):
    """A name derived from the uploaded file's name keeps letters, digits, '.', '_' and '-' only."""
    sink = UploadSink(alice, f"{control}gpj.exe.vcf")
    try:
        assert sink.sample == "gpj.exe" and sink.filename == "gpj.exe.vcf"
    finally:
        sink.abort()


def test_a_sample_name_with_a_control_is_refused_on_one_printable_line(alice):
    with pytest.raises(WebError) as refused:
        samples.sample_page(alice, f"{RLO}fdp.exe")
    assert str(refused.value) == "no sample '\\u202efdp.exe'"
