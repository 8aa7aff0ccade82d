"""Server messages as the pages show them."""

from webui.formatting import expected_wait, sentences
from webui.states.samples import upload_summary


def test_notes_read_as_sentences():
    notes = [
        "genome build not detected from the header (no ##reference or contig lengths)",
        "the genome build is not stated; it will be decided from the data at the module sites.",
        "",
    ]
    assert sentences(notes) == (
        "Genome build not detected from the header (no ##reference or contig lengths). "
        "The genome build is not stated; it will be decided from the data at the module sites."
    )


def test_an_upload_summary_with_notes_starts_each_with_a_capital(alice, upload_file, tmp_path):
    """Once "... matched by rsID only. the genome build is not stated" (run together, lower case)."""
    vcf = tmp_path / "unstated.vcf"  # no ##reference, no contig lengths: the build is not stated
    vcf.write_text(
        '##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n1\t100\trs1\tA\tG\t.\tPASS\t.\tGT\t0/1\n"
    )
    view = upload_file(alice, vcf)
    assert any(note.startswith("the genome build is not stated") for note in view.notes)
    summary = upload_summary(view)
    assert summary.startswith("unstated (") and "The genome build is not stated" in summary
    for sentence in summary.split(". ")[1:]:
        assert sentence[:1].isupper(), summary


def test_an_expected_wait_reads_in_round_words():
    """A queued run's wait was "about 1.0 s" when the run ahead was overdue, and "about 37.4 s" otherwise."""
    assert [expected_wait(s) for s in (0.0, 4.9, 5.0, 37.4, 59.0, 61.0, 150.0, 3599.0, 3660.0, 7500.0)] == [
        "any moment now",
        "any moment now",
        "in about 5 s",
        "in about 35 s",
        "in about 60 s",
        "in about 1 min",
        "in about 2 min",
        "in about 1 h 00 min",
        "in about 1 h 01 min",
        "in about 2 h 05 min",
    ]


def test_a_queued_runs_line_says_its_place_and_wait():
    from just_dna_pipelines.runs.models import RunInfo
    from webui.states.run import queue_text

    def queued(place: int, wait: float) -> RunInfo:
        return RunInfo("r", "u/s", "annotate", "queued", ["longevitymap"], None, None, None, place, wait)

    info = queued(2, 0.2)
    assert queue_text(info).startswith(
        "Waiting in the queue: position 2 (1 run ahead of it); expected to start any moment now."
    )
    later = queued(1, 130.0)
    assert "position 1 (next to start); expected to start in about 2 min." in queue_text(later)
