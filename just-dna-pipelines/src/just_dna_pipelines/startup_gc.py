"""Python's cyclic garbage collector kept off the objects a process makes while it starts.

What a command imports (Dagster, SQLAlchemy, Polars, pydantic, ...) makes ~170,000 objects that live until the
process ends. The collector runs when allocations outnumber frees, so start-up set off full collections that
walked all of them and freed nothing: on the 5 M-record whole genome `annotate-modules` spent 0.29-0.31 s of
its ~1.9 s in four of them, three during the imports and one in the run's first step (bench/RESULTS.md).

So the `pipelines` program pauses collection when it starts (`pause`), and once a command has imported what
its run needs it calls `settle`: what is alive then is frozen (`gc.freeze`: moved where collections no longer
look) and collection resumes for what the run makes. Only a pause is settled: a process that never paused
(a test calling the CLI's `main`) keeps its collector as it was. The run worker does the same around its
warm-up, collecting once before the freeze (it lives for days); the runs it forks then neither walk the
warm-up's objects nor, by collecting, write to (and so copy) the memory they share with the worker.
"""

from __future__ import annotations

import gc


def pause() -> None:
    """Stop cyclic collection until `settle` (reference counting still frees everything else at once)."""
    gc.disable()


def settle(*, collect: bool = False) -> None:
    """If collection is paused: freeze every object alive now out of its sight, and resume it.

    `collect` first frees what start-up left unreachable (a full collection), for a process that lives on.
    """
    if gc.isenabled():
        return
    if collect:
        gc.collect()
    gc.freeze()
    gc.enable()
