"""Shared helpers for the BAM tests: real fixture BAMs (and CRAM/SAM made from them), independent per-chunk
counts (pysam, samtools), loopback HTTP(S) servers."""

from __future__ import annotations

import gzip
import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pysam
import pytest
import trustme

from just_dna_pipelines.bam.chunk import ChunkStats
from just_dna_pipelines.bam.source import locate
from just_dna_pipelines.settings import get_settings

GENOMES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "genomes"
CORPUS = GENOMES.parent / "corpus" / "bam"
HTSNEXUS = "htsnexus_test_NA12878.bam"
NA12878_S1 = "NA12878_S1.chr20.10_10p1mb.bam"
CHR20_FASTA = "ucsc.hg19.chr20.unittest.fasta.gz"
# What the statistics read (SAM_FLAG | SAM_RNAME | SAM_POS | SAM_MAPQ): lets samtools list a CRAM's records
# when its reference is nowhere to be found, as samtools flagstat does.
SAMTOOLS_STATS_FIELDS = ["--input-fmt-option", "required_fields=0x1e"]


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point every configured folder (cache, output, DAGSTER_HOME) into the test's temp folder."""
    for var, sub in (
        ("JUST_DNA_PIPELINES_CACHE_DIR", "cache"),
        ("JUST_DNA_PIPELINES_OUTPUT_DIR", "output"),
        ("JUST_DNA_PIPELINES_INPUT_DIR", "input"),
        ("DAGSTER_HOME", "dagster_home"),
    ):
        monkeypatch.setenv(var, str(tmp_path / sub))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def merged_batches(batches: Iterable[list[ChunkStats]]) -> list[ChunkStats]:
    """Batches of chunk stats joined by chunk id (a chunk may span two batches)."""
    chunks: dict[int, ChunkStats] = {}
    for batch in batches:
        for chunk in batch:
            seen = chunks.get(chunk.chunk_id)
            chunks[chunk.chunk_id] = seen.merged(chunk) if seen else chunk
    return list(chunks.values())


def output_folder(root: Path, bam: Path | str) -> Path:
    """Where the job publishes this BAM's JSON files under `root` (`<name>-<8 hex>`; the format is tested)."""
    return root / locate(str(bam)).output_name


def genome(name: str) -> Path:
    """A fixture BAM, or skip when ../shared/fixtures is absent."""
    path = GENOMES / name
    if not path.is_file():
        pytest.skip(f"fixture {path} is absent (needs ../shared/fixtures next to the repo)")
    return path.resolve()


def corpus(name: str) -> Path:
    """A file of the real-world corpus, or skip when ../shared/fixtures is absent."""
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {path} is absent (needs ../shared/fixtures next to the repo)")
    return path.resolve()


def samtools() -> str:
    """The samtools executable (the independent oracle), or skip."""
    found = shutil.which("samtools")
    if found is None:
        pytest.skip("samtools is not installed (apt-get install samtools)")
    return found


@dataclass(frozen=True)
class ExpectedChunk:
    """Per-chunk figures computed with a plain pysam loop, independently of the code under test."""

    chunk_id: int
    total_reads: int
    mapped_reads: int
    avg_mapping_quality: float | None
    position_min: int | None
    position_max: int | None


def as_expected(chunk: ChunkStats) -> ExpectedChunk:
    """One of our chunks in the shape of the independent pysam count."""
    return ExpectedChunk(
        chunk.chunk_id,
        chunk.total_reads,
        chunk.mapped_reads,
        chunk.avg_mapping_quality,
        chunk.position_min,
        chunk.position_max,
    )


def pysam_chunks(path: Path, chunk_size: int) -> list[ExpectedChunk]:
    """Every chunk of `chunk_size` consecutive records in file order, counted read by read with pysam."""
    chunks: list[ExpectedChunk] = []
    reads: list[pysam.AlignedSegment] = []

    def close() -> None:
        mapped = [r for r in reads if not r.is_unmapped]
        positions = [r.reference_start + 1 for r in mapped]
        chunks.append(
            ExpectedChunk(
                chunk_id=len(chunks) + 1,
                total_reads=len(reads),
                mapped_reads=len(mapped),
                avg_mapping_quality=sum(r.mapping_quality for r in mapped) / len(mapped) if mapped else None,
                position_min=min(positions) if positions else None,
                position_max=max(positions) if positions else None,
            )
        )
        reads.clear()

    with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
        for read in bam.fetch(until_eof=True):
            reads.append(read)
            if len(reads) == chunk_size:
                close()
    if reads:
        close()
    return chunks


def samtools_chunks(path: Path, chunk_size: int) -> tuple[list[ExpectedChunk], int]:
    """Per-chunk figures from the records `samtools view` lists, and how many have no reference (RNAME *)."""
    listed = subprocess.run(
        [samtools(), "view", "--no-PG", *SAMTOOLS_STATS_FIELDS, str(path)],
        capture_output=True,
        check=True,
    ).stdout.splitlines()
    chunks: list[ExpectedChunk] = []
    unplaced = 0
    for start in range(0, len(listed), chunk_size):
        fields = [line.split(b"\t", 5) for line in listed[start : start + chunk_size]]
        unplaced += sum(1 for f in fields if f[2] == b"*")
        mapped = [(int(f[3]), int(f[4])) for f in fields if not int(f[1]) & 0x4]
        chunks.append(
            ExpectedChunk(
                chunk_id=len(chunks) + 1,
                total_reads=len(fields),
                mapped_reads=len(mapped),
                avg_mapping_quality=sum(q for _, q in mapped) / len(mapped) if mapped else None,
                position_min=min((p for p, _ in mapped), default=None),
                position_max=max((p for p, _ in mapped), default=None),
            )
        )
    return chunks, unplaced


def flagstat_total(path: Path) -> int:
    """`samtools flagstat`'s "in total" (QC-passed + QC-failed): every record once."""
    first = subprocess.run(
        [samtools(), "flagstat", str(path)], capture_output=True, check=True, text=True
    ).stdout.splitlines()[0]
    passed, _, failed = first.split(" ")[:3]
    return int(passed) + int(failed)


@dataclass(frozen=True)
class DerivedAlignments:
    """One real BAM written again as CRAM (its reference then deleted) and as SAM three ways."""

    bam: Path
    cram: Path  # with its .crai
    sam: Path
    sam_gz: Path  # plain gzip: no index possible
    sam_bgzf: Path  # with its .bai, as samtools index writes it

    def all(self) -> dict[str, Path]:
        """By label, for parametrized tests."""
        return {"cram": self.cram, "sam": self.sam, "sam_gz": self.sam_gz, "sam_bgzf": self.sam_bgzf}


@pytest.fixture(scope="session")
def derived(tmp_path_factory: pytest.TempPathFactory) -> DerivedAlignments:
    """NA12878_S1's 52,035 reads as CRAM and SAM, made with samtools in a temp folder (never in the repo)."""
    # The CRAM is written against the fixtures' chr20 reference, the header cut to its chr20 @SQ line (mates
    # on other contigs lose their RNEXT, which the statistics do not read); the reference is then deleted,
    # so the CRAM's UR points nowhere and its M5 is in no cache.
    bam = genome(NA12878_S1)
    fasta = GENOMES / CHR20_FASTA
    if not fasta.is_file():
        pytest.skip(f"fixture {fasta} is absent")
    tool = samtools()
    folder = tmp_path_factory.mktemp("derived")
    text = subprocess.run([tool, "view", "-h", "--no-PG", str(bam)], capture_output=True, check=True).stdout
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith(b"@SQ\t") and not line.startswith(b"@SQ\tSN:chr20\t"):
            continue
        if not line.startswith(b"@"):
            fields = line.split(b"\t")
            if fields[6] not in (b"=", b"*", b"chr20"):
                fields[6], fields[7] = b"*", b"0"
            line = b"\t".join(fields)
        lines.append(line)
    sam = folder / "na12878.sam"
    sam.write_bytes(b"".join(lines))
    sam_gz = folder / "na12878.gzip.sam.gz"
    sam_gz.write_bytes(gzip.compress(sam.read_bytes(), compresslevel=1))
    sam_bgzf = folder / "na12878.sam.gz"
    subprocess.run(
        [tool, "view", "-h", "--no-PG", "-O", "sam,level=1", "-o", str(sam_bgzf), str(sam)], check=True
    )
    subprocess.run([tool, "index", str(sam_bgzf)], check=True)
    reference = folder / "reference" / "chr20.fa"
    reference.parent.mkdir()
    with gzip.open(fasta) as packed, reference.open("wb") as out:
        shutil.copyfileobj(packed, out)
    subprocess.run([tool, "faidx", str(reference)], check=True)
    cram = folder / "na12878.cram"
    subprocess.run(
        [tool, "view", "-C", "--no-PG", "-T", str(reference), "-o", str(cram), str(sam)], check=True
    )
    subprocess.run([tool, "index", str(cram)], check=True)
    shutil.rmtree(reference.parent)
    return DerivedAlignments(bam, cram, sam, sam_gz, sam_bgzf)


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder with HEAD, ETag and single `Range: bytes=a-b` support, as htslib's libcurl expects."""

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def _target(self) -> Path | None:
        path = Path(self.translate_path(self.path))
        return path if path.is_file() else None

    def _headers(self, path: Path, status: int, start: int, end: int) -> None:
        stat = path.stat()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{stat.st_size}-{stat.st_mtime_ns}"')
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{stat.st_size}")
        self.end_headers()

    def _range(self, size: int) -> tuple[int, int, int]:
        header = self.headers.get("Range")
        if not header or not header.startswith("bytes="):
            return 200, 0, size - 1
        first, _, last = header[6:].split(",")[0].partition("-")
        start = int(first) if first else max(size - int(last), 0)
        end = min(int(last), size - 1) if first and last else size - 1
        return 206, start, end

    def do_HEAD(self) -> None:
        path = self._target()
        if path is None:
            self.send_error(404)
            return
        self._headers(path, 200, 0, path.stat().st_size - 1)

    def do_GET(self) -> None:
        path = self._target()
        if path is None:
            self.send_error(404)
            return
        status, start, end = self._range(path.stat().st_size)
        if start > end:
            self.send_error(416)
            return
        self._headers(path, status, start, end)
        with path.open("rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                block = handle.read(min(remaining, 1 << 16))
                if not block:
                    break
                try:
                    self.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    return  # htslib closes a stream early when it seeks
                remaining -= len(block)


@dataclass
class LoopbackServer:
    """A running loopback HTTP server over `root`."""

    root: Path
    base_url: str
    requests: list[str]

    def url(self, name: str) -> str:
        """The URL of a file in the served folder."""
        return f"{self.base_url}/{name}"


@contextmanager
def serve_folder(root: Path, tls: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    """Serve `root` on 127.0.0.1 (HTTPS when given a server TLS context) until the block ends."""
    root.mkdir(parents=True, exist_ok=True)
    seen: list[str] = []

    class Handler(RangeRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def send_response(self, code: int, message: str | None = None) -> None:
            seen.append(f"{self.command} {self.path} {self.headers.get('Range', '')} -> {code}")
            super().send_response(code, message)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield LoopbackServer(root=root, base_url=f"{scheme}://127.0.0.1:{server.server_port}", requests=seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[LoopbackServer]:
    """Serve a fresh temp folder over plain HTTP on 127.0.0.1."""
    with serve_folder(tmp_path / "served") as server:
        yield server


@pytest.fixture
def tls_authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A throwaway certificate authority that Python (SSL_CERT_FILE) and htslib's libcurl (CURL_CA_BUNDLE) trust."""
    authority = trustme.CA()
    bundle = tmp_path / "test-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    return authority


def server_tls(authority: trustme.CA) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 issued by `authority`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def https_folder(tmp_path: Path, tls_authority: trustme.CA) -> Iterator[LoopbackServer]:
    """Serve a fresh temp folder over HTTPS on 127.0.0.1, with a certificate the client side trusts."""
    with serve_folder(tmp_path / "served", server_tls(tls_authority)) as server:
        yield server


@pytest.fixture(params=["http", "https"])
def remote_folder(request: pytest.FixtureRequest) -> LoopbackServer:
    """The same loopback server over plain HTTP and over HTTPS."""
    server: LoopbackServer = request.getfixturevalue(f"{request.param}_folder")
    return server
