"""`python -m curlx`: the same command line as the `curlx` script."""

from ._cli import main

raise SystemExit(main())
