"""``python -m faultproxy``: the same as the ``faultproxy`` console script."""

import sys

from faultproxy.cli import main

sys.exit(main())
