"""A progress-against-target chart drawn as inline SVG on the server (no chart library)."""

from __future__ import annotations

from datetime import date
from html import escape


def progress_chart(
    targets: list[tuple[date, float]],
    achieved: list[tuple[date, float | None]],
    width: int = 640,
) -> str:
    """The target curve (steps, dashed) and the achieved share at each date (line, dots); a
    date with no share (no office then) is marked 无数据, not drawn as 0 %."""
    points = [d for d, _ in targets] + [d for d, _ in achieved]
    if not points:
        return ""
    height, pad = 220, 36
    start, end = min(points), max(points)
    span = max((end - start).days, 1)

    def x(d: date) -> float:
        return pad + (width - 2 * pad) * (d - start).days / span

    def y(share: float) -> float:
        return height - pad - (height - 2 * pad) * share

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" role="img"'
        ' aria-label="规范化进度与目标">',
        f'<line x1="{pad}" y1="{y(0)}" x2="{width - pad}" y2="{y(0)}" stroke="#9e9e9e"/>',
    ]
    for share in (0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{pad}" y1="{y(share):.1f}" x2="{width - pad}" y2="{y(share):.1f}"'
            ' stroke="#eeeeee"/>'
            f'<text x="4" y="{y(share) + 4:.1f}">{int(share * 100)}%</text>'
        )
    if targets:
        steps, previous = [], 0.0
        for d, share in targets:
            steps += [f"{x(d):.1f},{y(previous):.1f}", f"{x(d):.1f},{y(share):.1f}"]
            previous = share
        steps.append(f"{x(end):.1f},{y(previous):.1f}")
        parts.append(
            f'<polyline points="{x(start):.1f},{y(0):.1f} {" ".join(steps)}" fill="none"'
            ' stroke="#c62828" stroke-dasharray="5 4" stroke-width="2"/>'
        )
        for d, _ in targets:
            parts.append(
                f'<text x="{x(d) - 30:.1f}" y="{height - 8}">{escape(d.isoformat())}</text>'
            )
    # the line runs through consecutive dates with data; a gap is a gap
    runs: list[list[tuple[date, float]]] = [[]]
    for d, value in achieved:
        if value is None:
            runs.append([])
            parts.append(
                f'<text x="{x(d) - 12:.1f}" y="{y(0) - 6:.1f}" fill="#9e9e9e">无数据'
                f"<title>{escape(d.isoformat())}:无数据(当时尚无司法所)</title></text>"
            )
        else:
            runs[-1].append((d, value))
    for run in runs:
        if len(run) > 1:
            line = " ".join(f"{x(d):.1f},{y(s):.1f}" for d, s in run)
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="#1565c0" stroke-width="2"/>'
            )
        for d, known in run:
            parts.append(
                f'<circle cx="{x(d):.1f}" cy="{y(known):.1f}" r="3" fill="#1565c0">'
                f"<title>{escape(d.isoformat())}:{known * 100:.1f}%</title></circle>"
            )
    parts.append(
        f'<text x="{width - 200}" y="14" fill="#c62828">- - 目标</text>'
        f'<text x="{width - 120}" y="14" fill="#1565c0">— 实际</text></svg>'
    )
    return "".join(parts)
