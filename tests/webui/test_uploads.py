"""Uploads: streamed to disk, validated at once, nothing kept when rejected."""

import gzip
from pathlib import Path

import pytest

from webui.config import get_web_settings
from webui.services import samples
from webui.services.errors import WebError
from webui.services.uploads import ACCEPTED_KINDS, UploadSink, add_demo_sample


def _stored_files(root: Path) -> list[str]:
    """Every file under the input folder (uploads and staging)."""
    return sorted(str(p.relative_to(root)) for p in (root / "input").rglob("*") if p.is_file())


def test_real_chr21_upload_is_registered_with_its_facts(alice, web_env, upload_file, chr21_vcf):
    view = upload_file(alice, chr21_vcf)
    assert view.name == "PG_NA12878_hg38-chr21"
    assert view.record_count == 65370
    assert view.genome_build == "GRCh38"
    assert view.vcf_samples == "NA12878"
    assert view.status == "uploaded"
    assert _stored_files(web_env.root) == ["input/users/alice/PG_NA12878_hg38-chr21.vcf.gz"]
    assert [s.name for s in samples.list_samples(alice)] == ["PG_NA12878_hg38-chr21"]


def test_a_vcf_of_2504_people_names_the_first_few(alice, upload_file, genomes):
    """The sample page once listed all 2,504 names of a 1000 Genomes VCF above the module checklist."""
    vcf = (
        genomes.parent
        / "corpus/vcf/vcflib__samples__1kg-phaseIII-v5a.20130502.genotypes.chr22-16-16.5mb.vcf.gz"
    )
    view = upload_file(alice, vcf)
    assert view.vcf_samples.startswith("HG00096, HG00097, ") and view.vcf_samples.endswith(" and 2494 more")
    assert len(view.vcf_sample_list) == 1000  # the picker offers the first thousand


def test_bcf_upload(alice, upload_file, genomes):
    view = upload_file(alice, genomes / "pg-hg38.bcf")
    assert (view.record_count, view.filename) == (58447, "pg-hg38.bcf")


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"hello, this is not a VCF\n", "notes.vcf", "VCF"),
        (gzip.compress(b"garbage"), "broken.vcf.gz", "broken"),
        (b"", "empty.vcf", "empty"),
    ],
    ids=["text", "gzip-garbage", "empty"],
)
def test_bad_files_are_rejected_and_nothing_is_kept(alice, web_env, upload_file, content, filename, message):
    source = web_env.root / filename
    source.write_bytes(content)
    with pytest.raises(WebError, match=message):
        upload_file(alice, source)
    assert _stored_files(web_env.root) == []
    assert samples.list_samples(alice) == []


def test_grch37_without_a_chain_or_rsids_is_refused_with_what_to_do(alice, web_env, upload_file, genomes):
    with pytest.raises(WebError, match=r"GRCh37 and has no rsIDs.*JUST_DNA_PIPELINES_LIFTOVER_CHAIN"):
        upload_file(alice, genomes / "PG_NA12878_chr21.vcf.gz")
    assert _stored_files(web_env.root) == []


def test_grch37_with_a_chain_is_accepted_and_says_sites_will_be_lifted(
    alice, web_env, upload_file, genomes, chain_configured
):
    view = upload_file(alice, genomes / "PG_NA12878_chr21.vcf.gz")
    assert view.genome_build == "GRCh37" and view.input_kind == "vcf"
    assert any("lifted to GRCh37" in note for note in view.notes)


def test_dna_test_raw_data_is_accepted_with_what_was_detected(alice, web_env, upload_file, chain_configured):
    """A real-format 23andMe file (written here from the corpus sample's header and rows) becomes a sample."""
    from tests.conftest import SHARED_FIXTURES, require_shared_fixtures

    require_shared_fixtures()
    sample = sorted((SHARED_FIXTURES / "corpus" / "vcf").glob("snps__tests__input__23andme*.txt"))[0]
    view = upload_file(alice, sample, filename="my_23andme.txt")
    assert (view.input_kind, view.vendor) == ("array", "23andMe")
    assert view.record_count > 0 and view.call_rate is not None and 0 < view.call_rate <= 1
    assert _stored_files(web_env.root) == ["input/users/alice/my_23andme.txt"]


def test_sites_only_vcf_is_refused(alice, web_env, upload_file, genomes):
    with pytest.raises(WebError, match="no sample columns"):
        upload_file(alice, genomes / "longevity_snps_1000genom.vcf")
    assert _stored_files(web_env.root) == []


def test_wrong_extension_is_refused_before_anything_is_written(alice, web_env):
    with pytest.raises(
        WebError, match=r"not a genome file name; upload a VCF .* or a DNA-test raw data file"
    ):
        UploadSink(alice, "genome.exe")
    assert _stored_files(web_env.root) == []


def test_size_limit_stops_the_upload_and_removes_the_part(alice, web_env, monkeypatch):
    monkeypatch.setenv("JUST_DNA_WEBUI_MAX_UPLOAD_MB", "1")
    get_web_settings.cache_clear()
    sink = UploadSink(alice, "big.vcf")
    sink.write(b"x" * 600_000)
    with pytest.raises(WebError, match="too large"):
        sink.write(b"x" * 600_000)
    assert _stored_files(web_env.root) == []


def test_path_tricks_in_file_names_stay_in_the_users_folder(alice, web_env, upload_file):
    source = web_env.root / "d.vcf"
    demo = add_demo_sample(alice)  # a valid VCF to reuse under hostile names
    source.write_bytes((web_env.root / "input" / "users" / "alice" / demo.filename).read_bytes())
    view = upload_file(alice, source, filename="../../etc/passwd.vcf")
    assert view.name == "passwd"
    files = _stored_files(web_env.root)
    assert all(f.startswith("input/users/alice/") for f in files)


def test_same_sample_twice_is_refused(alice):
    add_demo_sample(alice)
    with pytest.raises(WebError, match="already have a sample"):
        add_demo_sample(alice)


def _demo_bytes(alice, web_env) -> bytes:
    """A valid small VCF (the demo sample), read back from where the app stored it, then removed again."""
    demo = add_demo_sample(alice)
    data = (web_env.root / "input" / "users" / "alice" / demo.filename).read_bytes()
    samples.delete_sample(alice, demo.name)
    return data


def test_two_uploads_of_one_name_at_once_keep_exactly_one_intact_file(alice, web_env):
    """Two tabs uploading dup.vcf at the same moment: one is kept whole, the other told why; no SQL error."""
    import threading

    from just_dna_pipelines.uploads import find_user_vcf

    data = _demo_bytes(alice, web_env)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def upload() -> None:
        barrier.wait()
        try:
            sink = UploadSink(alice, "dup.vcf")
            for start in range(0, len(data), 4096):
                sink.write(data[start : start + 4096])
            outcomes.append("added " + sink.finish().name)
        except WebError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "added dup", outcomes
    assert "being uploaded already" in sorted(outcomes)[1], outcomes
    assert [s.name for s in samples.list_samples(alice)] == ["dup"]
    assert find_user_vcf("alice", "dup").read_bytes() == data  # the kept sample's file is there, whole
    assert _stored_files(web_env.root) == ["input/users/alice/dup.vcf"]


def test_an_abandoned_upload_frees_its_name(alice, web_env):
    sink = UploadSink(alice, "later.vcf")
    with pytest.raises(WebError, match="being uploaded already"):
        UploadSink(alice, "later.vcf")
    sink.abort()
    again = UploadSink(alice, "later.vcf")  # the name is free again
    again.abort()
    assert _stored_files(web_env.root) == []


def _gzipped_demo(web_env, records: int | None = None) -> bytes:
    """The demo VCF, gzipped, keeping its first `records` records (all when None)."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    lines = ensure_demo_sample(web_env.root / "demo").read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    return gzip.compress("".join(header + body[:records]).encode())


def _upload_bytes(user, data: bytes, filename: str) -> samples.SampleView:
    """Push `data` through the upload sink under `filename`, like the browser upload does."""
    sink = UploadSink(user, filename)
    sink.write(data)
    return sink.finish()


# Each second name used to become a sample whose stored file was the first one's (its name read back as
# the first sample), so publishing it replaced the first sample's genome.
NAMES_STORED_AS_ANOTHER = [
    ("mine.vcf.gz", "mine.vcf..gz"),
    ("a.vcf.gz", "a.vcf_.gz"),
    ("a.vcf.gz", "a.vcf .gz"),
    ("a.txt.gz", "a.txt..gz"),
    ("a.csv.gz", "a.csv_.gz"),
    ("a.tsv.gz", "a.tsv-.gz"),
]


@pytest.mark.parametrize(("first", "second"), NAMES_STORED_AS_ANOTHER)
def test_a_name_stored_as_an_existing_samples_file_is_refused_and_that_file_kept(
    alice, web_env, first, second
):
    from just_dna_pipelines.uploads import find_user_vcf

    original = _gzipped_demo(web_env)
    kept = _upload_bytes(alice, original, first)
    with pytest.raises(WebError, match=f"^you already have a sample named {kept.name}; delete it first"):
        _upload_bytes(alice, _gzipped_demo(web_env, records=6), second)
    assert [(s.name, s.record_count) for s in samples.list_samples(alice)] == [(kept.name, kept.record_count)]
    assert find_user_vcf("alice", kept.name).read_bytes() == original
    assert _stored_files(web_env.root) == [f"input/users/alice/{first}"]


@pytest.mark.parametrize("name", [second for _, second in NAMES_STORED_AS_ANOTHER])
def test_an_odd_name_becomes_the_sample_its_stored_file_names(alice, web_env, name):
    from just_dna_pipelines.keys import sample_name_from_filename
    from just_dna_pipelines.uploads import find_user_vcf

    data = _gzipped_demo(web_env)
    view = _upload_bytes(alice, data, name)
    assert sample_name_from_filename(view.filename) == view.name
    assert view.name in {"mine", "a"}
    assert find_user_vcf("alice", view.name).read_bytes() == data  # what a run of the sample reads


def test_a_stored_file_without_a_sample_record_is_never_replaced(alice, web_env):
    """A genome dropped into the user's folder (or left by a crash) keeps its bytes when the name is uploaded."""
    folder = web_env.root / "input" / "users" / "alice"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dropped.vcf.gz").write_bytes(dropped := _gzipped_demo(web_env, records=3))
    with pytest.raises(WebError, match=r"^you already have a sample named dropped; delete it first"):
        _upload_bytes(alice, _gzipped_demo(web_env), "dropped.vcf.gz")
    assert (folder / "dropped.vcf.gz").read_bytes() == dropped
    assert _stored_files(web_env.root) == ["input/users/alice/dropped.vcf.gz"]
    assert samples.list_samples(alice) == []
    UploadSink(alice, "dropped.vcf.gz").abort()  # the name was freed again


@pytest.mark.parametrize("errno_name", ["EPERM", "EOPNOTSUPP"])
def test_without_hard_links_an_upload_is_still_published_and_never_over_a_stored_file(
    alice, web_env, monkeypatch, errno_name
):
    """A file system without hard links (exFAT, some network mounts: os.link fails with EPERM or
    EOPNOTSUPP, stood in for here) still takes uploads, and still refuses to replace a stored genome."""
    import errno
    import os

    def no_links(*_args, **_kwargs):
        raise OSError(getattr(errno, errno_name), "hard links are not supported")

    monkeypatch.setattr(os, "link", no_links)
    data = _gzipped_demo(web_env)
    view = _upload_bytes(alice, data, "mine.vcf.gz")
    assert (web_env.root / "input" / "users" / "alice" / "mine.vcf.gz").read_bytes() == data
    folder = web_env.root / "input" / "users" / "alice"
    (folder / "dropped.vcf.gz").write_bytes(dropped := _gzipped_demo(web_env, records=3))
    with pytest.raises(WebError, match=r"^you already have a sample named dropped; delete it first"):
        _upload_bytes(alice, data, "dropped.vcf.gz")
    assert (folder / "dropped.vcf.gz").read_bytes() == dropped
    assert [s.name for s in samples.list_samples(alice)] == [view.name]
    assert sorted(_stored_files(web_env.root)) == [
        "input/users/alice/dropped.vcf.gz",
        "input/users/alice/mine.vcf.gz",
    ]


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        (
            "report.pdf\nYour session expired: log in again at http://evil.example\n.exe",
            "report.pdf\\nYour session expired: log in again at http://evil.example\\n.exe",
        ),
        ("a\r\x1b[2Kfake\x00line\u202egpj.exe", "a\\r\\x1b[2Kfake\\x00line\\u202egpj.exe"),
        ("x" * 5000 + ".exe", "x" * 77 + "..."),
    ],
    ids=["newlines", "control-characters", "long"],
)
def test_a_refused_file_name_is_quoted_escaped_on_one_short_line(alice, filename, shown):
    with pytest.raises(WebError) as refused:
        UploadSink(alice, filename)
    message = str(refused.value)
    assert message == f"{shown}: not a genome file name; upload {ACCEPTED_KINDS}"
    assert message.isprintable()


def test_an_upload_finishing_after_its_account_was_deleted_keeps_nothing(alice, web_env, tmp_path):
    """Deleting the account in another tab while an upload was checked: the upload then stored the genome again,
    registered its partition and a row under the deleted account's id, which SQLite gave the next account."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample
    from just_dna_pipelines.runs.instance import get_instance
    from webui.services import accounts

    sink = UploadSink(alice, "mine.vcf")
    sink.write(ensure_demo_sample(tmp_path / "demo").read_bytes())
    samples.delete_account(alice)
    with pytest.raises(WebError, match="account was deleted"):
        sink.finish()
    assert _stored_files(web_env.root) == []
    assert not get_instance().has_dynamic_partition("user_vcf_files", "alice/mine")
    for name in ("mallory", "alice"):  # the next accounts made (mallory took alice's id before)
        account = accounts.sign_up(name, "a brand new password")
        assert account.id != alice.id  # a deleted account's id is never handed out again
        assert samples.list_samples(account) == []


def _age_reservation(user, sample: str, seconds: float) -> None:
    """Date the hold on `sample` back by `seconds` (as if its upload last made progress then)."""
    import time

    from sqlmodel import col, update

    from webui.db import UploadReservation, db_session

    with db_session() as db:
        db.exec(
            update(UploadReservation)
            .where(col(UploadReservation.user_id) == user.id, col(UploadReservation.name) == sample)
            .values(created_at=time.time() - seconds)
        )
        db.commit()


def test_an_upload_cut_off_by_a_killed_server_frees_its_name_and_its_folder(alice, web_env):
    """The server killed mid-upload: the partial genome stayed in input/.staging for good and the name was held
    for 24 hours ("mine is being uploaded already")."""
    import os
    import time

    dead = UploadSink(alice, "mine.vcf")
    dead.write(b"##fileformat=VCFv4.2\n")  # ...and the server is killed here
    then = time.time() - samples.STALE_RESERVATION_S - 60
    for path in (dead.temp_path, dead.temp_dir):
        os.utime(path, (then, then))
    _age_reservation(alice, "mine", samples.STALE_RESERVATION_S + 60)

    again = UploadSink(alice, "mine.vcf")  # after the restart: the name is free, the partial file gone
    assert not dead.temp_dir.exists() and again.temp_dir.exists()
    again.abort()


def test_an_upload_in_progress_keeps_its_name(alice, web_env, monkeypatch):
    monkeypatch.setattr(samples, "RENEW_RESERVATION_S", 0.0)
    slow = UploadSink(alice, "mine.vcf")
    _age_reservation(alice, "mine", samples.STALE_RESERVATION_S + 60)
    slow.write(b"##fileformat=VCFv4.2\n")  # a chunk arrives: the hold is renewed
    with pytest.raises(WebError, match="being uploaded already"):
        UploadSink(alice, "mine.vcf")
    assert slow.temp_dir.exists()
    slow.abort()


def test_an_account_keeps_at_most_its_samples_and_its_bytes(
    alice, bob, web_env, upload_file, tmp_path, monkeypatch
):
    """Nothing bounded what one account kept: 16 uploads of up to 2 GB each were taken from one person on a server
    others share (found by a security audit)."""
    from webui.config import get_web_settings
    from webui.services.uploads import UploadSink

    monkeypatch.setenv("JUST_DNA_WEBUI_MAX_SAMPLES_PER_USER", "2")
    monkeypatch.setenv("JUST_DNA_WEBUI_MAX_STORAGE_GB_PER_USER", str(3 / 1024))  # 3 MB
    get_web_settings.cache_clear()
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    demo = ensure_demo_sample(tmp_path / "demo")  # ~11 KB
    upload_file(alice, demo, "one.vcf")
    upload_file(alice, demo, "two.vcf")
    with pytest.raises(WebError, match="holds 2 samples, the most one may here"):
        UploadSink(alice, "three.vcf")
    samples.delete_sample(alice, "two")
    sink = UploadSink(alice, "big.vcf")  # a place again; the bytes now decide
    with pytest.raises(WebError, match=r"more than the 3\.0 MB an account may keep here; delete a sample"):
        sink.write(bytes(4 << 20))
    assert [s.name for s in samples.list_samples(alice)] == ["one"]
    assert _stored_files(web_env.root) == ["input/users/alice/one.vcf"]  # the refused upload left nothing
    assert upload_file(bob, demo, "one.vcf").name == "one"  # another account has its own room
