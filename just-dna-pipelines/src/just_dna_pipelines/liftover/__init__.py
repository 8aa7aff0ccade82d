"""Lifting the modules' GRCh38 sites to GRCh37 with UCSC's chain, for inputs on GRCh37."""
