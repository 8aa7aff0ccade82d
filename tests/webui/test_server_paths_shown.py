"""What the web app shows of a failure (the sample page, a run's progress) names no folder of the server."""

from __future__ import annotations

import re
import shutil

import pytest

from just_dna_pipelines.modules.demo import ensure_demo_modules
from just_dna_pipelines.service import ProgressEvent
from webui.services import samples, uploads
from webui.services.errors import WebError
from webui.services.module_choices import module_choices
from webui.services.progress import RunView

ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/\w")


@pytest.fixture
def module_folder(web_env, monkeypatch: pytest.MonkeyPatch):
    """The demo modules in a local module folder whose path holds a space, configured as the source."""
    from just_dna_pipelines.settings import get_settings

    folder = web_env.root / "server modules"
    shutil.copytree(ensure_demo_modules(), folder)
    monkeypatch.setenv("JUST_DNA_PIPELINES_MODULES_SOURCE", str(folder))
    get_settings.cache_clear()
    return folder


def test_a_module_folder_gone_is_told_on_the_sample_page_without_its_path(alice, module_folder):
    """The module source folder removed (a refresh, a moved disk): the checklist's error and the error of pressing
    Run quoted the folder's absolute path to every user."""
    demo = uploads.add_demo_sample(alice)
    shutil.rmtree(module_folder)

    error = module_choices(alice).error
    with pytest.raises(WebError) as launched:
        samples.launch(alice, demo.name, ["longevitymap"])

    for shown in (error, str(launched.value)):
        assert "server modules does not exist" in shown
        assert not ABSOLUTE_PATH.search(shown), shown


def test_a_run_failure_naming_server_files_is_shown_without_their_paths(module_folder, web_env):
    """A step failing on a module's table or the output folder: the progress page cut a path at its first space,
    showing the rest of the server's folders."""
    table = module_folder / "vo2max" / "weights.parquet"
    view = RunView(modules=["vo2max"])
    view.apply(
        [
            ProgressEvent(0, 1.0, "user_hf_module_annotations", "step_start", "info", ""),
            ProgressEvent(
                1,
                2.0,
                "user_hf_module_annotations",
                "step_failure",
                "error",
                f"cannot read {table}: I/O error",
            ),
        ]
    )
    assert view.failure_message == "cannot read weights.parquet: I/O error"
    assert all(not ABSOLUTE_PATH.search(line["message"]) for line in view.log)
