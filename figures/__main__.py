"""``python -m figures [--out DIR] [--budget quick|full] [--only F1,F3]``."""

import sys

from figures.cli import main

sys.exit(main())
