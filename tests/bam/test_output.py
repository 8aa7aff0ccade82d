"""The chunk JSON text written per chunk is exactly the documented document, for every kind of value."""

from __future__ import annotations

import json

import pytest

from just_dna_pipelines.bam.chunk import ChunkStats, chunk_json
from just_dna_pipelines.bam.output import chunk_json_text

CASES = [
    ChunkStats(1, 1000, 950, 950 * 55 + 3, 1, 900, 0),  # a fractional average
    ChunkStats(2, 10, 0, 0, None, None, 10),  # no mapped read: nulls
    ChunkStats(3, 7, 7, 7 * 60, 5, 5, 0),  # a whole-number average
    ChunkStats(4, 1, 1, 0, 2_147_483_647, 2_147_483_647, 0),  # MAPQ 0, the largest position
]


@pytest.mark.parametrize("chunk", CASES, ids=lambda c: f"chunk{c.chunk_id}")
@pytest.mark.parametrize("url", ["/data/x.bam", 'https://h/a "b" \\ é.bam'])
def test_chunk_text_parses_to_the_chunk_document(chunk: ChunkStats, url: str) -> None:
    text = chunk_json_text(chunk, 4, json.dumps(url))
    assert text.endswith("}\n")
    assert json.loads(text) == chunk_json(chunk, 4, url)


def test_average_keeps_full_float_precision() -> None:
    chunk = ChunkStats(1, 3, 3, 100, 1, 2, 0)
    parsed = json.loads(chunk_json_text(chunk, 1, '"u"'))
    assert parsed["stats"]["avg_mapping_quality"] == 100 / 3
