"""``python -m coterminus``: the ``coterminus`` command (see :mod:`coterminus.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
