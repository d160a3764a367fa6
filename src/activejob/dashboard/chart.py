"""The overview's throughput chart: a bar per minute, drawn server-side as SVG.

No script and no build step: the markup is built here from numbers only (every
value is an int or a float formatted by us), so nothing a job stored reaches it.

Example::

    svg = throughput_svg([3, 0, 5], [1, 0, 0])   # '<svg ...>...</svg>'
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

__all__ = ["throughput_svg"]

WIDTH, HEIGHT = 600, 120


def throughput_svg(finished: Sequence[int], failed: Sequence[int] | None) -> Markup:
    """Bars of jobs finished per minute (oldest first), their failed part in red."""
    peak = max(finished, default=0)
    count = max(len(finished), 1)
    slot = WIDTH / count
    bar = max(slot - 1.0, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="jobs finished per minute, last {len(finished)} minutes, '
        f'at most {peak} a minute">'
    ]
    for minute, total in enumerate(finished):
        if not total:
            continue
        x = minute * slot
        height = HEIGHT * total / peak
        parts.append(
            f'<rect class="done" x="{x:.1f}" y="{HEIGHT - height:.1f}" '
            f'width="{bar:.1f}" height="{height:.1f}"><title>{total} finished</title></rect>'
        )
        bad = failed[minute] if failed is not None else 0
        if bad:
            red = HEIGHT * bad / peak
            parts.append(
                f'<rect class="failed" x="{x:.1f}" y="{HEIGHT - red:.1f}" '
                f'width="{bar:.1f}" height="{red:.1f}"><title>{bad} failed</title></rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # numbers only, formatted above: nothing to escape
