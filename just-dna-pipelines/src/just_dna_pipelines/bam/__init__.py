"""bam layer."""
