"""Running the pipeline on the persistent Dagster instance and reading runs back (the service's internals)."""
