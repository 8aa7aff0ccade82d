"""Errors that carry a clear one-line message for the user, and how text from the user's input appears in them."""

QUOTED_LENGTH = 80  # characters of a file name, value or row quoted in a message


def printable(text: str) -> str:
    """`text` with its unprintable characters (newlines, terminal escapes, bidi overrides) written as escapes: how a
    line quoting names from a file or a module source reaches a terminal, as one line saying only what it says."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def quoted(text: str, limit: int = QUOTED_LENGTH) -> str:
    """`text` from a user's input (a file name, a row of their file) as a message may quote it: `printable`, cut
    short, so crafted input cannot add lines or text of its own to what the user reads."""
    escaped = printable(text)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


def first_line(exc: BaseException) -> str:
    """An exception's message as one printable line (its first), or its type's name when it has none: how a
    failure at the network edge, whose text a server may write, is quoted."""
    text = str(exc).strip()
    return printable(text.splitlines()[0]) if text else type(exc).__name__


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
