"""Write a large, coordinate-sorted, indexed synthetic BAM with realistic flags, MAPQ and unplaced reads.

Usage: uv run python bench/bam/generate_bam.py --reads 3000000 --out bench/out/bam/large.bam

SAM text is built in large batches and piped into `samtools view -b` (the Debian package), which
compresses on two threads; then the BAM is indexed. 3 M reads take well under a minute here.
"""

from __future__ import annotations

import argparse
import itertools
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

# (flag, weight) for mapped records: proper pairs dominate, with a realistic tail of
# improper pairs, mate-unmapped, duplicates, secondary and supplementary alignments.
MAPPED_FLAGS = [
    (99, 22.0),
    (147, 22.0),
    (83, 22.0),
    (163, 22.0),
    (97, 1.5),
    (145, 1.5),
    (81, 1.5),
    (161, 1.5),
    (73, 0.6),
    (137, 0.6),
    (89, 0.6),
    (153, 0.6),
    (1123, 1.0),  # duplicate proper pair
    (1171, 1.0),
    (355, 0.4),  # secondary
    (2147, 0.3),  # supplementary
]
# Placed unmapped: the read is unmapped but sits at its mapped mate's position.
PLACED_UNMAPPED_FLAGS = [(69, 1.0), (133, 1.0), (101, 0.5), (165, 0.5)]
UNPLACED_FLAGS = [77, 141]
CONTIGS = [("chr1", 248_956_422), ("chr2", 242_193_529), ("chr3", 198_295_559), ("chr20", 64_444_167)]
READ_LENGTH = 100


def _weighted(choices: list[tuple[int, float]], k: int, rng: random.Random) -> list[int]:
    """k flags drawn with the given weights."""
    flags, weights = zip(*choices, strict=True)
    return rng.choices(flags, weights=weights, k=k)


def _mapq(rng: random.Random) -> int:
    """A MAPQ from a typical short-read aligner distribution."""
    roll = rng.random()
    if roll < 0.85:
        return 60
    if roll < 0.92:
        return 0
    return rng.randint(1, 59)


def _header() -> str:
    """The SAM header with the synthetic contigs."""
    lines = ["@HD\tVN:1.6\tSO:coordinate"]
    lines += [f"@SQ\tSN:{name}\tLN:{length}" for name, length in CONTIGS]
    lines.append("@RG\tID:rg1\tSM:SYNTH\tPL:ILLUMINA")
    return "\n".join(lines) + "\n"


def _records(total: int, rng: random.Random) -> Iterator[str]:
    """All SAM lines in file order: mapped and placed-unmapped by position, unplaced unmapped last."""
    seqs = ["".join(rng.choice("ACGT") for _ in range(READ_LENGTH)) for _ in range(256)]
    quals = ["".join(chr(33 + rng.randint(20, 40)) for _ in range(READ_LENGTH)) for _ in range(256)]
    unplaced = total * 3 // 100
    placed = total - unplaced
    genome = sum(length for _, length in CONTIGS)
    mapped_flags = [flag for flag, _ in MAPPED_FLAGS]
    mapped_cum = list(itertools.accumulate(weight for _, weight in MAPPED_FLAGS))
    index = 0
    for name, length in CONTIGS:
        n = placed * length // genome if name != CONTIGS[-1][0] else placed - index
        step = (length - 1000) / max(n, 1)
        pos = 1.0
        for _ in range(n):
            pos += rng.random() * 2 * step
            p = min(int(pos), length - READ_LENGTH)
            seq, qual = seqs[index & 255], quals[(index * 7) & 255]
            if rng.random() < 0.01:
                flag = _weighted(PLACED_UNMAPPED_FLAGS, 1, rng)[0]
                yield f"r{index}\t{flag}\t{name}\t{p}\t0\t*\t=\t{p}\t0\t{seq}\t{qual}\tRG:Z:rg1"
            else:
                flag, mq = rng.choices(mapped_flags, cum_weights=mapped_cum)[0], _mapq(rng)
                yield (
                    f"r{index}\t{flag}\t{name}\t{p}\t{mq}\t{READ_LENGTH}M\t=\t{p + 200}\t300\t{seq}\t{qual}"
                    f"\tNM:i:{index % 3}\tAS:i:{95 + index % 5}\tRG:Z:rg1"
                )
            index += 1
    for i in range(unplaced):
        seq, qual = seqs[i & 255], quals[(i * 3) & 255]
        yield f"u{i}\t{UNPLACED_FLAGS[i & 1]}\t*\t0\t0\t*\t*\t0\t0\t{seq}\t{qual}\tRG:Z:rg1"


def generate(total: int, out: Path, seed: int = 7) -> None:
    """Write `total` reads to `out` (BAM) and index it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    tmp = out.with_name(out.name + ".tmp")
    with subprocess.Popen(
        ["samtools", "view", "-b", "-@", "2", "--no-PG", "-o", str(tmp), "-"], stdin=subprocess.PIPE
    ) as proc:
        assert proc.stdin is not None
        proc.stdin.write(_header().encode())
        records = _records(total, rng)
        while batch := list(itertools.islice(records, 200_000)):
            proc.stdin.write(("\n".join(batch) + "\n").encode())
        proc.stdin.close()
        if proc.wait() != 0:
            raise SystemExit("samtools view failed")
    tmp.replace(out)
    subprocess.run(["samtools", "index", str(out)], check=True)


def main() -> None:
    """Parse arguments and generate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bam/large.bam"))
    args = parser.parse_args()
    started = time.perf_counter()
    generate(args.reads, args.out)
    print(f"wrote {args.reads:,} reads to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
