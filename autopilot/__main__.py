"""``python -m autopilot``."""

from __future__ import annotations

import sys

from autopilot.cli import main

sys.exit(main())
