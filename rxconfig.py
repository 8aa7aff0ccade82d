"""Reflex configuration of the just-dna-lite web app (the app module is `webui.app`)."""

import os

import reflex as rx

from webui.config import get_web_settings
from webui.toolchain import BUN_PATH, keep_lockfile_format, offline_env, pin_frontend_host

# Set here too so a bare `uv run reflex run` behaves like `uv run start` (no network probes, no telemetry).
for _key, _value in offline_env().items():
    os.environ.setdefault(_key, _value)

# Bind the dev frontend like the backend: loopback unless JUST_DNA_HOST says otherwise.
pin_frontend_host(os.environ.get("JUST_DNA_HOST", "127.0.0.1"))
# Starting the app leaves the tracked reflex.lock/package.json byte for byte as committed.
keep_lockfile_format()
_web = get_web_settings()

config = rx.Config(
    app_name="webui",
    app_module_import="webui.app",
    telemetry_enabled=False,
    backend_host=os.environ.get("JUST_DNA_HOST", "127.0.0.1"),
    # Only this app's own pages may call the backend with credentials or open its websocket.
    cors_allowed_origins=_web.origins(),
    show_built_with_reflex=False,
    # Per-tab state in memory (one backend process), or in Redis (REDIS_URL) so several workers share it.
    # Never on disk under .states/. Either way the state keeps only the session token's digest (see guard.py).
    state_manager_mode=(
        rx.constants.StateManagerMode.REDIS if _web.redis_url else rx.constants.StateManagerMode.MEMORY
    ),
    redis_url=_web.redis_url or None,
    # How long one event may hold a tab's state in Redis (Reflex's default, 10 s, is short for a busy 2-core box).
    redis_lock_expiration=30_000,
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", gray_color="slate", radius="medium"))
    ],
    **({"bun_path": BUN_PATH} if BUN_PATH.exists() else {}),
)
