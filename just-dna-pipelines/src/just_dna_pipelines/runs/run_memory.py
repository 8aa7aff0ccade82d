"""What a run may remember while it executes: answers that cannot change under it.

Dagster asks the instance whether the run's sample partition exists each time it looks up the data version
of a partitioned input (every input of every asset the run materializes): a query on the storage each time,
~18 % of a web run's time. The partition was checked when the run was launched and is not removed while the
run executes (deleting a sample cancels its runs first), so a "yes" is remembered until the run ends; a
"no" is always asked again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg


@contextmanager
def partitions_remembered(instance: dg.DagsterInstance) -> Iterator[None]:
    """While the block runs, `instance.has_dynamic_partition` answers a partition it has found once at once."""
    if "has_dynamic_partition" in vars(instance):  # already remembering (a run inside a run's block)
        yield
        return
    ask = instance.has_dynamic_partition
    found: set[tuple[str, str]] = set()

    def has_dynamic_partition(partitions_def_name: str, partition_key: str) -> bool:
        if (partitions_def_name, partition_key) in found:
            return True
        if ask(partitions_def_name, partition_key):
            found.add((partitions_def_name, partition_key))
            return True
        return False

    setattr(instance, "has_dynamic_partition", has_dynamic_partition)  # noqa: B010 - a method, shadowed
    try:
        yield
    finally:
        delattr(instance, "has_dynamic_partition")
