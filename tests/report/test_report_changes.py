"""The report says what changed since the sample's previous report: variants added, removed, reweighted."""

from __future__ import annotations

import json
from pathlib import Path

from just_dna_pipelines.report.build import build_report_data
from just_dna_pipelines.report.render import render_html, write_report


def test_second_report_lists_what_changed(tmp_path: Path, factory, parse_report, expected_figures) -> None:
    row = factory.matched_row
    modules = {"longevitymap": {"ledger": factory.ledger(5, 3)}}
    first = [
        row("longevitymap", "rs1", 0.5),
        row("longevitymap", "rs2", -0.2),
        row("longevitymap", "rs3", 0.1),
    ]
    sample_dir, _ = factory.write_sample(tmp_path / "one", modules, {"longevitymap": first})
    data = build_report_data(sample_dir)
    assert data.changes is None  # the first report has nothing to compare with
    write_report(data, sample_dir / "reports")
    assert not any(p.name.startswith("previous") for p in (sample_dir / "reports").iterdir())

    # The module moved on: rs1 reweighted, rs2 gone, rs4 new; same sample folder, so the history is there.
    second = [
        row("longevitymap", "rs1", 0.9),
        row("longevitymap", "rs3", 0.1),
        row("longevitymap", "rs4", -0.3),
    ]
    again = {"longevitymap": {"ledger": factory.ledger(5, 3), "version": "0.6", "sha256": "ef" * 32}}
    factory.write_sample(tmp_path / "two", again, {"longevitymap": second})
    (sample_dir / "modules").rename(tmp_path / "old_modules")
    (tmp_path / "two" / "users" / "alice" / "NA12878" / "modules").rename(sample_dir / "modules")
    data = build_report_data(sample_dir)
    changes = data.changes
    assert changes is not None and changes.any
    assert [(c.rsid, c.weight_now) for c in changes.added] == [("rs4", -0.3)]
    assert [(c.rsid, c.weight_then) for c in changes.removed] == [("rs2", -0.2)]
    assert [(c.rsid, c.weight_then, c.weight_now) for c in changes.reweighted] == [("rs1", 0.5, 0.9)]
    assert changes.modules_updated == (("longevitymap", "0.5", "0.6"),)
    html = render_html(data)
    assert (
        "Reweighted: longevitymap rs1 A/G: 0.5 → 0.9" in html
        and "New module versions: longevitymap 0.5 → 0.6" in html
    )
    page = parse_report(html)
    seen = dict(page.figures)
    assert {k: seen[k] for k in ("changes.added", "changes.removed", "changes.reweighted")} == {
        "changes.added": "1",
        "changes.removed": "1",
        "changes.reweighted": "1",
    }
    assert dict(page.figures).items() >= expected_figures(data).items()

    write_report(data, sample_dir / "reports")  # the third report compares with the second: nothing changed
    third = build_report_data(sample_dir).changes
    assert (
        third is not None
        and not third.any
        and "Nothing changed." in render_html(build_report_data(sample_dir))
    )


def test_modules_one_report_did_not_run_are_not_changes(tmp_path: Path, factory) -> None:
    """A report of some modules after one of all (or the other way round) compares the modules both ran."""
    row = factory.matched_row
    both = {"longevitymap": {"ledger": factory.ledger(5, 3)}, "vo2max": {"ledger": factory.ledger(4, 2)}}
    rows = {"longevitymap": [row("longevitymap", "rs1", 0.5)], "vo2max": [row("vo2max", "rs9", -1.0)]}
    sample_dir, _ = factory.write_sample(tmp_path / "all", both, rows)
    write_report(build_report_data(sample_dir), sample_dir / "reports")

    only = {"longevitymap": {"ledger": factory.ledger(5, 3)}}
    factory.write_sample(tmp_path / "some", only, {"longevitymap": [row("longevitymap", "rs2", 0.2)]})
    (sample_dir / "modules").rename(tmp_path / "old_modules")
    (tmp_path / "some" / "users" / "alice" / "NA12878" / "modules").rename(sample_dir / "modules")
    data = build_report_data(sample_dir)
    changes = data.changes
    assert changes is not None
    assert [(c.module, c.rsid) for c in changes.removed] == [("longevitymap", "rs1")]  # not vo2max's rs9
    assert [(c.module, c.rsid) for c in changes.added] == [("longevitymap", "rs2")]
    assert changes.compared == ("longevitymap",)
    assert "for the modules both ran: longevitymap:" in render_html(data)
    write_report(data, sample_dir / "reports")

    (sample_dir / "modules").rename(tmp_path / "some_modules")
    factory.write_sample(tmp_path / "all_again", both, rows)
    (tmp_path / "all_again" / "users" / "alice" / "NA12878" / "modules").rename(sample_dir / "modules")
    changes = build_report_data(sample_dir).changes
    assert changes is not None
    assert [(c.module, c.rsid) for c in changes.added] == [("longevitymap", "rs1")]  # not vo2max's rs9


def test_a_report_sharing_no_module_with_the_previous_one_says_nothing_was_compared(
    tmp_path: Path, factory
) -> None:
    row = factory.matched_row
    first = {"longevitymap": {"ledger": factory.ledger(5, 3)}}
    sample_dir, _ = factory.write_sample(
        tmp_path / "one", first, {"longevitymap": [row("longevitymap", "rs1", 0.5)]}
    )
    write_report(build_report_data(sample_dir), sample_dir / "reports")
    other = {"vo2max": {"ledger": factory.ledger(4, 2)}}
    factory.write_sample(tmp_path / "two", other, {"vo2max": [row("vo2max", "rs9", -1.0)]})
    (sample_dir / "modules").rename(tmp_path / "old_modules")
    (tmp_path / "two" / "users" / "alice" / "NA12878" / "modules").rename(sample_dir / "modules")
    data = build_report_data(sample_dir)
    assert data.changes is not None and data.changes.compared == ()
    html = render_html(data)
    assert "none (no module of this report was in that one, so nothing could be compared)" in html
    assert "Nothing changed." not in html


def test_a_report_of_another_person_of_the_vcf_is_not_compared(tmp_path: Path, factory) -> None:
    """Switching the person of a multi-sample VCF listed the first person's variants as "removed" and the second's
    as "added", as if one person's genome had changed."""
    row = factory.matched_row
    modules = {"longevitymap": {"ledger": factory.ledger(5, 3)}}
    sample_dir, _ = factory.write_sample(
        tmp_path / "one", modules, {"longevitymap": [row("longevitymap", "rs1", 0.5)]}
    )
    write_report(build_report_data(sample_dir), sample_dir / "reports")  # of NA12878

    factory.write_sample(tmp_path / "two", modules, {"longevitymap": [row("longevitymap", "rs2", -0.2)]})
    manifest_path = tmp_path / "two" / "users" / "alice" / "NA12878" / "modules" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["input"]["sample_column"] = "NA12891"  # her father, in the same file
    manifest_path.write_text(json.dumps(manifest))
    (sample_dir / "modules").rename(tmp_path / "old_modules")
    manifest_path.parent.rename(sample_dir / "modules")
    data = build_report_data(sample_dir)
    changes = data.changes
    assert changes is not None and changes.other_person == "NA12878" and not changes.any
    assert (changes.added, changes.removed) == ((), ())
    html = render_html(data)
    assert "was of NA12878, another person in it: the two are not compared." in html
    assert "Removed:" not in html and "Added:" not in html and "Nothing changed." not in html

    write_report(data, sample_dir / "reports")  # the next report of NA12891 compares with this one again
    again = build_report_data(sample_dir).changes
    assert again is not None and again.other_person is None and not again.any
