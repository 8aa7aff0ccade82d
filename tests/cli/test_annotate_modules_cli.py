"""`pipelines annotate-modules`: real runs, bad input as one `error:` line, nothing half-written."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from just_dna_pipelines.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["annotate-modules", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]


AHEAD = "the table was normalized ahead by the command, on the other core"  # the step's debug event


def nothing_written(env) -> bool:
    users = env.output_dir / "users"
    return not users.exists() or not any(p.is_file() for p in users.rglob("*"))


@pytest.mark.slow
def test_annotates_and_reports(pipeline_env, genomes: Path, compiled_modules: Path, capsys) -> None:
    code, out, _ = run_cli(
        capsys,
        "--vcf", str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
        "--user", "alice",
        "--modules-source", str(compiled_modules),
        "--confident-regions", str(genomes / "PG_Conf_hg38-chr21.bed.gz"),
        "--engine", "duckdb",
    )  # fmt: skip
    assert code == 0
    assert "user_hf_module_annotations done" in out
    assert "longevitymap     done        5 variants (+4 / -1); tested 6 of" in out
    # Counts read with thousands separators, in the step's line and in the summary; one variant is singular.
    assert "]   65,370 records (" in out and "sample column NA12878, 65,370 records (" in out
    assert "module longevitymap: done, 5 matched variants" in out
    report = pipeline_env.output_dir / "users/alice/PG_NA12878_hg38-chr21/reports/longevity_report.html"
    assert f"report: {report}" in out and report.is_file()
    assert "rs2838809" in report.read_text()


def test_a_module_that_cannot_be_run_is_named_not_left_out(
    pipeline_env, genomes: Path, compiled_modules: Path, tmp_path: Path, capsys
) -> None:
    """A module whose table cannot be read is said to be not run, by the command and the report."""
    import shutil

    modules = tmp_path / "modules"
    shutil.copytree(compiled_modules, modules)
    (modules / "vo2max" / "weights.parquet").write_bytes(b"not a parquet file")
    code, out, _ = run_cli(
        capsys,
        "--vcf", str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"),
        "--user", "alice",
        "--modules-source", str(modules),
    )  # fmt: skip
    assert code == 0
    line = next(line for line in out.splitlines() if line.strip().startswith("vo2max"))
    assert "not run  - the module cannot be run: the weights table is unreadable" in line
    sample_dir = pipeline_env.output_dir / "users/alice/PG_NA12878_hg38-chr21"
    manifest = json.loads((sample_dir / "modules" / "manifest.json").read_text())
    assert "vo2max" not in manifest["modules"] and list(manifest["modules_not_run"]) == ["vo2max"]
    report = (sample_dir / "reports" / "longevity_report.html").read_text()
    assert "The module vo2max was not run: it cannot be run (" in report


def test_sample_name_and_module_subset(pipeline_env, genomes: Path, compiled_modules: Path, capsys) -> None:
    code, out, _ = run_cli(
        capsys,
        "--vcf", str(genomes / "vcfanno_query.vcf.gz"),
        "--user", "bob", "--sample", "trio-kid", "--sample-column", "NA12877",
        "--modules", "coronary,vo2max", "--modules-source", str(compiled_modules), "--no-report",
    )  # fmt: skip
    assert code == 0
    manifest = json.loads((pipeline_env.output_dir / "users/bob/trio-kid/modules/manifest.json").read_text())
    assert set(manifest["modules"]) == {"coronary", "vo2max"}
    assert manifest["input"]["sample_column"] == "NA12877"
    assert "sample column NA12877" in out


def _bad_inputs(tmp: Path, genomes: Path) -> list[tuple[str, list[str], str]]:
    (tmp / "empty.vcf").write_text("")
    (tmp / "notes.vcf").write_text("just some text\n")
    header = (genomes / "antku_small.vcf").read_text().split("\n#CHROM")[0] + "\n#CHROM"
    chrom_line = (genomes / "antku_small.vcf").read_text().split("\n#CHROM")[1].split("\n")[0]
    (tmp / "header_only.vcf").write_text(header + chrom_line + "\n")
    no_gt = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n1\t5\t.\tA\tG\t.\t.\t.\tDP\t4\n"
    (tmp / "no_gt.vcf").write_text(no_gt)
    data = (genomes / "PG_NA12878_hg38-chr21.vcf.gz").read_bytes()
    (tmp / "cut.vcf.gz").write_bytes(data[: len(data) // 3])
    (tmp / "fake.vcf.gz").write_bytes(gzip.compress(b"not a vcf at all\n"))
    (tmp / "cut.bcf").write_bytes((genomes / "pg-hg38.bcf").read_bytes()[:300_000])
    folder = tmp / "adir"
    folder.mkdir(exist_ok=True)
    return [
        ("missing file", ["--vcf", str(tmp / "nope.vcf")], "file not found"),
        ("empty", ["--vcf", str(tmp / "empty.vcf")], "is empty"),
        ("not a vcf", ["--vcf", str(tmp / "notes.vcf")], "not a VCF"),
        ("gzip not a vcf", ["--vcf", str(tmp / "fake.vcf.gz")], "not a VCF"),
        ("header only", ["--vcf", str(tmp / "header_only.vcf")], "no records"),
        ("no GT", ["--vcf", str(tmp / "no_gt.vcf")], "no GT"),
        ("truncated gzip", ["--vcf", str(tmp / "cut.vcf.gz")], "truncated"),
        ("truncated bcf", ["--vcf", str(tmp / "cut.bcf")], "not a readable BCF"),
        (
            "unknown module",
            ["--vcf", str(genomes / "antku_small.vcf"), "--modules", "astrology"],
            "unknown module 'astrology'",
        ),
        ("bad user", ["--vcf", str(genomes / "antku_small.vcf"), "--user", "../root"], "invalid user name"),
        ("bad sample", ["--vcf", str(genomes / "antku_small.vcf"), "--sample", "a/b"], "invalid sample name"),
        ("a folder", ["--vcf", str(folder)], "adir is a folder, not a genome file"),
        ("a device", ["--vcf", "/dev/null"], "null is not a regular file (a device, pipe or socket)"),
        (
            "no filter value",
            ["--vcf", str(genomes / "antku_small.vcf"), "--pass-filters", " , "],
            "--pass-filters names no FILTER value",
        ),
        (
            "negative depth",
            ["--vcf", str(genomes / "antku_small.vcf"), "--min-depth", "-5"],
            "--min-depth must be 0 or more, not -5",
        ),
    ]


@pytest.mark.slow
def test_bad_input_gives_one_error_line_and_no_output(
    pipeline_env, genomes: Path, compiled_modules: Path, capsys
) -> None:
    for label, args, fragment in _bad_inputs(pipeline_env.root, genomes):
        full = [*args] if "--user" in args else [*args, "--user", "alice"]
        code, _, err = run_cli(capsys, *full, "--modules-source", str(compiled_modules), "--no-report")
        assert_one_line_error(code, err, fragment)
        assert nothing_written(pipeline_env), label


def test_a_bad_bed_is_refused_before_any_run(
    pipeline_env, genomes: Path, compiled_modules: Path, capsys
) -> None:
    """Once refused only by the run, after the genome had been read (3.5 s on chr21)."""
    from just_dna_pipelines.runs.instance import get_instance

    bed = genomes / "antku_small.vcf"  # a VCF given as the BED
    code, _, err = run_cli(
        capsys, "--vcf", str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"), "--user", "alice",
        "--confident-regions", str(bed), "--modules-source", str(compiled_modules), "--no-report",
    )  # fmt: skip
    assert_one_line_error(code, err, "antku_small.vcf is not a BED file")
    assert not get_instance().get_runs()


def test_unreachable_module_source_is_fast_and_clear(pipeline_env, genomes: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "--vcf", str(genomes / "antku_small.vcf"), "--user", "alice")
    assert_one_line_error(code, err, "unreachable")


def test_error_output_is_one_line_in_a_real_process(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    cut = pipeline_env.root / "cut.vcf.gz"
    data = (genomes / "PG_NA12878_hg38-chr21.vcf.gz").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    proc = subprocess.run(
        [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules", "--vcf", str(cut), "--user", "u",
         "--modules-source", str(compiled_modules), "--no-report"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: ") and "truncated" in proc.stderr


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def test_a_command_started_with_sigterm_ignored_leaves_no_tail_holding_its_output(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    """Started by a caller that ignores SIGTERM (some CI runners and service managers do), the command ended but
    Dagster's `tail -F` mirroring each step's output inherited the ignored SIGTERM, survived its stop, and held
    the command's stdout: a reader of the pipe waited for ever (found when a CI run's subprocess tests all hung)."""
    proc = subprocess.run(
        [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules",
         "--vcf", str(genomes / "antku_small.vcf"), "--user", "u",
         "--modules-source", str(compiled_modules), "--no-report"],
        capture_output=True, text=True, timeout=120, preexec_fn=_ignore_sigterm,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "module results: " in proc.stdout
    tails = subprocess.run(["pgrep", "-f", f"tail -F .*{pipeline_env.dagster_home}"], capture_output=True)
    assert tails.stdout == b""


def _umask_027() -> None:
    os.umask(0o027)


def test_every_output_has_the_mode_the_callers_umask_gives(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    """Under umask 027 nothing of a person's results may be readable by other accounts: the report was written
    0644 whatever the umask, the module tables 0600 (a temp file's mode), the published folders 0755."""
    proc = subprocess.run(
        [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules",
         "--vcf", str(genomes / "antku_small.vcf"), "--user", "u", "--modules-source", str(compiled_modules)],
        capture_output=True, text=True, timeout=120, preexec_fn=_umask_027,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    sample = pipeline_env.output_dir / "users" / "u" / "antku_small"
    assert (sample / "reports" / "longevity_report.html").is_file()
    modes = {
        path.relative_to(sample).as_posix(): stat.S_IMODE(path.stat().st_mode) for path in sample.rglob("*")
    }
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o750 if (sample / name).is_dir() else 0o640)
    }
    assert not wrong, wrong


@pytest.mark.slow
def test_a_run_in_a_real_process_streams_its_progress_and_leaves_stderr_empty(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules",
         "--vcf", str(genomes / "PG_NA12878_hg38-chr21.vcf.gz"), "--user", "u", "--engine", "duckdb",
         "--modules-source", str(compiled_modules), "--no-report"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # nothing from the libraries at exit either (DuckDB's bindings warn of leaks)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("annotating PG_NA12878_hg38-chr21.vcf.gz as u/PG_NA12878_hg38-chr21 with ")
    steps = [line.split("] ", 1)[1] for line in lines if line.startswith("[") and "]   " not in line]
    assert steps == [
        "user_vcf_source ...",
        "user_vcf_source done",
        "user_vcf_normalized ...",
        "user_vcf_normalized done",
        "user_hf_module_annotations ...",
        "user_hf_module_annotations done",
    ]
    assert any("module longevitymap: done" in line for line in lines)
    # the input's SHA-256 (hashed ahead by the command, while Dagster loads) is the file's
    manifest = pipeline_env.output_dir / "users/u/PG_NA12878_hg38-chr21/modules/manifest.json"
    vcf_bytes = (genomes / "PG_NA12878_hg38-chr21.vcf.gz").read_bytes()
    assert json.loads(manifest.read_text())["input"]["sha256"] == hashlib.sha256(vcf_bytes).hexdigest()
    # its normalize step took the table the command's child process made meanwhile, which left nothing behind
    from just_dna_pipelines.runs.instance import get_instance

    run_id = lines[0].rsplit("(run ", 1)[1].rstrip(")")
    messages = [entry.user_message for entry in get_instance().all_logs(run_id)]
    assert AHEAD in messages
    staging = pipeline_env.output_dir / ".staging"
    assert not staging.exists() or not any(staging.iterdir())


class ZenodoStandIn(http.server.ThreadingHTTPServer):
    """Serves /api/records/N (the record JSON) and /files/NAME like the Zenodo API, on loopback."""

    vcf: Path


class _Handler(http.server.BaseHTTPRequestHandler):
    server: ZenodoStandIn

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        host = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/api/records/4242":
            body = json.dumps(
                {"id": 4242, "files": [
                    {"key": "README.txt", "links": {"self": f"{host}/files/README.txt"}},
                    {"key": self.server.vcf.name, "size": self.server.vcf.stat().st_size,
                     "links": {"self": f"{host}/files/{self.server.vcf.name}"}},
                ]}
            ).encode()  # fmt: skip
        elif self.path == "/api/records/666":  # a record whose file link leads off the record's host
            link = f"file://{self.server.vcf}"
            body = json.dumps({"id": 666, "files": [{"key": "x.vcf", "links": {"self": link}}]}).encode()
        elif self.path in HOSTILE_RECORDS:
            body = json.dumps(HOSTILE_RECORDS[self.path](host)).encode()
        elif self.path == "/api/records/999":  # not a record
            body = b"[]"
        elif self.path == "/files/junk.vcf":
            body = b"hello, this is not a VCF\n"
        elif self.path == "/files/big.vcf":  # far more than the record states
            body = b"##fileformat=VCFv4.2\n" * 200_000
        elif self.path == f"/files/{self.server.vcf.name}":
            body = self.server.vcf.read_bytes()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HOSTILE_RECORDS = {
    "/api/records/555": lambda host: {
        "files": [{"key": "junk.vcf", "links": {"self": f"{host}/files/junk.vcf"}}]
    },
    "/api/records/777": lambda host: {
        "files": [{"key": "big.vcf", "size": 1000, "links": {"self": f"{host}/files/big.vcf"}}]
    },
    "/api/records/888": lambda host: {
        "files": [{"key": "evil\nerror: injected.vcf", "links": {"self": f"{host}/files/junk.vcf"}}]
    },
}


@pytest.fixture
def zenodo(genomes: Path) -> Iterator[str]:
    server = ZenodoStandIn(("127.0.0.1", 0), _Handler)
    server.vcf = genomes / "antku_small.vcf"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_zenodo_record_is_downloaded_and_annotated(
    pipeline_env, compiled_modules: Path, zenodo: str, capsys
) -> None:
    code, out, _ = run_cli(
        capsys, "--zenodo", f"{zenodo}/records/4242", "--user", "dora",
        "--modules-source", str(compiled_modules), "--modules", "longevitymap", "--no-report",
    )  # fmt: skip
    assert code == 0, out
    assert (pipeline_env.input_dir / "users/dora/antku_small.vcf").is_file()
    assert (pipeline_env.output_dir / "users/dora/antku_small/modules/manifest.json").is_file()


def test_zenodo_missing_record_is_one_line(pipeline_env, compiled_modules: Path, zenodo: str, capsys) -> None:
    code, _, err = run_cli(
        capsys, "--zenodo", f"{zenodo}/records/1", "--user", "dora", "--modules-source", str(compiled_modules)
    )
    assert_one_line_error(code, err, "HTTP 404")
    assert not (pipeline_env.input_dir / "users" / "dora").exists() or not any(
        (pipeline_env.input_dir / "users/dora").iterdir()
    )


def test_a_zenodo_file_link_off_the_records_host_is_not_followed(
    pipeline_env, compiled_modules: Path, zenodo: str, capsys
) -> None:
    code, _, err = run_cli(
        capsys,
        "--zenodo",
        f"{zenodo}/records/666",
        "--user",
        "dora",
        "--modules-source",
        str(compiled_modules),
    )
    assert_one_line_error(code, err, "Zenodo record links x.vcf to file://")
    assert not (pipeline_env.input_dir / "users" / "dora").exists() or not any(
        (pipeline_env.input_dir / "users/dora").iterdir()
    )


@pytest.mark.slow
def test_a_damaged_record_is_counted_in_the_manifest_and_the_report(
    pipeline_env, genomes: Path, compiled_modules: Path, capsys, tmp_path: Path
) -> None:
    lines = gzip.decompress((genomes / "PG_NA12878_hg38-chr21.vcf.gz").read_bytes()).split(b"\n")
    first_record = next(i for i, line in enumerate(lines) if line and not line.startswith(b"#"))
    lines[first_record + 10] = b"\t".join(lines[first_record + 10].split(b"\t")[:4])  # cut to 4 columns
    vcf = tmp_path / "cut.vcf"
    vcf.write_bytes(b"\n".join(lines))
    code, _, err = run_cli(
        capsys, "--vcf", str(vcf), "--user", "alice", "--modules-source", str(compiled_modules),
        "--modules", "longevitymap",
    )  # fmt: skip
    assert code == 0, err
    sample = pipeline_env.output_dir / "users/alice/cut"
    assert json.loads((sample / "modules/manifest.json").read_text())["input"]["malformed_records"] == 1
    report = (sample / "reports/longevity_report.html").read_text()
    assert "1 damaged record (cut short or unreadable) skipped" in report


@pytest.mark.parametrize(
    ("genome", "options"),
    [
        (
            "vcfanno_query.vcf.gz",
            ["--sample-column", "NA12877", "--pass-filters", "any", "--min-quality", "10"],
        ),
        ("pg-hg38.bcf", ["--read-mode", "full", "--min-depth", "5", "--pass-filters", "PASS"]),
        ("antku_small.vcf", ["--modules", "longevitymap,coronary"]),
    ],
)
def test_the_commands_options_reach_the_table_made_ahead(
    pipeline_env, genomes: Path, compiled_modules: Path, capsys, genome: str, options: list[str]
) -> None:
    """The command's child and the run's step must make the same request, or the table is read twice."""
    from just_dna_pipelines.runs.instance import get_instance

    code, out, err = run_cli(
        capsys, "--vcf", str(genomes / genome), "--user", "opts", "--modules-source", str(compiled_modules),
        "--no-report", *options,
    )  # fmt: skip
    assert code == 0, err
    [started] = [line for line in out.splitlines() if line.startswith("annotating ")]
    run_id = started.rsplit("(run ", 1)[1].rstrip(")")
    assert AHEAD in [entry.user_message for entry in get_instance().all_logs(run_id)]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (555, "not a VCF"),  # refused after the download: the file is not kept
        (777, "Zenodo sent more than the 1,000 bytes of big.vcf"),  # bounded by the size the record states
        (888, "evil_error_injected.vcf is not a VCF"),  # a name with a newline: stored under a plain name
        (999, "Zenodo did not return a record"),  # JSON of another shape: no traceback
    ],
)
def test_a_hostile_zenodo_record_is_refused_in_one_line_and_leaves_nothing(
    pipeline_env, compiled_modules: Path, zenodo: str, capsys, record: int, message: str
) -> None:
    code, _, err = run_cli(
        capsys,
        "--zenodo",
        f"{zenodo}/records/{record}",
        "--user",
        "dora",
        "--modules-source",
        str(compiled_modules),
    )
    assert_one_line_error(code, err, message)
    folder = pipeline_env.input_dir / "users" / "dora"
    assert not folder.exists() or not any(folder.iterdir()), list(folder.iterdir())


def test_an_error_quoting_a_name_with_a_newline_stays_one_line(pipeline_env, tmp_path: Path, capsys) -> None:
    """A file name with a newline printed a second, made-up 'error:' line."""
    evil = tmp_path / "evil\nerror: everything is fine.vcf"
    code, _, err = run_cli(capsys, "--vcf", str(evil), "--user", "dora", "--modules-source", "demo")
    assert_one_line_error(code, err, "file not found")
    assert "evil\\nerror: everything is fine.vcf" in err


def test_a_file_name_that_is_not_utf8_is_one_clear_line(
    pipeline_env, genomes: Path, tmp_path: Path, capsys
) -> None:
    """A Latin-1 file name ran until the normalize step, which failed with Polars' "Object does not have a
    .read() method"."""
    import os

    latin1 = tmp_path / os.fsdecode(b"gen\xf6m.vcf")
    latin1.write_bytes((genomes / "antku_small.vcf").read_bytes())
    code, _, err = run_cli(capsys, "--vcf", str(latin1), "--user", "dora", "--modules-source", "demo")
    assert_one_line_error(code, err, "is not valid UTF-8; rename the file")
    assert nothing_written(pipeline_env)


def test_an_output_folder_that_is_not_utf8_is_one_clear_line(
    pipeline_env, genomes: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An output folder named in Latin-1 ran until the normalize step, which failed with Polars' TypeError; the
    setting is now refused before any run, naming its variable."""
    from just_dna_pipelines.settings import get_settings

    latin1 = tmp_path / os.fsdecode(b"r\xe9sultats")
    monkeypatch.setenv("JUST_DNA_PIPELINES_OUTPUT_DIR", str(latin1))
    get_settings.cache_clear()
    code, _, err = run_cli(
        capsys, "--vcf", str(genomes / "antku_small.vcf"), "--user", "dora", "--modules-source", "demo"
    )
    get_settings.cache_clear()
    assert_one_line_error(code, err, "JUST_DNA_PIPELINES_OUTPUT_DIR: the folder's path is not valid UTF-8")
    assert not latin1.exists()


@pytest.mark.parametrize("variable", ["JUST_DNA_PIPELINES_OUTPUT_DIR", "JUST_DNA_PIPELINES_CACHE_DIR"])
def test_a_data_folder_named_like_a_pattern_is_one_clear_line(
    pipeline_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, variable: str
) -> None:
    """A data folder named 'data[old]' ran until a step read a Parquet file there, which Polars took for a glob
    matching nothing: 'expanded paths were empty (path expansion input: ...)'; refused before any run now."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample
    from just_dna_pipelines.settings import get_settings

    vcf = ensure_demo_sample(tmp_path / "genome")
    folder = tmp_path / "data[old]"
    monkeypatch.setenv(variable, str(folder))
    get_settings.cache_clear()
    code, _, err = run_cli(capsys, "--vcf", str(vcf), "--user", "dora", "--modules-source", "demo")
    get_settings.cache_clear()
    assert_one_line_error(
        code, err, f"{variable}: the folder's path holds one of * ? [, which Polars and DuckDB"
    )
    assert not folder.exists()


def test_a_reader_that_leaves_early_gets_no_traceback_and_the_run_completes(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    """`pipelines annotate-modules ... | head -1`: the summary's print to the closed pipe raised BrokenPipeError,
    a traceback on stderr and exit status 1 after the run (120 when it came at the last flush)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules",
         "--vcf", str(genomes / "antku_small.vcf"), "--user", "u", "--modules-source", str(compiled_modules)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("annotating antku_small.vcf as u/antku_small")
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, err
    assert err == ""
    assert (pipeline_env.output_dir / "users/u/antku_small/reports/longevity_report.html").is_file()


def test_output_to_a_full_device_is_one_line_after_the_run(
    pipeline_env, genomes: Path, compiled_modules: Path
) -> None:
    """`pipelines ... > /dev/full`: every print failed with "No space left on device" and the command ended in a
    traceback; the run completes and one line says the output was lost."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "just_dna_pipelines.cli", "annotate-modules",
             "--vcf", str(genomes / "antku_small.vcf"), "--user", "u", "--modules-source", str(compiled_modules)],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == "error: the command's output could not be written: No space left on device\n"
    assert (pipeline_env.output_dir / "users/u/antku_small/reports/longevity_report.html").is_file()


@pytest.mark.slow
def test_sample_names_with_terminal_escapes_are_printed_escaped(pipeline_env, tmp_path: Path, capsys) -> None:
    """A VCF's sample column names (and its file name) reached the terminal raw, in the line naming the sample
    read, the run's first line and the summary: a window-title escape and a clear-screen ran in the user's
    terminal."""
    from just_dna_pipelines.modules.demo import ensure_demo_sample

    evil = "HG\x1b]0;pwned\x07\x1b[2J"
    lines = ensure_demo_sample(tmp_path / "demo").read_text().splitlines()
    rows = [
        "\t".join([*line.split("\t")[:9], "NA1", evil]) if line.startswith("#CHROM")
        else line if line.startswith("#")
        else "\t".join([*line.split("\t")[:10], line.split("\t")[9]])
        for line in lines
    ]  # fmt: skip
    vcf = tmp_path / "two\x1b]0;t\x07.vcf"
    vcf.write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(
        capsys, "--vcf", str(vcf), "--user", "dora", "--modules-source", "demo", "--sample-column", evil
    )
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err
    escaped = "HG\\x1b]0;pwned\\x07\\x1b[2J"
    assert f"reading sample {escaped} as asked; the file has 2: NA1, {escaped};" in out
    assert f"sample column {escaped}, 12 records" in out
    assert "annotating two\\x1b]0;t\\x07.vcf as dora/two_0_t with " in out


def test_a_local_module_source_named_like_a_pattern_is_read_as_a_name(
    pipeline_env, tmp_path: Path, capsys
) -> None:
    """Module tables were read with Polars' glob on: a local module folder named 'modules[v2]' failed the run with
    'expanded paths were empty' (and 'modules*' would have read every matching folder's tables as one)."""
    import shutil

    from just_dna_pipelines.modules.demo import ensure_demo_modules, ensure_demo_sample

    source = tmp_path / "modules[v2]"
    shutil.copytree(ensure_demo_modules(), source)
    code, out, err = run_cli(
        capsys, "--vcf", str(ensure_demo_sample(tmp_path)), "--user", "dora", "--modules-source", str(source)
    )
    assert code == 0, err
    assert "  coronary         done        2 variants (+0 / -2); tested 2 of 2 sites" in out
    report = pipeline_env.output_dir / "users/dora/demo_sample/reports/longevity_report.html"
    html = report.read_text()
    assert "Synthetic cohort" in html and "are unavailable" not in html  # the studies table was read
