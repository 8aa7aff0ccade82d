"""The network edge of the Ensembl reference: whether the hub can be used, the dataset's revision and its file list.

Everything here goes through huggingface_hub's HTTP client (endpoint and token from the settings), with the hub's
answers bounded and checked (`io.hub_listing`); every failure becomes one EnsemblError line. Offline is decided
before the hub client is imported (see `offline_reason`). The contig files themselves are downloaded and verified
by `io.hub_download`, shared with module tables and hf:// genomes.
"""

from __future__ import annotations

from just_dna_pipelines.ensembl.layout import DATA_DIR, contig_of_filename, contig_path_in_repo
from just_dna_pipelines.errors import EnsemblError, first_line
from just_dna_pipelines.io.hub_listing import RemoteFile, hub_commit, hub_tree
from just_dna_pipelines.modules.sources import hub_is_reachable
from just_dna_pipelines.settings import Settings


def offline_reason(settings: Settings) -> str | None:
    """Why the hub cannot be used right now (HF_HUB_OFFLINE, or unreachable within a second), or None."""
    if settings.hf_offline:
        return "HF_HUB_OFFLINE is set"
    if not hub_is_reachable(settings.hf_endpoint):
        return f"Hugging Face ({settings.hf_endpoint}) is unreachable"
    return None


def hub_revision(repo_id: str, revision: str | None, settings: Settings) -> str:
    """The commit a branch, tag or commit of the dataset resolves to now."""
    try:
        return hub_commit(settings.hf_endpoint, repo_id, revision, settings.hf_token)
    except Exception as exc:  # the network edge: every hub failure becomes one clear line
        raise EnsemblError(f"cannot read {repo_id} from {settings.hf_endpoint}: {first_line(exc)}") from exc


def hub_files(repo_id: str, commit: str, settings: Settings) -> dict[str, RemoteFile]:
    """Contig -> file of the dataset at `commit`, with the sizes and SHA-256 sums the hub reports."""
    try:
        listing = hub_tree(settings.hf_endpoint, repo_id, commit, DATA_DIR, settings.hf_token)
    except Exception as exc:
        raise EnsemblError(f"cannot list {repo_id} at {commit[:12]}: {first_line(exc)}") from exc
    files: dict[str, RemoteFile] = {}
    for remote in listing:
        contig = contig_of_filename(remote.path)
        if contig is not None and remote.path == contig_path_in_repo(contig):
            files[contig] = remote
    if not files:
        raise EnsemblError(f"{repo_id} at {commit[:12]} has no {DATA_DIR}/homo_sapiens-chr*.parquet files")
    return files
