"""Write a synthetic whole-genome single-sample VCF.gz (GRCh38, chr-prefixed) that contains every module site.

Background records are spread over chr1-22 and chrX in proportion to contig length; the module sites come
from the real fixtures (LongevityMap `snps` table and superhuman `location_38`) with their true REF.
Randomness is drawn with Polars' row hashing so 5 M records take seconds without numpy or a per-record loop;
the output is deterministic for a given seed and Polars version.

Usage: uv run python bench/vcf/generate_wgs_vcf.py [--records N] [--out PATH] [--seed S] [--index]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import polars as pl

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = REPO_ROOT / ".." / "shared" / "fixtures" / "modules"
DEFAULT_OUT = REPO_ROOT / "bench" / "out" / "wgs.vcf.gz"
SAMPLE = "BENCH_SAMPLE"

# GRCh38 primary assembly lengths (same as the Platinum Genomes hg38 header in the fixtures).
CONTIGS: dict[str, int] = {
    "chr1": 248956422,
    "chr2": 242193529,
    "chr3": 198295559,
    "chr4": 190214555,
    "chr5": 181538259,
    "chr6": 170805979,
    "chr7": 159345973,
    "chr8": 145138636,
    "chr9": 138394717,
    "chr10": 133797422,
    "chr11": 135086622,
    "chr12": 133275309,
    "chr13": 114364328,
    "chr14": 107043718,
    "chr15": 101991189,
    "chr16": 90338345,
    "chr17": 83257441,
    "chr18": 80373285,
    "chr19": 58617616,
    "chr20": 64444167,
    "chr21": 46709983,
    "chr22": 50818468,
    "chrX": 156040895,
    "chrY": 57227415,
    "chrM": 16569,
}
BACKGROUND_CONTIGS = [c for c in CONTIGS if c not in ("chrY", "chrM")]
MAX_INDEL = 10
ACGT = re.compile(r"^[ACGT]+$")

# Columns every record carries before formatting: alleles as strings, the genotype as two allele indexes
# (a <= b; -1 = missing), `swap` writes a phased het as 1|0 instead of 0|1.
RECORD_SCHEMA = {
    "pos": pl.Int64,
    "ref": pl.String,
    "alt1": pl.String,
    "alt2": pl.String,
    "a": pl.Int64,
    "b": pl.Int64,
    "phased": pl.Boolean,
    "swap": pl.Boolean,
}


@dataclass(frozen=True)
class ModuleSite:
    """One module position with its true REF and the ALT alleles the module databases list."""

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    rsid: str


def _valid_alts(ref: str, alts: list[str]) -> tuple[str, ...]:
    """ALT alleles usable in a VCF: plain bases, differing from REF, in first-seen order."""
    seen: list[str] = []
    for alt in alts:
        alt = alt.strip()
        if ACGT.match(alt) and alt != ref and alt not in seen:
            seen.append(alt)
    return tuple(seen)


def load_module_sites(fixtures: Path) -> tuple[list[ModuleSite], list[str]]:
    """Module positions with a known REF (LongevityMap snps + superhuman location_38), and notes on skipped ones."""
    by_key: dict[tuple[str, int], ModuleSite] = {}
    notes: list[str] = []
    with sqlite3.connect(fixtures / "longevitymap" / "longevitymap_annotator.sqlite") as db:
        rows = db.execute("SELECT chrom, pos, ref, alt, rsid FROM snps ORDER BY id").fetchall()
    grouped: dict[tuple[str, int], tuple[str, list[str], str]] = {}
    for chrom, pos, ref, alt, rsid in rows:
        grouped.setdefault((chrom, int(pos)), (ref.strip(), [], rsid))[1].append(alt)
    skipped = []
    for (chrom, pos), (ref, alts, rsid) in grouped.items():
        if not ACGT.match(ref) or chrom not in CONTIGS:
            skipped.append(f"{rsid} {chrom}:{pos} ref={ref!r}")
            continue
        by_key[(chrom, pos)] = ModuleSite(chrom, pos, ref, _valid_alts(ref, alts), rsid)
    notes.append(
        f"longevitymap: {len(grouped)} positions, skipped {len(skipped)} without a base REF: {skipped}"
    )

    with sqlite3.connect(fixtures / "superhuman" / "superhuman.sqlite") as db:
        rows = db.execute("SELECT location_38, ref_allele, alt_allele, rsid FROM superhuman").fetchall()
    super_grouped: dict[tuple[str, int], tuple[str, list[str], str]] = {}
    unusable = 0
    for location, ref, alt, rsid in rows:
        match = re.match(r"^(\w+):(\d+)$", (location or "").strip())
        ref = (ref or "").strip()
        if not match or not ACGT.match(ref):
            unusable += 1  # blank location, a range, or REF '-' / NULL: the true base is unknown
            continue
        key = ("chr" + match.group(1), int(match.group(2)))
        super_grouped.setdefault(key, (ref, [], rsid))[1].append(alt or "")
    conflicts = []
    for key, (ref, alts, rsid) in super_grouped.items():
        if key in by_key:
            if by_key[key].ref[0] != ref[0]:
                conflicts.append(f"{rsid} {key}")
            continue
        by_key[key] = ModuleSite(key[0], key[1], ref, _valid_alts(ref, alts), rsid)
    notes.append(
        f"superhuman: {len(super_grouped)} positions with a base REF ({unusable} rows without one skipped), "
        f"REF conflicts with longevitymap: {conflicts}"
    )
    return sorted(by_key.values(), key=lambda s: (list(CONTIGS).index(s.chrom), s.pos)), notes


def module_site_records(sites: list[ModuleSite], seed: int) -> pl.DataFrame:
    """Records at the module sites: mostly het / hom-alt / hom-ref, a few multi-allelic, deterministic by seed."""
    rng = random.Random(seed)
    rows = []
    for site in sites:
        alts = list(site.alts)
        if not alts:  # a deletion in dbSNP style ('-') or no ALT at all: keep the true REF, invent an ALT
            alts = [site.ref[0]] if len(site.ref) > 1 else [next(b for b in "ACGT" if b != site.ref)]
        rng.shuffle(alts)
        roll = rng.random()
        if len(alts) > 1 and roll < 0.1:
            a, b, alt2 = 1, 2, alts[1]
        elif roll < 0.45:
            a, b, alt2 = 0, 1, None
        elif roll < 0.72:
            a, b, alt2 = 1, 1, None
        else:
            a, b, alt2 = 0, 0, None
        phased = rng.random() < 0.35
        rows.append(
            (site.chrom, site.pos, site.ref, alts[0], alt2, a, b, phased, phased and rng.random() < 0.5)
        )
    return pl.DataFrame(rows, schema={"chrom": pl.String, **RECORD_SCHEMA}, orient="row")


def _uniform(seed: int, stream: int) -> pl.Expr:
    """A uniform [0, 1) float per row, from the row index hashed with (seed, stream)."""
    return (pl.col("i").hash(seed * 1009 + stream) % (1 << 53)).cast(pl.Float64) / float(1 << 53)


def _randint(seed: int, stream: int, n: int) -> pl.Expr:
    """A uniform integer in [0, n) per row."""
    return (pl.col("i").hash(seed * 1009 + stream) % n).cast(pl.Int64)


def _bases(pool: str, seed: int, stream: int, length: pl.Expr) -> pl.Expr:
    """A random base string of the given length per row, cut from a random pool."""
    offset = _randint(seed, stream, len(pool) - MAX_INDEL - 1)
    return pl.lit(pool).str.slice(offset, length)


def background_records(contig: str, n: int, first_row: int, seed: int, pool: str) -> pl.DataFrame:
    """`n` random records on one contig, one per equal-width bin so positions are unique and sorted."""
    length = CONTIGS[contig]
    width = length / max(n, 1)
    base = pl.lit("ACGT")
    ref0 = _randint(seed, 1, 4)
    kind = _uniform(seed, 2)  # < .86 SNV, < .92 deletion, < .97 insertion, else multi-allelic SNV
    indel_len = 1 + (_uniform(seed, 3) * _uniform(seed, 4) * MAX_INDEL).cast(pl.Int64)
    # SNV ALT offsets on the ACGT ring: +2 is the transition partner (A<->G, C<->T), drawn 2/3 of the time
    offset1 = pl.when(_uniform(seed, 5) < 0.67).then(2).otherwise(1 + 2 * _randint(seed, 11, 2))
    offset2 = (offset1 + _randint(seed, 6, 2)) % 3 + 1
    snv1 = (ref0 + offset1) % 4
    snv2 = (ref0 + offset2) % 4
    gt = _uniform(seed, 7)
    frame = pl.select(i=pl.int_range(first_row, first_row + n, dtype=pl.UInt64)).with_columns(
        pos=(pl.int_range(0, n, dtype=pl.Int64) * width).cast(pl.Int64)
        + 1
        + (_uniform(seed, 0) * (width - MAX_INDEL - 1)).cast(pl.Int64).clip(lower_bound=0),
        kind=kind,
        r0=base.str.slice(ref0, 1),
        s1=base.str.slice(snv1, 1),
        s2=base.str.slice(snv2, 1),
        seq=_bases(pool, seed, 8, indel_len),
        gt=gt,
        phased=_uniform(seed, 9) < 0.35,
        swap=_uniform(seed, 10) < 0.5,
    )
    multi = pl.col("kind") >= 0.97
    return frame.select(
        "pos",
        ref=pl.when(pl.col("kind").is_between(0.86, 0.92, closed="left"))
        .then(pl.col("r0") + pl.col("seq"))
        .otherwise(pl.col("r0")),
        alt1=pl.when(pl.col("kind") < 0.86)
        .then(pl.col("s1"))
        .when(pl.col("kind") < 0.92)
        .then(pl.col("r0"))
        .when(~multi)
        .then(pl.col("r0") + pl.col("seq"))
        .otherwise(pl.col("s1")),
        alt2=pl.when(multi).then(pl.col("s2")).otherwise(pl.lit(None, pl.String)),
        a=_genotype_allele(multi, 1),
        b=_genotype_allele(multi, 2),
        phased="phased",
        swap="swap",
    )


# Cumulative genotype frequencies: (upper bound of the uniform draw, a, b); -1 = no call (./.).
BIALLELIC_GENOTYPES = [(0.56, 0, 1), (0.95, 1, 1), (0.97, 0, 0), (1.01, -1, -1)]
MULTIALLELIC_GENOTYPES = [(0.80, 1, 2), (0.88, 0, 1), (0.93, 1, 1), (0.96, 0, 2), (1.01, -1, -1)]


def _genotype_allele(multi: pl.Expr, which: int) -> pl.Expr:
    """The first (which=1) or second (which=2) allele index drawn from the `gt` uniform column."""

    def chain(table: list[tuple[float, int, int]]) -> pl.Expr:
        expr: pl.Expr = pl.lit(-1)
        for bound, *alleles in reversed(table):
            expr = pl.when(pl.col("gt") < bound).then(alleles[which - 1]).otherwise(expr)
        return expr

    return (
        pl.when(multi)
        .then(chain(MULTIALLELIC_GENOTYPES))
        .otherwise(chain(BIALLELIC_GENOTYPES))
        .cast(pl.Int64)
    )


def format_lines(records: pl.DataFrame, contig: str, seed: int, first_row: int) -> pl.DataFrame:
    """The 10 VCF columns (as strings) for sorted records of one contig."""
    n = records.height
    a, b = pl.col("a"), pl.col("b")
    missing = a < 0
    n_alleles = pl.when(pl.col("alt2").is_null()).then(2).otherwise(3)
    depth = 12 + _randint(seed, 20, 25) + _randint(seed, 21, 25)
    het_share = 0.3 + 0.4 * (_uniform(seed, 22) + _uniform(seed, 23)) / 2
    frame = records.with_columns(i=pl.int_range(first_row, first_row + n, dtype=pl.UInt64)).with_columns(
        depth=depth,
        x=pl.when(a != b)
        .then((depth * het_share).cast(pl.Int64))
        .otherwise(depth - (_randint(seed, 24, 4) == 0)),
        gq=pl.when(missing).then(0).otherwise(5 + _randint(seed, 25, 95)),
        qual=pl.when(missing)
        .then(0.0)
        .when((a == 0) & (b == 0))
        .then(_uniform(seed, 26) * 3)
        .otherwise(5 + _uniform(seed, 27) * _uniform(seed, 28) * 900)
        .round(1),
    )
    other = pl.when(a == 0).then(1).otherwise(0)  # where a homozygous call's stray read goes

    def depth_of(k: int) -> pl.Expr:
        het = (a != b) & ((a == k) | (b == k))
        return (
            pl.when(a == b)
            .then(
                pl.when(a == k)
                .then(pl.col("x"))
                .when(other == k)
                .then(pl.col("depth") - pl.col("x"))
                .otherwise(0)
            )
            .when(het)
            .then(pl.when(a == k).then(pl.col("x")).otherwise(pl.col("depth") - pl.col("x")))
            .otherwise(0)
        )

    def pl_of(t: int) -> pl.Expr:
        # genotype index in VCF order: j/k (j <= k) -> k*(k+1)/2 + j
        called = b * (b + 1) // 2 + a
        value = pl.when(called == t).then(0).otherwise(pl.col("gq") + _randint(seed, 30 + t, 600))
        return pl.when(pl.lit(t) < n_alleles * (n_alleles + 1) // 2).then(value.cast(pl.String))

    ad = pl.concat_str(
        [depth_of(0), depth_of(1), pl.when(n_alleles == 3).then(depth_of(2))],
        separator=",",
        ignore_nulls=True,
    )
    pls = pl.concat_str([pl_of(t) for t in range(6)], separator=",", ignore_nulls=True)
    sep = pl.when(pl.col("phased")).then(pl.lit("|")).otherwise(pl.lit("/"))
    first = pl.when(pl.col("phased") & pl.col("swap")).then(b).otherwise(a).cast(pl.String)
    second = pl.when(pl.col("phased") & pl.col("swap")).then(a).otherwise(b).cast(pl.String)
    sample = (
        pl.when(missing)
        .then(pl.lit("./.:.:.:.:."))
        .otherwise(
            pl.concat_str(
                [
                    first,
                    sep,
                    second,
                    pl.lit(":"),
                    ad,
                    pl.lit(":"),
                    pl.col("depth"),
                    pl.lit(":"),
                    pl.col("gq"),
                    pl.lit(":"),
                    pls,
                ]
            )
        )
    )
    alt = (
        pl.when(pl.col("alt2").is_null())
        .then(pl.col("alt1"))
        .otherwise(pl.col("alt1") + "," + pl.col("alt2"))
    )
    return frame.select(
        chrom=pl.lit(contig),
        pos="pos",
        id=pl.lit("."),
        ref="ref",
        alt=alt,
        qual=pl.col("qual").cast(pl.String),
        filter=pl.when(missing | ((pl.col("qual") < 20) & (b > 0)))
        .then(pl.lit("LowQual"))
        .otherwise(pl.lit("PASS")),
        info=pl.when(missing).then(pl.lit(".")).otherwise("DP=" + pl.col("depth").cast(pl.String)),
        format=pl.lit("GT:AD:DP:GQ:PL"),
        sample=sample,
    )


def header(seed: int) -> str:
    """The VCF header text."""
    lines = [
        "##fileformat=VCFv4.2",
        f"##source=just-dna-lite bench/vcf/generate_wgs_vcf.py (synthetic, seed={seed})",
        "##reference=GRCh38",
        *(f"##contig=<ID={name},length={length},assembly=GRCh38>" for name, length in CONTIGS.items()),
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=LowQual,Description="QUAL below 20 or no call">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total read depth">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Read depth per allele">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled genotype likelihoods">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", SAMPLE]),
    ]
    return "\n".join(lines) + "\n"


def _split_counts(total: int) -> dict[str, int]:
    """Background records per contig, proportional to length, summing to `total`."""
    genome = sum(CONTIGS[c] for c in BACKGROUND_CONTIGS)
    counts = {c: total * CONTIGS[c] // genome for c in BACKGROUND_CONTIGS}
    counts["chr1"] += total - sum(counts.values())
    return counts


def write_records(sink: IO[bytes], records: int, seed: int, sites: list[ModuleSite]) -> int:
    """Write header and records, contig by contig, to a binary stream; returns the number of records."""
    pool = "".join(random.Random(seed).choice("ACGT") for _ in range(1 << 16))
    site_frame = module_site_records(sites, seed)
    sink.write(header(seed).encode())
    counts = _split_counts(records)
    written, first_row = 0, 0
    for contig in CONTIGS:
        at_sites = site_frame.filter(pl.col("chrom") == contig).drop("chrom")
        n = counts.get(contig, 0)
        background = background_records(contig, n, first_row, seed, pool) if n else at_sites.clear()
        # a module site replaces any background record at the same position
        background = background.join(at_sites.select("pos"), on="pos", how="anti")
        merged = pl.concat([background, at_sites]).sort("pos")
        if merged.height:
            format_lines(merged, contig, seed, first_row).write_csv(
                sink, separator="\t", include_header=False, quote_style="never"
            )
        written += merged.height
        first_row += merged.height
    return written


def _compress(plain_tmp: Path, out_tmp: Path, records: int, seed: int, sites: list[ModuleSite]) -> int:
    """Stream the VCF text into bgzip (or pysam's BGZF writer when bgzip is missing)."""
    bgzip = shutil.which("bgzip")
    if bgzip:
        with out_tmp.open("wb") as out:
            proc = subprocess.Popen([bgzip, "-@2", "-c"], stdin=subprocess.PIPE, stdout=out)
            assert proc.stdin is not None
            try:
                n = write_records(proc.stdin, records, seed, sites)
            finally:
                proc.stdin.close()
                code = proc.wait()
        if code != 0:
            raise RuntimeError(f"bgzip exited with {code}")
        return n
    import pysam

    with plain_tmp.open("wb") as plain:
        n = write_records(plain, records, seed, sites)
    pysam.tabix_compress(str(plain_tmp), str(out_tmp), force=True)
    plain_tmp.unlink()
    return n


def generate(out: Path, records: int, seed: int, fixtures: Path, index: bool) -> tuple[int, list[str]]:
    """Write `out` (bgzipped VCF, plus .tbi when `index`) atomically; returns (records written, notes)."""
    sites, notes = load_module_sites(fixtures)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.vcf.gz")
    plain = out.with_name(f".{out.name}.{os.getpid()}.tmp.vcf")
    try:
        n = _compress(plain, tmp, records, seed, sites)
        if index:
            import pysam

            pysam.tabix_index(str(tmp), preset="vcf", force=True)
        Path(str(out) + ".tbi").unlink(missing_ok=True)
        tmp.replace(out)
        if index:
            Path(str(tmp) + ".tbi").replace(str(out) + ".tbi")
    finally:
        for leftover in (tmp, plain, Path(str(tmp) + ".tbi")):
            leftover.unlink(missing_ok=True)
    notes.append(f"module sites written: {len(sites)}")
    return n, notes


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, default=5_000_000, help="background records (module sites come on top)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--index", action="store_true", help="also write a tabix .tbi index")
    parser.add_argument(
        "--fixtures", type=Path, default=DEFAULT_FIXTURES, help="the shared modules fixtures folder"
    )
    args = parser.parse_args(argv)
    if args.records < 0:
        parser.error("--records must be >= 0")
    if not (args.fixtures / "longevitymap" / "longevitymap_annotator.sqlite").is_file():
        print(f"error: module fixtures not found under {args.fixtures}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    n, notes = generate(args.out, args.records, args.seed, args.fixtures, args.index)
    for note in notes:
        print(note, file=sys.stderr)
    print(f"wrote {n} records to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
