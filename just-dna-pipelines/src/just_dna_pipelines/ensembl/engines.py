"""The two join engines and the default (imported by the CLI parser, so it stays free of heavy imports)."""

ENGINES = ("polars", "duckdb")
# The faster of the two on the benchmark, in a third of the memory (bench/RESULTS.md).
DEFAULT_ENGINE = "polars"
