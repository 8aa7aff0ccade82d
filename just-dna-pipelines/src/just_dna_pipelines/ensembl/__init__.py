"""The Ensembl variant annotation system: reference source and cache, join engines, rsID fill, annotated VCF.

Plain functions over paths and frames (no Dagster); the assets in `defs/ensembl/` call them.
"""
