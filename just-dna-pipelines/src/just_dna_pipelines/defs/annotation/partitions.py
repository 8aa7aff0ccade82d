"""The per-sample partitions: one dynamic partition per `user/sample`."""

import dagster as dg

USER_VCF_FILES = "user_vcf_files"

user_vcf_files_partitions = dg.DynamicPartitionsDefinition(name=USER_VCF_FILES)
