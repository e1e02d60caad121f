"""``python -m cudaenv``."""

from ._cli import main

raise SystemExit(main())
