"""Components declared in `defs.yaml` files under this folder (one folder each), loaded by `dg`.

For example `defs/components/bam_inbox/defs.yaml`, a drop folder whose runs use their own chunk size and
output folder (the sensor brings its own job, `bam_inbox_sensor_job`; without the two blocks it launches
`streaming_bam_job`):

    type: just_dna_pipelines.defs.bam.StreamingBamFileSensor
    attributes:
      bam_directory: /data/bams
      file_pattern: "*.bam"
      name: bam_inbox_sensor
      streamer: {chunk_size: 5000}
      processor: {output_directory: /data/bam_stats}
"""
