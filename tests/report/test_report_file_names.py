"""Names the report takes from the person's file (its file name, the VCF's sample column) are shown as they are
spelled, never as invisible controls that reorder what the report says around them."""

from __future__ import annotations

import json
from pathlib import Path

from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import render_html, write_report

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "NA1\u202e2878" displays as "NA18782"
ISOLATE = "\u2066"  # LEFT-TO-RIGHT ISOLATE
ZERO_WIDTH = "\u200b"


def test_the_file_name_and_the_people_of_the_vcf_are_shown_with_their_controls_escaped(
    tmp_path: Path, factory
) -> None:
    row = factory.matched_row
    modules = {"longevitymap": {"ledger": factory.ledger(5, 3)}}
    sample_dir, _ = factory.write_sample(
        tmp_path / "one", modules, {"longevitymap": [row("longevitymap", "rs1", 0.5)]}
    )
    manifest_path = sample_dir / "modules" / "manifest.json"

    def spell(file_name: str, person: str) -> None:
        manifest = json.loads(manifest_path.read_text())
        manifest["input"].update(file_name=file_name, sample_column=person, samples=[person])
        manifest_path.write_text(json.dumps(manifest))

    spell(f"tiny{RLO}fcv.exe.vcf", f"mother{ISOLATE}")
    write_report(build_report_data(sample_dir), sample_dir / "reports")  # of the mother
    spell("tiny.vcf", f"NA1{ZERO_WIDTH}2878")  # another person of the same file next
    data = build_report_data(sample_dir)
    assert data.changes is not None and data.changes.other_person == f"mother{ISOLATE}"
    html = render_html(data)

    assert not any(control in html for control in (RLO, ISOLATE, ZERO_WIDTH))
    assert "(sample column NA1\\u200b2878)" in html
    assert "was of mother\\u2066, another person in it" in html
    spell(f"tiny{RLO}fcv.exe.vcf", "NA12878")
    assert "tiny\\u202efcv.exe.vcf" in render_html(build_report_data(sample_dir))
