"""What Reflex needs to run offline: bun from the npm registry and environment that stops network probes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / ".tools"
BUN_VERSION = "1.4.5"
BUN_PATH = TOOLS_DIR / "node_modules" / "bun" / "bin" / "bun.exe"
NPM_REGISTRY = "https://registry.npmjs.org/"


def offline_env() -> dict[str, str]:
    """Environment variables that keep Reflex and Dagster from phoning home or probing unreachable mirrors."""
    return {
        "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY", NPM_REGISTRY),
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        # Bun reads this instead of npm's setting.
        "BUN_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY", NPM_REGISTRY),
    }


def ensure_bun() -> Path:
    """Path of a working bun, installed from the npm registry into `.tools/` on first use (Reflex's own download fails offline)."""
    if not BUN_PATH.exists():
        TOOLS_DIR.mkdir(parents=True, exist_ok=True)
        print(f"installing bun {BUN_VERSION} from the npm registry into {TOOLS_DIR} ...", flush=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(TOOLS_DIR),
                f"bun@{BUN_VERSION}",
            ],
            check=True,
            env={**os.environ, **offline_env()},
        )
    if not BUN_PATH.exists():
        raise SystemExit(
            f"error: bun was not installed at {BUN_PATH}; run `npm install --prefix .tools bun@{BUN_VERSION}`"
        )
    return BUN_PATH


def pin_frontend_host(host: str) -> None:
    """Make the dev frontend (Vite) listen on `host` only; Reflex's own `--host` binds every interface.

    Reflex writes its dev command into `.web/package.json` when it initializes that folder, so both the
    constant (for a fresh `.web`) and an existing file are set.
    """
    import reflex as rx

    command = f"react-router dev --host {host}"
    rx.constants.PackageJson.Commands.DEV = command
    package = REPO_ROOT / ".web" / "package.json"
    if package.is_file():
        data = json.loads(package.read_text())
        if data.get("scripts", {}).get("dev") != command:
            data.setdefault("scripts", {})["dev"] = command
            package.write_text(json.dumps(data, indent=2) + "\n")


def keep_lockfile_format() -> None:
    """Write `reflex.lock/package.json` back in one format, so starting the app leaves the tracked file as is.

    Reflex persists `.web/package.json` to `reflex.lock/` from two places: after rendering it (compact JSON)
    and after `bun add` (which formats it with two-space indents). Which one comes last depends on whether
    `.web` and the install cache exist, so the tracked file flipped between the two formats. The content is
    the same either way; the file is always written as bun formats it.
    """
    from reflex.utils import frontend_skeleton

    original = frontend_skeleton.sync_web_lockfile_to_root
    if getattr(original, "keeps_format", False):
        return

    def sync_web_lockfile_to_root(filename: str) -> None:
        original(filename)
        root = frontend_skeleton.get_root_lockfile_path(filename)
        if filename != rx_package_json() or not root.is_file():
            return
        text = root.read_text()
        formatted = json.dumps(json.loads(text), indent=2)
        if formatted != text:
            root.write_text(formatted)

    sync_web_lockfile_to_root.keeps_format = True  # type: ignore[attr-defined]
    frontend_skeleton.sync_web_lockfile_to_root = sync_web_lockfile_to_root


def rx_package_json() -> str:
    """The file name Reflex gives the frontend's package manifest."""
    import reflex as rx

    return str(rx.constants.PackageJson.PATH)
