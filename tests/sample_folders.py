"""What a sample's output folder holds, for tests that compare it before and after a run."""

from __future__ import annotations

from pathlib import Path


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def staging_left(output_dir: Path) -> list[Path]:
    """What is left in the output folder's staging folder (nothing when it was never made)."""
    staging = output_dir / ".staging"
    return list(staging.iterdir()) if staging.is_dir() else []


def rerun_with_another_genome(
    output_dir: Path, user: str, vcfs: tuple[Path, Path], add_sample, wait_until
) -> tuple[str, Path, dict[str, bytes]]:
    """Sample `user/sample` run to success with the first genome, then re-run with the second, returned once the
    re-run has published its source.json: (the re-run's id, the sample's folder, its files before the re-run)."""
    from just_dna_pipelines import service

    add_sample(user, vcfs[0], "sample")
    first = service.launch_run(user, "sample", ["longevitymap"])
    wait_until(lambda: service.get_run(first).finished, "the first run to end")
    assert service.get_run(first).status == "success"
    folder = output_dir / "users" / user / "sample"
    before = folder_bytes(folder)
    assert "reports/longevity_report.html" in before and "source.json" in before

    add_sample(user, vcfs[1], "sample")  # the sample's upload replaced by another genome
    rerun = service.launch_run(user, "sample", ["longevitymap", "vo2max"])
    wait_until(
        lambda: (
            (folder / "source.json").is_file()
            and (folder / "source.json").read_bytes() != before["source.json"]
        ),
        "the re-run to publish its source",
    )
    return rerun, folder, before
