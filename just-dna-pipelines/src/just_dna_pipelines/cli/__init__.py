"""`pipelines` command line: one module per subcommand, each with `add_parser` and `run`."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

from just_dna_pipelines import startup_gc
from just_dna_pipelines.errors import PipelineError, quoted
from just_dna_pipelines.keys import InvalidKeyError
from just_dna_pipelines.runs import deferred_alembic, kept_config


def _commands() -> list[ModuleType]:
    """The subcommand modules, imported lazily so `--help` stays fast."""
    from just_dna_pipelines.cli import (
        add_partition,
        annotate_ensembl,
        annotate_modules,
        build_modules,
        download_ensembl,
        list_modules,
        stream_bam,
    )

    return [
        list_modules,
        build_modules,
        annotate_modules,
        download_ensembl,
        annotate_ensembl,
        add_partition,
        stream_bam,
    ]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="pipelines", description="just-dna-lite genome pipelines")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in _commands():
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; user errors become one `error: ...` line on stderr and exit status 2."""
    _children_may_be_stopped()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "settles_gc", False):
        startup_gc.settle()  # the commands that start a Dagster run settle once its imports are done
    try:
        with kept_config.kept():  # the home's files as the app wrote them (runs/kept_config.py)
            return int(args.handler(args) or 0)
    except (PipelineError, InvalidKeyError) as exc:
        # one line whatever the message quotes (a file name with a newline could otherwise add an "error:" line)
        print(f"error: {quoted(str(exc), limit=10_000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # Dagster's interrupt is not an Exception
        if not _dagster_interrupt(exc):
            raise
        print("error: interrupted", file=sys.stderr)
        return 130


def _children_may_be_stopped() -> None:
    """A SIGTERM the caller ignores is caught and dropped instead: ignored, it was inherited by Dagster's `tail -F`
    (which mirrors each step's output to ours), whose stop is a SIGTERM, so it outlived the command holding its
    stdout open; a caught signal is back to its default in a program a child executes."""
    if (
        signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        and threading.current_thread() is threading.main_thread()
    ):
        signal.signal(signal.SIGTERM, _dropped_signal)


def _dropped_signal(_signum: int, _frame: object) -> None:
    """Do nothing: the signal is ignored, as the caller asked."""


def _dagster_interrupt(exc: BaseException) -> bool:
    """Whether `exc` is Dagster's form of a Ctrl-C (its signal handler raises it while a run executes on this
    thread, as `download-ensembl`'s does)."""
    errors = sys.modules.get("dagster._core.errors")
    return errors is not None and isinstance(exc, errors.DagsterExecutionInterruptedError)


def run_command(argv: Sequence[str]) -> int:
    """`main` with collection paused while it starts (startup_gc.py) and Alembic deferred: how the `pipelines`
    program runs a command, here or in a warm server's child."""
    from just_dna_pipelines.cli.reader_gone import quiet_when_reader_gone

    startup_gc.pause()
    deferred_alembic.install()  # a prepared Dagster home never needs it (runs/deferred_alembic.py)
    # `pipelines ... | head -1` finishes its work without a traceback
    with quiet_when_reader_gone() as stdout:
        code = main(argv)
    if stdout.write_error is not None and code == 0:
        print(
            f"error: the command's output could not be written: {stdout.write_error.strerror}",
            file=sys.stderr,
        )
        return 1
    return code


def _fill_closed_streams() -> None:
    """Give a standard stream the caller closed (`>&-`) /dev/null, as a warm server's child gets: Python leaves
    it None, and the first print or flush failed with an AttributeError."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        if getattr(sys, name) is not None:
            continue
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 (the process's own stream)


def run_program() -> None:
    """The `pipelines` program: the command handed to a warm server when one serves this set-up
    (cli/warm_server.py), else run here (and a warm server started for the next command, if this one starts a
    Dagster run); then exit without Python's garbage collections at shutdown.

    Those walk every object Dagster made, several times (1.4 s after a 3 M-read BAM run on 2 cores); the
    process is ending and its files are closed, so nothing needs collecting. Not when DuckDB was loaded:
    its bindings report objects still alive at exit as leaks, on stderr.
    """
    from just_dna_pipelines.cli import warm_client, warm_place

    _fill_closed_streams()
    argv = sys.argv[1:]
    key = warm_place.fingerprint() if warm_place.idle_seconds() else None
    code = warm_client.run_warm(key, argv) if key else None
    if code is None:
        code = run_command(argv)
        if key and warm_client.warm_command(argv):
            warm_client.start_server(key)
    if "duckdb" not in sys.modules:
        gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run_program()
