"""Server messages as the pages show them."""

from webui.formatting import sentences
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
