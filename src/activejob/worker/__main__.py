"""``python -m activejob.worker``: the child process a supervisor starts."""

from __future__ import annotations

from activejob.worker.child import main

raise SystemExit(main())
