"""Components declared in `defs.yaml` files under this folder (one folder each), loaded by `dg`.

For example `defs/components/bam_inbox/defs.yaml`:

    type: just_dna_pipelines.defs.bam.StreamingBamFileSensor
    attributes:
      bam_directory: /data/bams
      file_pattern: "*.bam"
      name: bam_inbox_sensor
"""
