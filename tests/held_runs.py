"""Hold a real run in progress for as long as a test needs it, whatever the machine's speed.

Runs got fast (a 5 M-call VCF in ~4 s), so a test that acts on a run in progress (a browser queueing behind it, then
canceling it) raced the run's end. Here the run's own process group is stopped (SIGSTOP) at a moment it holds no
write lock (SQLite or file lock: others would wait on it), and continued (SIGCONT) when the test is done with it. A
signal sent meanwhile (the cancel's SIGTERM) stays pending and is taken as the run continues; SIGKILL ends it even
while stopped. Nothing of the run is replaced: the same processes do the same work, only later.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import dagster as dg
import psutil

from just_dna_pipelines.runs import tags

POLL_S = 0.02
# A process that started a child with vfork (Python's subprocess does) waits in the kernel, never stopping,
# until that child has exec'd; a child stopped in between keeps it so for good. So a group not all stopped
# within this is continued and stopped again (a loaded CI run hit it: "did not stop in 60 s").
STOP_WAIT_S = 2.0


def run_process(instance: dg.DagsterInstance, run_id: str, timeout: float = 60.0) -> int:
    """The pid of the process running `run_id` (its tags name it once the run has started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.tags.get(tags.PROCESS) == "run" and tags.PID in run.tags:
            return int(run.tags[tags.PID])
        time.sleep(POLL_S)
    raise TimeoutError(f"run {run_id} has no process of its own after {timeout:.0f} s")


def _group(pid: int) -> list[int]:
    """`pid` and, when it leads a process group (the worker's run children do), every other process of it."""
    if os.getpgid(pid) != pid:
        return [pid]
    members = [pid]
    for process in psutil.process_iter():
        with suppress(psutil.Error, ProcessLookupError):
            if process.pid != pid and os.getpgid(process.pid) == pid:
                members.append(process.pid)
    return members


def _all_stopped(pids: list[int]) -> bool:
    """Whether every thread of the processes is stopped (`T`, or `t` traced) or dead (`Z`, `X`) by now.

    Raises RuntimeError when the run's own process (the first) is gone; a helper that ended does not count.
    """
    for index, pid in enumerate(pids):
        try:
            threads = list(Path(f"/proc/{pid}/task").iterdir())
            states = []
            for thread in threads:
                stat = (thread / "stat").read_text()
                states.append(stat[stat.rindex(")") + 2])
        except FileNotFoundError:
            if index == 0:
                raise RuntimeError(f"process {pid} ended before its run could be held") from None
            continue
        if any(state not in "TtZX" for state in states):
            return False
    return True


def _claim_inodes(instance: dg.DagsterInstance) -> set[str]:
    """The inodes of the sample claims' lock files: a run holds its sample's for as long as it lasts, and nobody
    waits on one (a claim is only ever tried, runs/sample_claim.py), so a run stopped holding it blocks no one."""
    from just_dna_pipelines.runs.sample_claim import CLAIMS_FOLDER

    inodes = set()
    for path in (Path(instance.root_directory) / CLAIMS_FOLDER).glob("*.lock"):
        with suppress(FileNotFoundError):
            inodes.add(str(path.stat().st_ino))
    return inodes


def write_locks_held(pids: list[int], ignored_inodes: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether any of the processes holds an exclusive lock (/proc/locks: SQLite's write locks, file locks), but
    for locks on the files of `ignored_inodes`."""
    owners = {str(pid) for pid in pids}
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields:
            continue  # a lock waited for, not held
        inode = fields[5].rsplit(":", 1)[-1] if len(fields) > 5 else ""  # MAJ:MIN:INODE
        if inode and fields[3] == "WRITE" and fields[4] in owners and inode not in ignored_inodes:
            return True
    return False


def _signal(pid: int, sig: int) -> None:
    """Signal `pid`'s process group when it leads one, else `pid`; ProcessLookupError when it is gone."""
    if os.getpgid(pid) == pid:
        os.killpg(pid, sig)
    else:
        os.kill(pid, sig)


@contextmanager
def held_run(instance: dg.DagsterInstance, run_id: str, timeout: float = 60.0) -> Iterator[int]:
    """Stop the run's processes while it holds no write lock, yield its pid, continue them on leaving.

    Raises RuntimeError when the run ended (or its process is gone) before it could be held.
    """
    pid = run_process(instance, run_id, timeout)
    deadline = time.monotonic() + timeout
    try:
        try:
            while True:
                _signal(pid, signal.SIGSTOP)
                group = _group(pid)
                stop_by = time.monotonic() + STOP_WAIT_S
                while not (stopped := _all_stopped(group)) and time.monotonic() < stop_by:
                    time.sleep(0.001)
                if not stopped:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"run {run_id}'s processes did not stop in {timeout:.0f} s")
                    _signal(pid, signal.SIGCONT)  # e.g. a child stopped between vfork and exec: let it go on
                    time.sleep(POLL_S)
                    continue
                if not write_locks_held(group, _claim_inodes(instance)):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"run {run_id}'s process held a write lock at every try for {timeout:.0f} s"
                    )
                _signal(pid, signal.SIGCONT)  # mid-write: let it finish and try again
                time.sleep(POLL_S)
        except ProcessLookupError:
            raise RuntimeError(f"run {run_id}'s process {pid} ended before it could be held") from None
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished or not tags.responsible_process_alive(run.tags):
            raise RuntimeError(f"run {run_id} ended before it could be held")  # and `pid` is not its process
        yield pid
    finally:
        with suppress(ProcessLookupError):
            _signal(pid, signal.SIGCONT)


def wait_for_pending_signal(pid: int, sig: int, timeout: float = 60.0) -> None:
    """Wait until `sig` was sent to the (stopped) process and waits to be taken (/proc/<pid>/status ShdPnd)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("ShdPnd:", "SigPnd:")) and int(line.split()[1], 16) >> (sig - 1) & 1:
                return
        time.sleep(POLL_S)
    raise TimeoutError(f"no {signal.Signals(sig).name} reached process {pid} in {timeout:.0f} s")
