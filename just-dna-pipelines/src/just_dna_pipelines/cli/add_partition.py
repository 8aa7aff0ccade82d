"""`pipelines add-partition USER/SAMPLE`: add a sample's partition to the persistent Dagster instance.

The working form of `dg instance add-dynamic-partitions user_vcf_files "user1/sample1"` (dg has no such
command): the key is validated the one way every key is, then added to `user_vcf_files` in DAGSTER_HOME.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "add-partition",
        help="add a user/sample partition (user_vcf_files) to the Dagster instance",
        description=__doc__,
    )
    parser.add_argument("key", help="the partition key, user/sample")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate the key and add it (a no-op when it exists)."""
    from just_dna_pipelines.defs.annotation.partitions import USER_VCF_FILES
    from just_dna_pipelines.keys import make_partition_key, parse_partition_key
    from just_dna_pipelines.runs.instance import ensure_dagster_home, get_instance

    key = make_partition_key(*parse_partition_key(args.key))
    instance = get_instance()
    added = not instance.has_dynamic_partition(USER_VCF_FILES, key)
    if added:
        instance.add_dynamic_partitions(USER_VCF_FILES, [key])
    print(
        f"{'added' if added else 'already there:'} {USER_VCF_FILES} partition {key} in {ensure_dagster_home()}"
    )
    return 0
