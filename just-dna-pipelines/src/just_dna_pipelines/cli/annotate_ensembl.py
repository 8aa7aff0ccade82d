"""`pipelines annotate-ensembl --vcf FILE --user U`: annotate every variant of a VCF from the Ensembl reference.

Runs the per-sample Ensembl asset of the chosen engine (after normalizing the VCF in full) as a Dagster run
on the persistent instance, so it shows in the Dagster UI with its `user/sample` partition.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from just_dna_pipelines.ensembl.engines import DEFAULT_ENGINE, ENGINES
from just_dna_pipelines.errors import VcfError
from just_dna_pipelines.keys import sample_name_from_filename, validate_name


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "annotate-ensembl",
        help="annotate every variant of a VCF with the Ensembl variation reference",
        description=__doc__,
    )
    parser.add_argument("--vcf", type=Path, required=True, help="a local .vcf, .vcf.gz or .bcf (GRCh38)")
    parser.add_argument("--user", required=True, help="user name (the partition's first part)")
    parser.add_argument("--sample", help="sample name (default: the file's stem)")
    parser.add_argument("--sample-column", help="which sample of a multi-sample VCF (default: the first)")
    parser.add_argument(
        "--engine", choices=ENGINES, default=DEFAULT_ENGINE, help=f"default: {DEFAULT_ENGINE}"
    )
    parser.add_argument(
        "--ensembl-source",
        help="hf://OWNER/REPO[@revision] or a local folder (default: the configured source)",
    )
    parser.set_defaults(handler=run, settles_gc=True)


def run(args: argparse.Namespace) -> int:
    """Validate the input, run the job with live progress, print the counts and where the outputs are."""
    from just_dna_pipelines.cli.run_job import execute_with_progress
    from just_dna_pipelines.ensembl.annotate import (
        ANNOTATED_FILE,
        ENSEMBL_FOLDER,
        MANIFEST_FILE,
        VCF_FILE,
        check_build,
    )
    from just_dna_pipelines.ensembl.cache import check_reachable
    from just_dna_pipelines.ensembl.source import parse_ensembl_source
    from just_dna_pipelines.io.file_hash import start_sha256
    from just_dna_pipelines.io.utf8_path import require_utf8_path
    from just_dna_pipelines.io.vcf_header import read_vcf_header
    from just_dna_pipelines.io.vcf_normalize import choose_sample
    from just_dna_pipelines.keys import make_partition_key
    from just_dna_pipelines.runs.config import RunRequest
    from just_dna_pipelines.settings import get_settings

    validate_name(args.user, "user name")
    if args.sample is not None:
        validate_name(args.sample, "sample name")
    if not args.vcf.exists():
        raise VcfError(f"file not found: {args.vcf}")
    parse_ensembl_source(args.ensembl_source)
    vcf = require_utf8_path(args.vcf.resolve())
    start_sha256(vcf)  # the run's first step asks for it; hashed on the other core while Dagster loads
    header = read_vcf_header(vcf)
    choose_sample(header, args.sample_column)
    check_build(header.genome_build, unknown_yet=True)  # the run checks the build it decides
    check_reachable(args.ensembl_source)  # offline without a cache: say so now, not after reading the VCF
    sample = args.sample or sample_name_from_filename(vcf.name)
    key = make_partition_key(args.user, sample)
    request = RunRequest(
        partition_key=key,
        vcf_path=str(vcf),
        modules=[],
        sample_column=args.sample_column,
        report=False,
        ensembl=True,
        ensembl_engine=args.engine,
        ensembl_source=args.ensembl_source or "",
    )
    execute_with_progress(
        request, f"annotating {vcf.name} as {key} with the Ensembl reference ({args.engine})"
    )
    folder = get_settings().sample_output_dir(args.user, sample) / ENSEMBL_FOLDER
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    reference = manifest["reference"]
    print(
        f"{manifest['rows']:,} alleles of {manifest['records']:,} records; {manifest['rows_annotated']:,} found in "
        f"{reference['source']} at {reference['revision']}; {manifest['rsids_filled']:,} rsIDs filled"
    )
    print(f"annotated table: {folder / ANNOTATED_FILE}")
    print(f"annotated VCF: {folder / VCF_FILE} (+ .tbi)")
    return 0
