"""`python -m just_dna_pipelines.cli` runs the `pipelines` command."""

import sys

from just_dna_pipelines.cli import main

sys.exit(main())
