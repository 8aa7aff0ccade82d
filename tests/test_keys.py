"""Partition keys and names: the one gate between user input and paths."""

import pytest

from just_dna_pipelines.keys import (
    InvalidKeyError,
    make_partition_key,
    parse_partition_key,
    sample_name_from_filename,
    stored_sample_name,
    validate_name,
)


@pytest.mark.parametrize("name", ["alice", "a", "NA12878", "user_1.b-2", "x" * 64])
def test_valid_names_pass(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../etc", "a/b", "a,b", "-x", ".hidden", "x" * 65, "a b", "a\x00b", "é"]
)
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidKeyError):
        validate_name(name)


def test_partition_key_round_trip() -> None:
    assert parse_partition_key(make_partition_key("alice", "s1")) == ("alice", "s1")


@pytest.mark.parametrize("key", ["alice", "alice/s1/x", "../s1", "alice/..", "/s1", ""])
def test_bad_partition_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        parse_partition_key(key)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("PG_NA12878_hg38-chr21.vcf.gz", "PG_NA12878_hg38-chr21"),
        ("pg-hg38.bcf", "pg-hg38"),
        ("../../etc/passwd.vcf", "passwd"),
        ("my genome (1).vcf", "my_genome_1"),
        ("....vcf", "sample"),
    ],
)
def test_sample_name_from_filename(filename: str, expected: str) -> None:
    assert sample_name_from_filename(filename) == expected


@pytest.mark.parametrize(
    ("filename", "suffix", "expected"),
    [
        ("mine.vcf.gz", ".vcf.gz", "mine"),
        ("mine.vcf..gz", ".gz", "mine"),
        ("a.vcf_.gz", ".gz", "a"),
        ("a.vcf .gz", ".gz", "a"),
        ("a.txt..gz", ".gz", "a"),
        ("a.csv_.gz", ".gz", "a"),
        ("a.tsv-.gz", ".gz", "a"),
        ("report.txt.vcf", ".vcf", "report.txt"),  # already comes back as itself: unchanged
        ("a" * 63 + "._x.vcf", ".vcf", "a" * 63),  # cut to 64 characters it ended with a dot
    ],
)
def test_stored_sample_name_is_what_the_stored_file_gives_back(
    filename: str, suffix: str, expected: str
) -> None:
    sample = stored_sample_name(filename, suffix)
    assert sample == expected
    assert sample_name_from_filename(sample + suffix) == sample


def test_stored_sample_name_wants_a_genome_suffix() -> None:
    with pytest.raises(InvalidKeyError, match="not a genome file suffix"):
        stored_sample_name("x.png", ".png")


INVISIBLE_CONTROLS = [
    "\u202e",
    "\u202a",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200b",
    "\u200e",
    "\u200f",
    "\ufeff",
]


@pytest.mark.parametrize("control", INVISIBLE_CONTROLS)
def test_a_name_with_an_invisible_control_is_refused_with_it_escaped(control: str) -> None:
    """A bidi override, isolate, zero-width or byte-order mark can make "\u202efdp.exe" read as another name."""
    with pytest.raises(InvalidKeyError) as refused:
        validate_name(f"{control}fdp.exe", "sample name")
    message = str(refused.value)
    assert (
        message.startswith(f"invalid sample name '{ascii(control)[1:-1]}fdp.exe': ") and message.isprintable()
    )


@pytest.mark.parametrize("control", INVISIBLE_CONTROLS)
def test_a_name_derived_from_a_file_name_drops_invisible_controls(control: str) -> None:
    assert sample_name_from_filename(f"{control}fdp.exe.vcf") == "fdp.exe"
    assert stored_sample_name(f"my{control}genome.vcf.gz", ".vcf.gz") == "my_genome"
