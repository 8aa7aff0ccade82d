"""Every VCF/BCF/raw-data file of the peer test-suite corpus, held to its expected outcome.

Each file goes through what an upload and a run do, in this one process (fast enough for CI): the upload
check (`service.inspect_input`), the run's sample table (`normalize_sample`: any input kind, module sites read
through the index when there is one, the build settled) and matching against the five real modules. A file is either annotated, or refused with its one right reason as
one clean line. Nothing may print to stderr (htslib's own [E::...]/[W::...] lines included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from just_dna_pipelines import service
from just_dna_pipelines.annotation.pipeline import annotate_sample, context_from_facts
from just_dna_pipelines.annotation.sample_table import normalize_sample
from just_dna_pipelines.annotation.sites import module_site_table
from just_dna_pipelines.errors import PipelineError
from just_dna_pipelines.modules.sources import module_dirs

MODULES = ["coronary", "lipidmetabolism", "longevitymap", "superhuman", "vo2max"]
INDEXES = (".tbi", ".csi")


@dataclass(frozen=True)
class Annotated:
    """The file is read and matched; `facts` pins what it is there to prove (keys of `observed`)."""

    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    """The file is refused at upload and by the run, with this fragment in the one-line reason."""

    reason: str
    note: str = ""


SITES_ONLY = "has no sample columns (a sites-only VCF carries no genotypes)"
LIKELIHOODS_ONLY = "has genotype likelihoods but no GT (genotype calls)"

EXPECTED: dict[str, Annotated | Refused] = {
    # A VCF written by `bcftools convert` from 23andMe data: a real VCF, read like any other.
    "bcftools__test__convert.23andme.vcf": Annotated({"records": 27, "no_calls": 1}),
    "bcftools__test__empty.vcf": Refused("has a header but no records"),
    "bcftools__test__fixploidy.vcf": Annotated({"build": "GRCh37"}),
    "bcftools__test__gvcfz.vcf": Annotated({"is_gvcf": True, "records": 2595}),
    "bcftools__test__many.alleles.vcf": Annotated(),
    "bcftools__test__missing.vcf": Annotated(),
    "bcftools__test__mpileup.X.vcf": Refused(LIKELIHOODS_ONLY),
    "bcftools__test__norm.breakend.1.vcf": Refused(SITES_ONLY),
    "bcftools__test__norm.symbolic.vcf": Refused(SITES_ONLY),
    "bcftools__test__reheader.1.out.bcf": Annotated({"records": 18}),
    # bcftools gVCF blocks (<*>) without a declared END: read whole, since htslib cannot find blocks by site.
    "bcftools__test__roh.1.vcf.gz": Annotated({"mode": "full", "is_gvcf": True}),
    "bcftools__test__trio.vcf": Annotated(),
    "bcftools__test__view.vcf": Annotated(),
    "cyvcf2__cyvcf2__tests__empty.vcf": Refused("is empty"),
    "cyvcf2__cyvcf2__tests__multi-contig.bcf": Annotated(),
    "cyvcf2__cyvcf2__tests__multi-contig.vcf.gz": Annotated(),
    "cyvcf2__cyvcf2__tests__no-seq-len.vcf": Annotated({"is_gvcf": True}),
    "cyvcf2__cyvcf2__tests__seg.vcf.gz": Annotated(),
    "cyvcf2__cyvcf2__tests__test-haploidX.vcf": Annotated(),
    # The #CHROM line ends with a tab and GT is not declared: read, with a warning for each.
    "cyvcf2__cyvcf2__tests__test-invalid-header.vcf": Annotated(
        {"samples": ["FOO"], "records": 5, "warning": "ends with a tab"}
    ),
    # GT declared, PL the only field its record carries: no calls to match (it was once "annotated" with none).
    "cyvcf2__cyvcf2__tests__test-no-genotypes.vcf": Refused(LIKELIHOODS_ONLY),
    "cyvcf2__cyvcf2__tests__test.snpeff.bcf": Annotated(),
    "cyvcf2__cyvcf2__tests__test.vcf.gz": Annotated({"is_gvcf": True}),
    # A DeepVariant gVCF without any gVCF marker in its header: its <*> blocks are found in the records.
    "deepvariant__deepvariant__testdata__golden.postprocess_gvcf_output.head.g.vcf": Annotated(
        {"is_gvcf": True, "ref_blocks": 28, "mode": "full"}
    ),
    "derived__snps__testvcf.bom.vcf": Annotated({"records": 17}),
    "hap.py__example__haploid__query.vcf": Annotated(),
    # Its .tbi (older tabix) has no per-contig counts: re-indexed on the fly, not refused.
    "hap.py__example__hc.vcf.gz": Annotated({"mode": "module_sites", "records": 84085, "is_gvcf": True}),
    # GT in every record, never declared by a ##FORMAT line.
    "hap.py__example__integration__integrationtest_nonref.vcf": Annotated(
        {"records": 4, "warning": "not declared by a ##FORMAT line"}
    ),
    "htslib__test__bcf-sr__weird-chr-names.vcf": Refused(SITES_ONLY),
    "htslib__test__formatmissing.vcf": Refused("has no GT (genotype) FORMAT field"),
    "htslib__test__index.vcf": Refused(LIKELIHOODS_ONLY),
    "htslib__test__longrefs__index.vcf": Refused(LIKELIHOODS_ONLY),
    "htslib__test__modhdr.vcf.gz": Refused(SITES_ONLY),
    "htslib__test__noroundtrip.vcf": Annotated(),
    "htslib__test__tabix__large_chr.vcf": Refused(SITES_ONLY),
    "htslib__test__tabix__vcf_file.bcf": Annotated({"mode": "module_sites"}),
    "htslib__test__tabix__vcf_file.vcf": Annotated(),
    "htslib__test__test-vcf-hdr-in.vcf": Annotated(),
    # VCF 4.4 explicit phasing (`/0|0`, `|0`): read as calls; only true no-calls and the triploid are not.
    "htslib__test__vcf44_1.vcf": Annotated({"records": 28, "no_calls": 12}),
    "nucleus__nucleus__testdata__malformed.vcf": Refused(SITES_ONLY),
    "nucleus__nucleus__testdata__test_nist.b37_chr20_100kbp_at_10mb.vcf.gz": Annotated(
        {"mode": "module_sites", "records": 221}
    ),
    "nucleus__nucleus__testdata__test_phaseset.vcf": Annotated(),
    # No ##fileformat line: not a VCF, and no DNA-test layout either.
    "nucleus__nucleus__testdata__vcf_no_header.vcf": Refused(
        "is not a VCF or a DNA-test raw file this app reads"
    ),
    "pysam__tests__cbcf_data__example_vcf40.vcf": Annotated(),
    "pysam__tests__cbcf_data__example_vcf42_only_header.vcf": Refused("has a header but no records"),
    "pysam__tests__cbcf_data__example_vcf43_with_utf8.vcf": Annotated(),
    "pysam__tests__cbcf_data__gnomad.vcf": Refused(SITES_ONLY),
    "pysam__tests__cbcf_data__missing_genotypes.vcf": Annotated(),
    "pysam__tests__pysam_data__ex1.vcf.gz": Annotated({"mode": "module_sites"}),
    "pysam__tests__tabix_data__example_unicode.vcf": Annotated({"sample": "Reneé"}),
    "pysam__tests__tabix_data__vcf__10.vcf": Annotated(
        {"records": 63, "warning": "not declared by a ##FORMAT line"}
    ),
    "pysam__tests__tabix_data__vcf__24.vcf": Refused("has its #CHROM line separated by spaces, not tabs"),
    # Real 23andMe raw-data samples (the second with Windows line ends): read by the raw reader.
    "snps__tests__input__23andme.txt": Annotated({"kind": "array", "records": 10}),
    "snps__tests__input__23andme_win.txt": Annotated({"kind": "array", "records": 10}),
    "snps__tests__input__testvcf.vcf": Annotated({"records": 17}),
    "snps__tests__input__testvcf_chr_prefix.vcf": Annotated(),
    "snps__tests__input__testvcf_multi_sample.vcf": Annotated({"sample": "SAMPLEID"}),
    "snps__tests__input__testvcf_phased.vcf": Annotated(),
    "vcflib__samples__1kGP_high_coverage_Illumina.chr1.filtered.SNV_INDEL_SV_phased_panel-head-1000.vcf.gz": (
        Annotated({"mode": "module_sites", "build": "GRCh38", "sample_calls": None})
    ),
    # Old .tbi without counts, rsIDs in the records (rsid-only module sites need a full read): read whole.
    "vcflib__samples__1kg-phaseIII-v5a.20130502.genotypes.chr22-16-16.5mb.vcf.gz": Annotated(
        {"records": 6109}
    ),
    "vcflib__samples__inversion.vcf": Annotated(),
    "vcflib__test__data__issue_307_vcfnulldotslashdot.vcf": Annotated(),
    "vcfpy__tests__vcfs__full_vcf43.vcf": Annotated(),
    "vcfpy__tests__vcfs_from_the_wild__1kg.sites.vcf": Refused(SITES_ONLY),
    "vcfpy__tests__vcfs_from_the_wild__1kg.vcf.gz": Annotated(),
    "vcfpy__tests__vcfs_from_the_wild__contig_idonly.vcf": Refused(SITES_ONLY),
    "vcfpy__tests__vcfs_from_the_wild__example-4.0.vcf": Annotated(),
    "vcfpy__tests__vcfs_from_the_wild__example-4.1-ploidy.vcf": Annotated(),
    "vcfpy__tests__vcfs_from_the_wild__example-4.1-sv.vcf": Annotated(),
    # First sample is a BLANK control: the default is the first real sample.
    "vcfpy__tests__vcfs_from_the_wild__freebayes.vcf": Annotated({"sample": "NA12878", "default": "NA12878"}),
    "vcfpy__tests__vcfs_from_the_wild__gatk.vcf": Annotated({"sample": "NA12878", "default": "NA12878"}),
    "vcfpy__tests__vcfs_from_the_wild__gonl.chr20.release4.gtc.vcf": Refused(SITES_ONLY),
    "vcfpy__tests__vcfs_from_the_wild__samples-space.vcf": Annotated({"sample": "NA 00001"}),
    "vcfpy__tests__vcfs_from_the_wild__samtools.vcf": Annotated({"sample": "-"}),
    # Somatic caller output: no genotype calls at all.
    "vcfpy__tests__vcfs_from_the_wild__strelka.vcf": Refused("has no GT (genotype) FORMAT field"),
    "vcfpy__tests__vcfs_from_the_wild__uncalled_genotypes.vcf": Annotated(),
    "vcfpy__tests__vcfs_from_the_wild__walk_refcall.vcf": Annotated(),
    "vcftools__examples__invalid-4.0.vcf": Annotated(),
    "vcftools__examples__valid-3.3.vcf": Refused("is VCF version 3.3, older than this app reads"),
    "vcftools__examples__valid-4.1.vcf": Annotated(),
}

# One clean line: no Python quoting, no literal "\n", no server path, no library tag.
DIRTY = re.compile(r"\\n|'|\"|/work/|/tmp/|\[[EW]::|Error -\d|stderr=")


def corpus_files(corpus: Path) -> list[Path]:
    """Every data file of the corpus (indexes travel with their file)."""
    return sorted(p for p in corpus.iterdir() if p.is_file() and not p.name.endswith(INDEXES))


def assert_clean_line(message: str) -> None:
    assert message and "\n" not in message and not DIRTY.search(message), message


def observed(path: Path, modules_root: Path, out: Path) -> dict[str, Any]:
    """Inspect, build the sample table and match, as an upload and a run would."""
    facts = service.inspect_input(path)
    table = normalize_sample(path, out / "variants.parquet", module_site_table(module_dirs(modules_root)))
    summaries = annotate_sample(context_from_facts(table.path, table.facts), modules_root, MODULES, out)
    return {
        "kind": facts.input_kind,
        "records": facts.record_count,
        "samples": facts.samples,
        "default": facts.default_sample,
        "sample": table.facts["sample_column"],
        "sample_calls": facts.sample_calls,
        "build": facts.genome_build,
        "is_gvcf": facts.is_gvcf and table.facts["is_gvcf"],
        "mode": table.facts["read_mode"],
        "no_calls": table.facts["no_calls"],
        "ref_blocks": table.facts["ref_blocks"],
        "warnings": " | ".join(facts.warnings),
        "statuses": {name: summary["status"] for name, summary in summaries.items()},
        "run_records": table.facts["records"],
    }


@pytest.fixture(scope="module")
def corpus(genomes: Path) -> Path:
    """The corpus folder beside the genomes in the shared fixtures."""
    folder = genomes.parent / "corpus" / "vcf"
    if not folder.is_dir():
        pytest.skip(f"the VCF corpus is not at {folder.resolve()}")
    return folder


def test_every_corpus_file_has_an_expected_outcome(corpus: Path) -> None:
    assert sorted(p.name for p in corpus_files(corpus)) == sorted(EXPECTED)


@pytest.mark.slow
def test_every_corpus_file_meets_its_expected_outcome(
    corpus: Path,
    compiled_modules: Path,
    tmp_path: Path,
    pipeline_env,
    liftover_chain: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from just_dna_pipelines.settings import get_settings

    # As a configured install: GRCh37 files get the modules' sites lifted (and read through their index).
    monkeypatch.setenv("JUST_DNA_PIPELINES_LIFTOVER_CHAIN", str(liftover_chain))
    get_settings.cache_clear()
    failures: list[str] = []
    for number, path in enumerate(corpus_files(corpus)):
        expected = EXPECTED.get(path.name)
        out = tmp_path / f"run-{number}"
        out.mkdir()
        try:
            got = observed(path, compiled_modules, out)
        except PipelineError as exc:
            message = str(exc)
            assert_clean_line(message)
            if not isinstance(expected, Refused) or expected.reason not in message:
                failures.append(f"{path.name}: refused ({message}); expected {expected}")
            elif any(out.iterdir()):
                failures.append(f"{path.name}: refused but left {sorted(p.name for p in out.iterdir())}")
            continue
        if not isinstance(expected, Annotated):
            failures.append(f"{path.name}: annotated; expected {expected}")
            continue
        if set(got["statuses"]) != set(MODULES) or got["run_records"] != got["records"]:
            failures.append(f"{path.name}: incomplete run {got['statuses']} {got['run_records']}")
        for key, value in expected.facts.items():
            actual = got["warnings"] if key == "warning" else got[key]
            if (value not in actual) if key == "warning" else (actual != value):
                failures.append(f"{path.name}: {key} is {actual!r}, expected {value!r}")
    assert not failures, "\n".join(failures)
    captured = capfd.readouterr()
    assert captured.err == "", captured.err[:2000]
