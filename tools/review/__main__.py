"""``python -m tools.review``: see :mod:`tools.review.cli`."""

import sys

from tools.review.cli import main

sys.exit(main())
