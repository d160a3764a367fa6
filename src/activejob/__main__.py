"""``python -m activejob``: the same as the ``activejob`` command.

Example::

    python -m activejob worker --adapter sqlite:///jobs.sqlite3 --import myapp.jobs
"""

from __future__ import annotations

from activejob.cli import main

raise SystemExit(main())
