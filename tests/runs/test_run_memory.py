"""A run remembers that its sample partition exists, only while it executes, and never remembers a "no"."""

from __future__ import annotations

import dagster as dg

from just_dna_pipelines.runs.run_memory import partitions_remembered

PARTITIONS = "user_vcf_files"


def test_a_found_partition_is_remembered_only_inside_the_block() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(PARTITIONS, ["alice/sample1"])
        with partitions_remembered(instance):
            assert instance.has_dynamic_partition(PARTITIONS, "alice/sample1")
            instance.delete_dynamic_partition(PARTITIONS, "alice/sample1")
            assert instance.has_dynamic_partition(PARTITIONS, "alice/sample1")  # not asked again
            assert not instance.has_dynamic_partition(PARTITIONS, "bob/sample2")
            instance.add_dynamic_partitions(PARTITIONS, ["bob/sample2"])
            assert instance.has_dynamic_partition(PARTITIONS, "bob/sample2")  # a "no" is asked again
        assert not instance.has_dynamic_partition(PARTITIONS, "alice/sample1")  # the storage answers again
        assert "has_dynamic_partition" not in vars(instance)


def test_blocks_inside_a_block_keep_the_outer_memory() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(PARTITIONS, ["alice/sample1"])
        with partitions_remembered(instance):
            assert instance.has_dynamic_partition(PARTITIONS, "alice/sample1")
            with partitions_remembered(instance):
                instance.delete_dynamic_partition(PARTITIONS, "alice/sample1")
                assert instance.has_dynamic_partition(PARTITIONS, "alice/sample1")
            assert instance.has_dynamic_partition(PARTITIONS, "alice/sample1")  # the inner block left it
        assert not instance.has_dynamic_partition(PARTITIONS, "alice/sample1")
