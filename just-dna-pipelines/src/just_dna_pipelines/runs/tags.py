"""The run tags this project writes, and the process identity they record.

A run in progress names the process responsible for it (pid, the process's start time and the host), so
any process on the machine can tell a live run from one whose process was killed: a pid alone could
have been reused by another program since.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import psutil

LAUNCHER = "just-dna/launcher"  # "worker" (queued by the web app) or "cli" (run in the CLI's process)
MODULES = "just-dna/modules"
USER = "just-dna/user"  # the sample's owner: "queue" mode limits runs in progress per user by it
PROCESS = "just-dna/process"  # "worker" while claimed but not started, "run" once its own process runs it
# ("queue": the process Dagster's run launcher started for a run of its queue)
PID = "just-dna/pid"
PID_STARTED = "just-dna/pid-started"
HOST = "just-dna/host"
ERROR = "just-dna/error"  # the reason we gave when we ended a run ourselves
PARTITION = "dagster/partition"

# Two readings of one process's start time differ by clock-tick rounding only.
START_TIME_TOLERANCE_S = 0.5


def sample_partition(run_tags: Mapping[str, str]) -> str | None:
    """The `user/sample` key a run is for, or None (a run of no partition, of a range, or of another kind)."""
    from just_dna_pipelines.keys import InvalidKeyError, parse_partition_key

    key = run_tags.get(PARTITION)
    if key is None:
        return None
    try:
        parse_partition_key(key)
    except InvalidKeyError:
        return None
    return key


def process_tags(kind: str, pid: int | None = None) -> dict[str, str]:
    """Tags naming process `pid` (default: this one) as responsible for a run."""
    pid = pid or os.getpid()
    return {
        PROCESS: kind,
        PID: str(pid),
        PID_STARTED: repr(psutil.Process(pid).create_time()),
        HOST: socket.gethostname(),
    }


def responsible_process_alive(tags: Mapping[str, str]) -> bool | None:
    """Whether the process a run's tags name is still running: None when that cannot be told from here."""
    if PID not in tags or tags.get(HOST) != socket.gethostname():
        return None
    try:
        process = psutil.Process(int(tags[PID]))
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(process.create_time() - float(tags[PID_STARTED])) < START_TIME_TOLERANCE_S
    except (psutil.NoSuchProcess, ValueError, KeyError):
        return False
    except psutil.AccessDenied:
        return True  # it exists; another user's process cannot be ours, but a reused pid is unlikely
