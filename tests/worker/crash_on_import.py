"""A job module whose import kills the process: a worker that can never start."""

from __future__ import annotations

import os

os._exit(3)
