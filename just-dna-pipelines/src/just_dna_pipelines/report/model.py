"""The report's data: every figure the report shows, computed once by `build.build_report_data`."""

from __future__ import annotations

from dataclasses import dataclass, field

from just_dna_pipelines.liftover.sites import MODULES_BUILD


@dataclass(frozen=True)
class Study:
    """One published study behind a variant."""

    pmid: str | None
    population: str | None
    p_value: str | None
    conclusion: str | None
    study_design: str | None

    @property
    def pubmed_url(self) -> str | None:
        """The PubMed page of the study, when the PMID is a plain number."""
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid and self.pmid.isdigit() else None

    @property
    def p_value_label(self) -> str:
        """'p-value' for a number; 'Association' when the module gives words ("significant") instead."""
        return (
            "p-value"
            if self.p_value and self.p_value.lstrip("<>=~ ")[:1] in set("0123456789.")
            else "Association"
        )


@dataclass(frozen=True)
class VariantRow:
    """One matched genotype of the person, with what the module says about it."""

    module: str
    rsid: str | None
    chrom: str | None
    start: int | None
    ref: str | None
    genotype: str  # alleles joined with "/", e.g. "A/G"
    gt: str | None
    zygosity: str | None
    weight: float
    state: str
    priority: float | None
    conclusion: str | None
    gene: str | None
    category: str | None
    phenotype: str | None
    evidence: str | None
    studies: tuple[Study, ...] = ()
    # Where the person's file holds the genotype, in the file's build (modules/schema.py: SAMPLE_POSITION_SCHEMA)
    sample_chrom: str | None = None
    sample_start: int | None = None
    sample_build: str | None = None  # the build of the person's file ("unknown" when it could not be told)

    @property
    def file_place(self) -> str | None:
        """Where to find the call in the person's own file ("chr21:16318226 in your GRCh37 file"), when that
        file is not on the modules' build (on it, the position shown is the file's own)."""
        if self.sample_start is None or self.sample_build == MODULES_BUILD:
            return None
        build = f"{self.sample_build} " if self.sample_build and self.sample_build != "unknown" else ""
        return f"chr{self.sample_chrom}:{self.sample_start} in your {build}file"

    @property
    def dbsnp_url(self) -> str | None:
        """The dbSNP page of the variant, when it has an rsid."""
        if self.rsid and self.rsid.lower().startswith("rs") and self.rsid[2:].isdigit():
            return f"https://www.ncbi.nlm.nih.gov/snp/{self.rsid.lower()}"
        return None

    @property
    def sign(self) -> str:
        """'positive', 'negative' or 'zero': the sign of the weight, as used by the report's filter."""
        return "positive" if self.weight > 0 else "negative" if self.weight < 0 else "zero"


@dataclass(frozen=True)
class Tally:
    """Counts and net weight of a set of variant rows."""

    total: int
    protective: int
    risk: int
    neutral: int
    net_weight: float


@dataclass(frozen=True)
class Ledger:
    """How many of a module's sites could be tested in this sample, and why the rest could not."""

    sites: int
    called: int
    no_call: int
    inferred_hom_ref: int
    not_testable: int
    untested_reasons: tuple[tuple[str, int], ...]  # (human-readable reason, count), no-calls included
    # Curated variants the module itself could not turn into sites (its compiler dropped them), one sentence
    # per reason; they are not among `sites`, and no genome can test them with this module version.
    untestable_in_module: tuple[str, ...] = ()

    @property
    def tested(self) -> int:
        """Sites whose genotype is known: called, or proven reference."""
        return self.called + self.inferred_hom_ref

    @property
    def untested(self) -> int:
        """Sites whose genotype is unknown."""
        return self.sites - self.tested


@dataclass(frozen=True)
class CategorySection:
    """One longevitymap pathway category with its rows."""

    key: str
    title: str
    description: str
    tally: Tally
    variants: tuple[VariantRow, ...]


@dataclass(frozen=True)
class ModuleSection:
    """One annotation module's results in this sample."""

    name: str
    title: str
    description: str
    status: str  # "done", "skipped" or "failed"
    reason: str | None
    version: str | None
    sha256: str | None
    tally: Tally
    ledger: Ledger | None
    variants: tuple[VariantRow, ...]
    categories: tuple[CategorySection, ...] = ()  # longevitymap only
    notes: tuple[str, ...] = ()  # e.g. "studies unavailable: module folder not found"
    matched_via_filled_rsid: int = 0  # matches found through rsIDs filled from the Ensembl reference

    @property
    def done(self) -> bool:
        """Whether the module ran to completion (its rows and ledger are meaningful)."""
        return self.status == "done"


@dataclass(frozen=True)
class Provenance:
    """Everything needed to reproduce the report."""

    pipeline_version: str | None
    run_id: str | None
    created_at: str | None
    engine: str | None
    input_file: str | None
    input_sha256: str | None
    sample_column: str | None
    genome_build: str | None
    records: int | None
    records_kept: int | None
    read_mode: str  # "full" (every record read) or "module_sites" (only the records at module sites read)
    filters: tuple[tuple[str, str], ...]
    confident_regions: str | None
    confident_regions_sha256: str | None
    modules_source_kind: str | None
    modules_source_label: str | None
    modules_source_revision: str | None
    report_generated_at: str
    report_version: str
    genome_build_text: str | None = None  # the build, how it was decided, and any liftover of module sites
    input_kind_text: str | None = None  # for a DNA-test array: vendor, SNPs, call rate
    site_reader: str | None = None  # module_sites mode: "scan" (records counted in one pass) or "index"
    rsid_fill_source: str | None = None  # the Ensembl reference that filled missing rsIDs, if any
    rsid_fill_revision: str | None = None
    rsid_fill_records: int | None = None
    malformed_records: int = 0  # damaged records skipped while reading (cut short, unreadable fields)


@dataclass(frozen=True)
class VariantChange:
    """A scored variant that appeared, disappeared or changed weight since the previous report."""

    module: str
    rsid: str | None
    genotype: str
    weight_now: float | None  # None: no longer scored
    weight_then: float | None  # None: not scored before


@dataclass(frozen=True)
class Changes:
    """What changed since the sample's previous report (and why, when a module or the reference moved on)."""

    previous_at: str | None
    added: tuple[VariantChange, ...]
    removed: tuple[VariantChange, ...]
    reweighted: tuple[VariantChange, ...]
    modules_updated: tuple[tuple[str, str, str], ...]  # (module, version then, version now)
    reference_then: str | None
    reference_now: str | None
    compared: tuple[str, ...] | None = None  # the modules both reports ran (None: an older snapshot, all)
    other_person: str | None = None  # the previous report was of this other person of the VCF: not compared

    @property
    def any(self) -> bool:
        """Whether anything at all changed (between two reports of the same person)."""
        return self.other_person is None and bool(
            self.added
            or self.removed
            or self.reweighted
            or self.modules_updated
            or self.reference_then != self.reference_now
        )


@dataclass(frozen=True)
class ReportData:
    """The whole report: header facts, module sections and provenance."""

    user: str
    sample: str
    genome_build: str | None
    modules: tuple[ModuleSection, ...]
    provenance: Provenance
    overall: Tally  # over every completed module
    warnings: tuple[str, ...] = field(default=())
    changes: Changes | None = None  # None on a sample's first report
