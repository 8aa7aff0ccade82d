"""`service.inspect_vcf`: the facts the web app shows at upload (samples, default sample, damage, gVCF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from just_dna_pipelines import service
from just_dna_pipelines.errors import VcfError

from .conftest import MakeVcf


def test_multi_sample_facts_name_the_default_and_the_calls(pipeline_env, make_vcf: MakeVcf) -> None:
    records = [
        f"chr1 {100 + i} . C G 50 PASS . GT 0/0 {gt} ./." for i, gt in enumerate(["0/1", "1/1", "./."])
    ]
    facts = service.inspect_vcf(make_vcf(["BLANK", "NA12878", "empty"], records))
    assert facts.samples == ["BLANK", "NA12878", "empty"]
    assert facts.default_sample == "NA12878"
    assert facts.sample_calls == {"BLANK": 3, "NA12878": 2, "empty": 0}
    assert (facts.record_count, facts.malformed_records, facts.is_gvcf) == (3, 0, False)


def test_gt_used_without_a_format_line_is_accepted(pipeline_env, make_vcf: MakeVcf) -> None:
    facts = service.inspect_vcf(make_vcf(["NA12878"], ["chr1 54935127 . TAA T 0 . . GT 0/1"], meta=""))
    assert facts.record_count == 1
    assert any("not declared by a ##FORMAT line" in warning for warning in facts.warnings)


def test_a_gvcf_is_recognised_by_its_records(pipeline_env, make_vcf: MakeVcf) -> None:
    records = ["chr20 10000000 . T <*> 0 . END=10000116 GT 0/0", "chr20 10000117 . C T,<*> 36 PASS . GT 0/1"]
    assert service.inspect_vcf(make_vcf(["NA12878"], records)).is_gvcf


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "##fileformat=VCFv3.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n",
            "VCF version 3.3",
        ),
        (
            "# 23andMe\n# rsid\tchromosome\tposition\tgenotype\nrs1\t1\t101\tAA\n",
            "consumer DNA-test raw file",
        ),
    ],
)
def test_refusals_are_one_clean_line(pipeline_env, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "upload.vcf"
    path.write_text(content)
    with pytest.raises(VcfError, match=message) as info:
        service.inspect_vcf(path)
    text = str(info.value)
    assert "\n" not in text and "'" not in text and str(tmp_path) not in text
