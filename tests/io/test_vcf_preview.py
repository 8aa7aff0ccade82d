"""The quick look (header + first records): GT use, gVCF blocks from the records, the default sample."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.io import vcf_preview
from just_dna_pipelines.io.vcf_peek import is_called
from just_dna_pipelines.io.vcf_preview import preview_vcf
from just_dna_pipelines.io.vcf_samples import default_sample, looks_like_control

from .conftest import GT_LINE, MakeVcf


def test_gt_used_but_not_declared_is_read_with_a_warning(make_vcf: MakeVcf) -> None:
    preview = preview_vcf(make_vcf(["S"], ["chr1 5 . TA T 0 . . GT 0/1"], meta=""))
    assert preview.peek.with_gt == 1
    assert preview.warnings[-1] == (
        "GT is used by the records but not declared by a ##FORMAT line; read as genotypes"
    )


def test_likelihoods_without_gt_say_what_to_do(make_vcf: MakeVcf) -> None:
    meta = '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="PL">\n'
    with pytest.raises(
        VcfError, match=r"has genotype likelihoods but no GT \(genotype calls\); call genotypes"
    ):
        preview_vcf(make_vcf(["S"], ["X 1 . A <*> 0 . DP=11 PL 0,15,100"], meta=meta))


def test_gt_declared_but_on_no_record_is_refused(make_vcf: MakeVcf) -> None:
    """A header's GT line is not a call: records without GT give nothing to match (once "annotated" with none)."""
    with pytest.raises(VcfError, match=r"declares GT \(genotype\) but none of its first 2 records has one"):
        preview_vcf(make_vcf(["S"], ["chr1 5 . A T 0 . . DP 11", "chr1 9 . C G 0 . . DP 12"]))


@pytest.mark.parametrize(
    ("records", "is_gvcf"),
    [
        # DeepVariant: <*> blocks with END, no gVCF line in the header
        (["chr20 100 . T <*> 0 . END=116 GT:GQ 0/0:50", "chr20 117 . C T,<*> 36 PASS . GT:GQ 0/1:34"], True),
        # Illumina (Starling): ALT "." with END
        (["chr21 19999929 . T . . PASS END=20000054;BLOCKAVG_min30p3a GT 0/0"], True),
        # a plain VCF with a hom-ref site: ALT "." but no END
        (["chr1 10 rs1 A . . PASS . GT 0/0", "chr1 20 rs2 C T . PASS . GT 0/1"], False),
    ],
)
def test_gvcf_blocks_are_found_in_the_records(make_vcf: MakeVcf, records: list[str], is_gvcf: bool) -> None:
    preview = preview_vcf(make_vcf(["S"], records))
    assert not preview.header.is_gvcf  # the header alone does not say so
    assert preview.is_gvcf is is_gvcf


def test_the_default_sample_skips_a_blank_control(make_vcf: MakeVcf) -> None:
    path = make_vcf(["BLANK", "NA12878", "NA12891"], ["chr22 5 . C G 50 . . GT 0/0 0/1 1/1"])
    preview = preview_vcf(path)
    assert (preview.default_sample, preview.sample_column) == ("NA12878", "NA12878")
    assert preview.peek.called == [1, 1, 1]
    assert preview_vcf(path, "BLANK").sample_column == "BLANK"  # asked for: honoured


def test_the_default_sample_skips_a_column_without_calls(make_vcf: MakeVcf) -> None:
    path = make_vcf(["first", "second"], ["chr1 5 . C G 50 . . GT ./. 0/1", "chr1 9 . C G 50 . . GT . 1|1"])
    assert preview_vcf(path).default_sample == "second"


def test_an_unknown_sample_lists_the_samples_without_quotes(make_vcf: MakeVcf) -> None:
    with pytest.raises(VcfError) as info:
        preview_vcf(make_vcf(["A", "B"], ["chr1 5 . C G 50 . . GT 0/1 0/1"]), "C")
    assert str(info.value) == "sample C is not in in.vcf; its samples: A, B"


@pytest.mark.parametrize(
    ("samples", "called", "expected"),
    [
        (["BLANK", "NA1"], None, "NA1"),
        (["NTC", "ntc2", "water", "H2O", "NA1"], None, "NA1"),
        (["", "Negative_Control", "S9"], None, "S9"),
        (["BLANK", "NTC"], None, "BLANK"),  # only controls: the first
        (["S1", "S2"], [0, 3], "S2"),
        (["S1", "S2"], [0, 0], "S1"),
        (["BLANK", "S1"], [5, 0], "S1"),  # a real name beats a control that has calls
        (["blanket-study-7", "Ntcoli"], None, "blanket-study-7"),  # not controls: whole names only
    ],
)
def test_default_sample(samples: list[str], called: list[int] | None, expected: str) -> None:
    assert default_sample(samples, called) == expected


def test_control_names() -> None:
    assert [looks_like_control(n) for n in ["BLANK", "blank_2", "NTC-1", "", " ", "NA12878", "-"]] == [
        True, True, True, True, True, False, False,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("gt", "called"),
    [
        ("0/1", True),
        ("1", True),
        ("/0|1", True),
        ("|0", True),
        ("./.", False),
        ("0/.", False),
        ("0|0|1", False),
    ],
)
def test_is_called(gt: str, called: bool) -> None:
    assert is_called(gt) is called


def _record_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the reading functions preview_vcf calls from now on, in order."""
    reads: list[str] = []
    for name in ("read_vcf_header", "peek_records"):
        real = getattr(vcf_preview, name)
        monkeypatch.setattr(
            vcf_preview, name, lambda *a, _real=real, _name=name: reads.append(_name) or _real(*a)
        )
    return reads


def test_a_file_looked_at_again_is_not_read_again(make_vcf: MakeVcf, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run previews its genome three times (the command's check, the source step, normalization)."""
    reads = _record_reads(monkeypatch)
    path = make_vcf(["S1", "S2"], ["chr1 5 . A T 0 . . GT 0/1 ./.", "chr1 9 . C G 0 . . GT 1/1 ./."])
    first = preview_vcf(path)
    again = preview_vcf(path, "S2")
    assert reads == ["read_vcf_header", "peek_records"]
    assert (first.sample_column, again.sample_column, again.peek.called) == ("S1", "S2", [2, 0])


@pytest.mark.parametrize(
    ("samples", "meta"),
    [
        ([f"S{i}" for i in range(20_000)], ""),  # a cohort's worth of sample names
        (["S"], "".join(f"##contig=<ID=c{i}>\n" for i in range(20_000))),  # and of contigs
        (["S"], "##reference=" + "x" * (2 << 20) + "\n"),  # few names, megabytes of text
    ],
    ids=["samples", "contigs", "long-line"],
)
def test_a_large_header_is_not_kept(
    make_vcf: MakeVcf, monkeypatch: pytest.MonkeyPatch, samples: list[str], meta: str
) -> None:
    """A refused upload whose header lists millions of names must not stay in the web server's memory."""
    reads = _record_reads(monkeypatch)
    calls = " ".join(["0/1"] * len(samples))
    path = make_vcf(samples, [f"chr1 5 . A T 0 . . GT {calls}"], meta=GT_LINE + meta)
    first = preview_vcf(path)
    again = preview_vcf(path)
    assert reads == ["read_vcf_header", "peek_records"] * 2
    assert (len(first.header.samples), len(again.header.samples)) == (len(samples), len(samples))


def test_a_file_rewritten_in_place_within_a_clock_tick_is_read_again(make_vcf: MakeVcf) -> None:
    """Same path, inode, size and modification time (a rewrite within the few milliseconds one time stamp
    covers): the bytes still tell it apart."""
    path = make_vcf(["ALICE"], ["chr1 5 . A T 0 . . GT 0/1"])
    before = os.stat(path)
    assert preview_vcf(path).header.samples == ["ALICE"]
    path.write_text(path.read_text().replace("ALICE", "BOBBY").replace("0/1", "1/1"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    preview = preview_vcf(path)
    assert (preview.header.samples, preview.peek.called) == (["BOBBY"], [1])


def test_a_kept_look_names_the_file_as_each_caller_spells_it(
    make_vcf: MakeVcf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_vcf(["S"], ["chr1 5 . A T 0 . . GT 0/1"])
    monkeypatch.chdir(tmp_path)
    assert preview_vcf(Path("in.vcf")).header.path == Path("in.vcf")
    assert preview_vcf(path).header.path == path


def test_what_a_caller_does_to_its_preview_does_not_reach_the_next(make_vcf: MakeVcf) -> None:
    path = make_vcf(["S1", "S2"], ["chr1 5 . A T 0 . . GT 0/1 1/1"])
    first = preview_vcf(path)
    warnings = list(first.header.warnings)
    first.header.samples.append("INTRUDER")
    first.header.warnings.append("planted")
    assert first.peek.called is not None
    first.peek.called[0] = 99
    again = preview_vcf(path)
    assert (again.header.samples, again.header.warnings, again.peek.called) == (
        ["S1", "S2"],
        warnings,
        [1, 1],
    )
