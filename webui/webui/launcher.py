"""Entry points `start` and `dagster-ui` (filled in by the web app issue)."""


def start() -> None:
    """Start the whole app."""
    raise SystemExit("error: the web app is not built yet; use `uv run pipelines --help`")


def dagster_ui() -> None:
    """Start the Dagster UI alone."""
    raise SystemExit("error: not built yet")
