"""Home: add a genome and see your samples."""

import reflex as rx

from webui.components.layout import page
from webui.components.sample_list import sample_list
from webui.components.upload_box import upload_box
from webui.states.samples import SamplesState


@rx.page(route="/", title="Samples · just-dna-lite", on_load=SamplesState.load)
def index() -> rx.Component:
    """Upload box and sample list."""
    return page(
        upload_box(),
        sample_list(),
        title="Your genomes",
        subtitle="Upload a VCF, pick annotation modules, follow the run live and read your longevity report.",
    )
