"""When samples are re-annotated by themselves: a new revision of a module or of the reference, if the user wants.

Off by default. `JUST_DNA_PIPELINES_AUTO_REANNOTATE=1` starts the sensor with the code location (or turn
`reannotation_sensor` on in the Dagster UI). The sources are then observed hourly; a partition is
re-annotated only if it was annotated from what changed (an asset a sample never used stays missing,
not stale), and its downstream results and report follow in the same run.
"""

import warnings

import dagster as dg

from just_dna_pipelines.settings import get_settings

OBSERVE_CRON = "0 * * * *"
REFERENCE = dg.AssetSelection.assets("ensembl_annotations")

# The external sources are looked at once an hour.
observe_hourly = dg.AutomationCondition.cron_tick_passed(OBSERVE_CRON).with_label("hourly observation")


def _new_revision_of(sources: dg.AssetSelection) -> dg.AutomationCondition:
    """One of `sources` reported a different data version since this asset was last handled."""
    changed = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.data_version_changed()).allow(
        sources
    )
    return changed.since_last_handled()


_idle = ~dg.AutomationCondition.in_progress() & ~dg.AutomationCondition.any_deps_in_progress()
# Whatever a dependency requested in this same tick is redone with it (same run).
_with_upstream = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested())

# The local reference cache follows the dataset's revision once it has been downloaded.
reference_refresh = (
    _new_revision_of(dg.AssetSelection.assets("ensembl_hf_dataset"))
    & ~dg.AutomationCondition.missing()
    & _idle
).with_label("new reference revision")


def module_refresh(module: dg.AssetKey) -> dg.AutomationCondition:
    """Per sample: re-annotate with a module that got a new revision, if the sample used it."""
    new_revision = _new_revision_of(dg.AssetSelection.assets(module))
    return ((new_revision | _with_upstream) & ~dg.AutomationCondition.missing() & _idle).with_label(
        "new module revision, sample used it"
    )


# Per sample: re-annotate with the reference once the cache moved to a new revision, if the sample used it.
ensembl_refresh = (
    (_new_revision_of(REFERENCE) | _with_upstream) & ~dg.AutomationCondition.missing() & _idle
).with_label("new reference revision, sample used it")
# The manifest and the report are redone in the run that re-annotated what they summarize.
follow_upstream = (_with_upstream & ~dg.AutomationCondition.missing()).with_label("re-annotated upstream")


def reannotation_sensor() -> dg.AutomationConditionSensorDefinition:
    """The sensor evaluating these conditions; running from the start only when the setting asks for it."""
    running = get_settings().auto_reannotate
    with warnings.catch_warnings():
        # include_sources is beta in Dagster 1.13; without it the observed sources would get Dagster's
        # default automation sensor, which is not under this setting.
        warnings.simplefilter("ignore", dg.BetaWarning)
        everything = dg.AssetSelection.all(include_sources=True)
    return dg.AutomationConditionSensorDefinition(
        "reannotation_sensor",
        target=everything,
        default_status=dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=60,
        description="Observes the module and reference sources hourly and re-annotates the samples that used "
        "a module or reference revision that changed. Off unless JUST_DNA_PIPELINES_AUTO_REANNOTATE=1.",
    )
