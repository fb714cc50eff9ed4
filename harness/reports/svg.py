"""A timeline plot as a self-contained SVG: the scenario's phases as bands (the fault shaded), the
measured window outlined, the threshold as a dashed line, and the evidence's plot series (or else its
samples) as lines, single samples as dots."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from harness.metrics.port import Series
from harness.verdict import Verdict
from harness.windows import Window

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 40, 28, 110
MAX_SERIES = 10
_PHASE_FILL = {"steady": "#e8f1fb", "fault": "#f8c9c4", "recovery": "#e3f4e1"}
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


LEGEND_CHARS = 50  # what one of the two legend columns holds at this font size


def _label(series: Series) -> str:
    # The service first: it is what a reader looks for, and the part kept when the label is cut.
    labels = sorted((k, v) for k, v in series.labels if k != "__name__")
    labels.sort(key=lambda kv: kv[0] != "service")
    text = ", ".join(f"{k}={v}" for k, v in labels) or dict(series.labels).get("__name__", "value")
    return text if len(text) <= LEGEND_CHARS else text[: LEGEND_CHARS - 1] + "\u2026"


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def _span(verdict: Verdict, series: Sequence[Series]) -> tuple[float, float]:
    times = [w.start for w in verdict.evidence.phases] + [w.end for w in verdict.evidence.phases]
    if verdict.evidence.window:
        times += [verdict.evidence.window.start, verdict.evidence.window.end]
    times += [s.t for item in series for s in item.samples]
    if not times:
        return 0.0, 1.0
    low, high = min(times), max(times)
    return (low, high) if high > low else (low - 1.0, high + 1.0)


def timeline_svg(verdict: Verdict) -> str:
    evidence = verdict.evidence
    series = [s for s in (evidence.plot or evidence.samples) if s.finite()][:MAX_SERIES]
    t0, t1 = _span(verdict, series)
    values = [p.value for s in series for p in s.finite()]
    if evidence.limit is not None:
        values.append(evidence.limit)
    v0, v1 = (min(0.0, *values), max(values)) if values else (0.0, 1.0)  # from zero: honest proportions
    v1 = v1 + 0.05 * (v1 - v0) if v1 > v0 else v0 + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return TOP + (1 - (v - v0) / (v1 - v0)) * plot_h

    title = f"{verdict.id} [{verdict.scenario}/{verdict.window}]: {verdict.status}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    parts += [_phase(w, x, plot_h) for w in verdict.evidence.phases]
    if verdict.evidence.window:
        w = verdict.evidence.window
        parts.append(
            f'<rect class="window" x="{x(w.start):.1f}" y="{TOP}" width="{max(x(w.end) - x(w.start), 1):.1f}" '
            f'height="{plot_h}" fill="none" stroke="#333" stroke-dasharray="4 3"/>'
        )
    parts += _axes(t0, t1, v0, v1, x, y)
    for index, item in enumerate(series):
        colour = _PALETTE[index % len(_PALETTE)]
        points = item.finite()
        if len(points) == 1:
            parts.append(
                f'<circle cx="{x(points[0].t):.1f}" cy="{y(points[0].value):.1f}" r="3" fill="{colour}"/>'
            )
        else:
            path = " ".join(f"{x(p.t):.1f},{y(p.value):.1f}" for p in points)
            parts.append(
                f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
        legend_y = HEIGHT - BOTTOM + 52 + (index // 2) * 13
        legend_x = LEFT + (index % 2) * (plot_w // 2)
        parts.append(
            f'<rect x="{legend_x}" y="{legend_y - 8}" width="10" height="3" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{legend_y - 4}">{escape(_label(item))}</text>'
        )
    if evidence.limit is not None:
        level = y(evidence.limit)
        parts.append(
            f'<line class="limit" x1="{LEFT}" y1="{level:.1f}" x2="{WIDTH - RIGHT}" y2="{level:.1f}" '
            f'stroke="#c00" stroke-dasharray="6 3"/>'
            f'<text x="{WIDTH - RIGHT - 2}" y="{level - 3:.1f}" text-anchor="end" fill="#c00">'
            f"{escape(verdict.threshold[:60])}</text>"
        )
    if not series:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" fill="#888">'
            "no samples</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


Scale = Callable[[float], float]


def _phase(window: Window, x: Scale, plot_h: float) -> str:
    fill = _PHASE_FILL.get(window.name, "#eeeeee")
    left, right = x(window.start), x(window.end)
    return (
        f'<rect class="phase-{escape(window.name)}" x="{left:.1f}" y="{TOP}" width="{max(right - left, 0):.1f}" '
        f'height="{plot_h}" fill="{fill}"/>'
        f'<text x="{(left + right) / 2:.1f}" y="{TOP + 12}" text-anchor="middle" fill="#555">'
        f"{escape(window.name)}</text>"
    )


def _axes(t0: float, t1: float, v0: float, v1: float, x: Scale, y: Scale) -> list[str]:
    bottom = HEIGHT - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#333"/>',
    ]
    for i in range(5):
        t = t0 + (t1 - t0) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(f'<text x="{x(t):.1f}" y="{bottom + 14}" text-anchor="{anchor}">{_clock(t)}</text>')
        v = v0 + (v1 - v0) * i / 4
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{_tick(v)}</text>')
    parts.append(
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{bottom + 28}" text-anchor="middle" '
        f'fill="#555">time (UTC)</text>'
    )
    return parts


def _tick(v: float) -> str:
    if v == 0 or 0.01 <= abs(v) < 10000:
        return f"{v:.3g}"
    return f"{v:.1e}" if math.isfinite(v) else str(v)
