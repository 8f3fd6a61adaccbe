"""`python -m floorcoach` runs the command line."""

import sys

from floorcoach.cli import main

sys.exit(main())
