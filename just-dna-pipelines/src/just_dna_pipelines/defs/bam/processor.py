"""StreamingBamChunkProcessor: the mapped op writing one JSON per chunk, and the op publishing the summary."""

from pathlib import Path

import dagster as dg
from pydantic import AliasChoices, Field

from just_dna_pipelines.bam.chunk import ChunkStats, total_of
from just_dna_pipelines.bam.output import (
    discard_staging,
    final_folder,
    publish,
    staging_folder,
    write_batch,
)
from just_dna_pipelines.bam.work import BamFileInfo, ChunkBatch
from just_dna_pipelines.errors import BamError
from just_dna_pipelines.settings import get_settings

PROCESS_OP_NAME = "process_bam_chunks_op"
SUMMARY_OP_NAME = "publish_bam_summary_op"


class StreamingBamChunkProcessor(dg.Component, dg.Resolvable, dg.Model):
    """Writes `chunk_NNNNNN.json` per chunk and `summary.json` under `<output_directory>/<BAM name>-<8 hex>/`.

    Each mapped step writes one batch into a hidden staging folder; the summary step checks that every
    chunk was written and swaps the folder in whole, so readers never see a half-written result.
    """

    output_directory: str | None = None
    # The documented name; `op_name` is still accepted.
    name: str = Field(default=PROCESS_OP_NAME, validation_alias=AliasChoices("name", "op_name"))
    summary_op_name: str = SUMMARY_OP_NAME

    def root(self) -> Path:
        """The output root (the pipelines output folder's `bam/` unless configured)."""
        return Path(self.output_directory) if self.output_directory else get_settings().output_dir / "bam"

    def build_op(self) -> dg.OpDefinition:
        """The mapped op: one batch of chunk stats in, its JSON files out."""
        component = self

        @dg.op(name=self.name, out=dg.Out(ChunkStats))
        def process_bam_chunks(
            context: dg.OpExecutionContext, batch: ChunkBatch, file_info: BamFileInfo
        ) -> dg.Output:
            """Write the JSON file of every chunk in this batch."""
            # Mapped steps keep running after a sibling fails; writing now would re-create the staging
            # folder the failure hook just removed.
            if context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
                raise BamError(f"not writing batch {batch.batch_id}: another batch of this run failed")
            folder = staging_folder(component.root(), file_info, context.run_id)
            merged = write_batch(folder, batch, file_info)
            first, last = batch.chunks[0].chunk_id, batch.chunks[-1].chunk_id
            return dg.Output(
                merged,
                metadata={"chunks": f"{first}-{last}", "reads": merged.total_reads},
            )

        return process_bam_chunks

    def build_summary_op(self) -> dg.OpDefinition:
        """The fan-in op: checks the batches cover every chunk, writes the summary, publishes the folder."""
        component = self

        @dg.op(name=self.summary_op_name)
        def publish_bam_summary(
            context: dg.OpExecutionContext, file_info: BamFileInfo, batch_totals: list[ChunkStats]
        ) -> dg.Output:
            """Write summary.json and move the chunk files into place."""
            total = total_of(batch_totals)
            if total.total_reads != file_info.total_reads:
                raise BamError(
                    f"{file_info.bam_url}: chunk files hold {total.total_reads:,} reads, "
                    f"the stream read {file_info.total_reads:,}"
                )
            root = component.root()
            staging = staging_folder(root, file_info, context.run_id)
            target = publish(staging, final_folder(root, file_info), file_info, total)
            return dg.Output(
                str(target),
                metadata={
                    "output_folder": dg.MetadataValue.path(str(target)),
                    "total_reads": total.total_reads,
                    "mapped_reads": total.mapped_reads,
                    "unplaced_unmapped_reads": total.unplaced_reads,
                    "total_chunks": file_info.total_chunks,
                },
            )

        return publish_bam_summary

    def build_failure_hook(self) -> dg.HookDefinition:
        """A hook that deletes this run's half-written staging folder when any step fails."""
        component = self

        @dg.failure_hook(name=f"{self.name}_cleanup")
        def discard_partial_output(context: dg.HookContext) -> None:
            """Remove the failed run's staging folder; published output stays untouched."""
            for folder in discard_staging(component.root(), context.run_id):
                context.log.info(f"removed partial output {folder}")

        return discard_partial_output

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Ops are not top-level definitions: `build_streaming_bam_job` composes this component's ops."""
        return dg.Definitions()
