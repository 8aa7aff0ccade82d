"""The demo module set built by several processes at once (the CLI, the web app and run workers starting together)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from just_dna_pipelines.modules.schema import KNOWN_MODULES

# Imports, says it is ready, waits for the go file, then builds the demo set and lists it.
BUILDER = """
import sys, time
from pathlib import Path
go, ready = Path(sys.argv[1]), Path(sys.argv[2])
from just_dna_pipelines.modules.demo import ensure_demo_modules
ready.touch()
while not go.exists():
    time.sleep(0.001)
root = ensure_demo_modules()
print(len([p for p in root.iterdir() if p.is_dir()]))
"""

# Lists the demo folder without pause from the go file on; prints the listings that found the set gone or short
# after it had once been whole, and whether it was ever whole.
WATCHER = """
import os, sys, time
from pathlib import Path
go, root, expected = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
whole, gaps, until = False, 0, time.monotonic() + 3
while time.monotonic() < until:
    try:
        count = len(os.listdir(root))
    except FileNotFoundError:
        count = 0
    whole = whole or count == expected
    gaps += whole and count != expected
print(gaps, whole)
"""


def test_processes_building_the_demo_set_together_never_leave_it_missing_or_short(tmp_path: Path) -> None:
    cache, go = tmp_path / "cache", tmp_path / "go"
    env = {**os.environ, "JUST_DNA_PIPELINES_CACHE_DIR": str(cache)}
    ready = [tmp_path / f"ready{number}" for number in range(6)]
    builders = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER, str(go), str(flag)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    root = cache / "demo-modules"
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(go), str(root), str(len(KNOWN_MODULES))],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready):  # every builder imported and waiting on the go file
        assert time.monotonic() < deadline, "the builders did not start"
        time.sleep(0.01)
    go.touch()
    for builder in builders:
        out, err = builder.communicate(timeout=120)
        assert builder.returncode == 0, err
        assert out.strip() == str(len(KNOWN_MODULES))
    out, err = watcher.communicate(timeout=120)
    assert watcher.returncode == 0, err
    gaps, whole = out.split()
    assert whole == "True", "the watcher never saw the set whole: nothing was tested"
    assert gaps == "0", f"{gaps} listings found the demo set missing or short after it was whole"
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith(".demo-modules.tmp-")) == []
