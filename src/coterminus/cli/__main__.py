"""``python -m coterminus.cli``: the ``coterminus`` command (see :mod:`coterminus.cli`)."""

import sys

from coterminus.cli import main

if __name__ == "__main__":
    sys.exit(main())
