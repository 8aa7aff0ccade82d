"""Errors that carry a clear one-line message for the user."""


class PipelineError(Exception):
    """An error the user can act on; its message is shown as one line, without a traceback."""


class VcfError(PipelineError):
    """The input is not a usable VCF (missing, empty, truncated, no genotypes, ...)."""


class ModuleSourceError(PipelineError):
    """A module source is unreachable, malformed, or lacks a requested module."""


class BamError(PipelineError):
    """A BAM input is unreadable, truncated, unreachable or lacks a needed index."""


class EnsemblError(PipelineError):
    """The Ensembl reference is unreachable, not cached, fails its checksum, or cannot annotate the input."""
