"""The CLI's progress printer: prints the run's events in order and stops the moment the run thread is done."""

import logging
import queue
import threading
import time

import dagster as dg

from just_dna_pipelines.cli.run_job import RUN_ENDED, _print_progress


def _log_entry(message: str) -> dg.EventLogEntry:
    return dg.EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message=message,
        run_id="run-1",
        timestamp=time.time(),
        step_key="user_vcf_normalized",
        job_name="annotate_sample",
        dagster_event=None,
    )


def test_progress_lines_come_in_order_and_printing_stops_at_the_runs_end(capsys):
    events: queue.SimpleQueue = queue.SimpleQueue()
    for message in ("first line", "second line"):
        events.put(_log_entry(message))
    events.put(RUN_ENDED)
    events.put(_log_entry("never printed: after the end"))
    _print_progress(events)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("]", 1)[1].strip() for line in lines] == ["first line", "second line"]


def test_the_printer_waits_for_a_slow_run_and_returns_once_it_ends(capsys):
    """No timeout ends the printing early: a run quiet for longer than any poll interval still gets its lines."""
    events: queue.SimpleQueue = queue.SimpleQueue()
    printer = threading.Thread(target=_print_progress, args=(events,))
    printer.start()
    time.sleep(0.5)
    assert printer.is_alive()
    events.put(_log_entry("late line"))
    events.put(RUN_ENDED)
    printer.join(timeout=10)
    assert not printer.is_alive()
    assert "late line" in capsys.readouterr().out
