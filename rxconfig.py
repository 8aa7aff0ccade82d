"""Reflex configuration of the just-dna-lite web app (the app module is `webui.app`)."""

import os

import reflex as rx

from webui.toolchain import BUN_PATH, offline_env

# Set here too so a bare `uv run reflex run` behaves like `uv run start` (no network probes, no telemetry).
for _key, _value in offline_env().items():
    os.environ.setdefault(_key, _value)

config = rx.Config(
    app_name="webui",
    app_module_import="webui.app",
    telemetry_enabled=False,
    backend_host="127.0.0.1",
    show_built_with_reflex=False,
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", gray_color="slate", radius="medium"))
    ],
    **({"bun_path": BUN_PATH} if BUN_PATH.exists() else {}),
)
