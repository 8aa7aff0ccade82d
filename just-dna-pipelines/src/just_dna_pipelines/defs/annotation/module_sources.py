"""The module dataset and each module as external, observed assets: their data versions are revisions.

`hf_annotators_dataset` is the whole source (the hub's commit, or a hash of a local folder's modules).
Every module is its own bundle: an external asset `modules/{name}` versioned by the module's version and
the hash of its weights, so a new version of one module marks stale only the samples that used it.
"""

import re
import warnings

import dagster as dg

from just_dna_pipelines.defs.automation import observe_hourly
from just_dna_pipelines.modules.sources import cached_modules
from just_dna_pipelines.modules.versions import module_data_version, module_version, source_revision

HF_ANNOTATORS = dg.AssetKey("hf_annotators_dataset")
MODULES_RESOURCE = "modules_source"


def module_key(name: str) -> dg.AssetKey:
    """The external asset of one module's tables."""
    return dg.AssetKey(["modules", name])


def _observe_dataset(context: dg.AssetExecutionContext) -> dg.ObserveResult:
    """Resolve the module source (downloading a new hub revision) and report its revision."""
    resolved = getattr(context.resources, MODULES_RESOURCE).resolve()
    revision = source_revision(resolved)
    return dg.ObserveResult(
        asset_key=HF_ANNOTATORS,
        data_version=dg.DataVersion(revision),
        metadata={"source": resolved.label, "kind": resolved.kind, "revision": revision},
    )


def _observe_module(name: str):
    def observe(context: dg.AssetExecutionContext) -> dg.ObserveResult:
        """Report the module's version and weights hash from the source as it is on this machine."""
        source = getattr(context.resources, MODULES_RESOURCE).source or None
        resolved = cached_modules(source)
        folder = resolved.root / name if resolved is not None else None
        if resolved is None or folder is None or not (folder / "weights.parquet").is_file():
            return dg.ObserveResult(
                asset_key=module_key(name),
                data_version=dg.DataVersion("absent"),
                metadata={"present": False},
            )
        return dg.ObserveResult(
            asset_key=module_key(name),
            data_version=dg.DataVersion(module_data_version(folder)),
            metadata={"present": True, "version": module_version(folder), "source": resolved.label},
        )

    return observe


with warnings.catch_warnings():
    # Observable source assets are beta in Dagster 1.13; the warning would print on every CLI start.
    warnings.simplefilter("ignore", dg.BetaWarning)
    hf_annotators_dataset = dg.multi_observable_source_asset(
        name="observe_hf_annotators_dataset",
        specs=[
            dg.AssetSpec(
                HF_ANNOTATORS,
                description="Annotation modules (weights, annotations, studies as Parquet) from the configured "
                "source: the Hugging Face dataset just-dna-seq/annotators, a local folder, or the demo set. "
                "Its data version is the source's revision.",
                group_name="modules",
                automation_condition=observe_hourly,
            )
        ],
        required_resource_keys={MODULES_RESOURCE},
    )(_observe_dataset)


def module_bundle(name: str) -> dg.Definitions:
    """One module's contribution to the graph: its external table asset, observed from the source."""
    spec = dg.AssetSpec(
        module_key(name),
        deps=[HF_ANNOTATORS],
        description=f"The {name} module's tables; data version = module version + weights hash.",
        group_name="modules",
        automation_condition=observe_hourly,
        kinds={"parquet"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        observed = dg.multi_observable_source_asset(
            name=f"observe_module_{re.sub(r'[^A-Za-z0-9_]', '_', name)}",
            specs=[spec],
            required_resource_keys={MODULES_RESOURCE},
        )(_observe_module(name))
    return dg.Definitions(assets=[observed])
