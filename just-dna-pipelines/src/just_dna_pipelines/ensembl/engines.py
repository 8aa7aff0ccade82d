"""The two join engines and the default (imported by the CLI parser, so it stays free of heavy imports)."""

ENGINES = ("polars", "duckdb")
DEFAULT_ENGINE = "duckdb"  # the faster of the two on the benchmark (bench/RESULTS.md)
