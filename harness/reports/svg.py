"""A timeline plot as a self-contained SVG: the scenario's phases as bands (the fault shaded), the
measured window outlined, the threshold as a dashed line, and the evidence's plot series (or else its
samples) as lines, single samples as dots.

A plot of a state gauge (``Evidence.states`` names its values) is drawn as steps, with the states' names
on the value axis instead of numbers.

Drawn 720 px wide with 13 px text: Allure shows an attachment at its own width, shrunk to its pane (about
600 px wide in a 1440 px window, 850 in a 1920 px one), so the text stays above 10 px; the legend's labels
are cut to what one of its two columns holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from xml.sax.saxutils import escape

from harness.metrics.port import Sample, Series
from harness.verdict import Verdict
from harness.windows import Window

WIDTH, HEIGHT = 720, 380
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 30, 126
MAX_SERIES = 10
LEGEND_CHARS = 42  # what one of the two legend columns holds at this font size
STATE_SPREAD = 2.0  # px between series in the same state, so that every one of them stays visible
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


@dataclass(frozen=True, slots=True)
class _Frame:
    """The plotted time and value ranges, mapped onto the plot area's pixels."""

    t0: float
    t1: float
    v0: float
    v1: float

    def x(self, t: float) -> float:
        return LEFT + (t - self.t0) / (self.t1 - self.t0) * (WIDTH - LEFT - RIGHT)

    def y(self, v: float) -> float:
        return TOP + (1 - (v - self.v0) / (self.v1 - self.v0)) * (HEIGHT - TOP - BOTTOM)


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


def _frame(verdict: Verdict, series: Sequence[Series], states: Sequence[str]) -> _Frame:
    t0, t1 = _span(verdict, series)
    values = [p.value for s in series for p in s.finite()]
    if states:  # every state has its row, half a row of room above and below
        return _Frame(t0, t1, min([-0.5, *values]), max([len(states) - 0.5, *values]))
    if verdict.evidence.limit is not None:
        values.append(verdict.evidence.limit)
    v0, v1 = (min(0.0, *values), max(values)) if values else (0.0, 1.0)  # from zero: honest proportions
    return _Frame(t0, t1, v0, v1 + 0.05 * (v1 - v0) if v1 > v0 else v0 + 1.0)


def timeline_svg(verdict: Verdict) -> str:
    evidence = verdict.evidence
    series = [s for s in (evidence.plot or evidence.samples) if s.finite()][:MAX_SERIES]
    states = evidence.states if evidence.plot else ()  # the names are the plot's, not the raw samples'
    frame = _frame(verdict, series, states)
    title = f"{verdict.id} [{verdict.scenario}/{verdict.window}]: {verdict.status}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="19" font-size="14" font-weight="bold">{escape(title)}</text>',
        *(_phase(w, frame) for w in evidence.phases),
    ]
    if evidence.window:
        w = evidence.window
        parts.append(
            f'<rect class="window" x="{frame.x(w.start):.1f}" y="{TOP}" '
            f'width="{max(frame.x(w.end) - frame.x(w.start), 1):.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="#333" stroke-dasharray="4 3"/>'
        )
    parts += _axes(frame, _value_ticks(frame, states))
    for index, item in enumerate(series):
        shift = (index - (len(series) - 1) / 2) * STATE_SPREAD if states else 0.0
        parts.append(_line(item.finite(), frame, _PALETTE[index % len(_PALETTE)], bool(states), shift))
        parts.append(_legend(index, item))
    if evidence.limit is not None:
        level = frame.y(evidence.limit)
        parts.append(
            f'<line class="limit" x1="{LEFT}" y1="{level:.1f}" x2="{WIDTH - RIGHT}" y2="{level:.1f}" '
            f'stroke="#c00" stroke-dasharray="6 3"/>'
            f'<text x="{WIDTH - RIGHT - 2}" y="{level - 3:.1f}" text-anchor="end" fill="#c00">'
            f"{escape(verdict.threshold[:60])}</text>"
        )
    if not series:
        parts.append(
            f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{(TOP + HEIGHT - BOTTOM) / 2}" '
            'text-anchor="middle" fill="#888">no samples</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _line(points: Sequence[Sample], frame: _Frame, colour: str, steps: bool, shift: float) -> str:
    if len(points) == 1:
        return (
            f'<circle cx="{frame.x(points[0].t):.1f}" cy="{frame.y(points[0].value) + shift:.1f}" r="3" '
            f'fill="{colour}"/>'
        )
    # A state holds from one sample until the next: a slope between two states would show
    # in-between states that do not exist.
    xy = [(points[0].t, points[0].value)]
    for before, after in pairwise(points):
        xy += [(after.t, before.value), (after.t, after.value)] if steps else [(after.t, after.value)]
    path = " ".join(f"{frame.x(t):.1f},{frame.y(v) + shift:.1f}" for t, v in xy)
    kind = "series state" if steps else "series"
    return f'<polyline class="{kind}" points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>'


def _legend(index: int, series: Series) -> str:
    colour = _PALETTE[index % len(_PALETTE)]
    legend_y = HEIGHT - BOTTOM + 58 + (index // 2) * 16
    legend_x = LEFT + (index % 2) * ((WIDTH - LEFT - RIGHT) // 2)
    return (
        f'<rect x="{legend_x}" y="{legend_y - 10}" width="12" height="4" fill="{colour}"/>'
        f'<text x="{legend_x + 16}" y="{legend_y - 4}">{escape(_label(series))}</text>'
    )


def _phase(window: Window, frame: _Frame) -> str:
    fill = _PHASE_FILL.get(window.name, "#eeeeee")
    left, right = frame.x(window.start), frame.x(window.end)
    return (
        f'<rect class="phase-{escape(window.name)}" x="{left:.1f}" y="{TOP}" width="{max(right - left, 0):.1f}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="{fill}"/>'
        f'<text x="{(left + right) / 2:.1f}" y="{TOP + 14}" text-anchor="middle" fill="#555">'
        f"{escape(window.name)}</text>"
    )


def _value_ticks(frame: _Frame, states: Sequence[str]) -> list[tuple[float, str]]:
    if states:
        return list(enumerate(states))
    return [(v, _tick(v)) for v in (frame.v0 + (frame.v1 - frame.v0) * i / 4 for i in range(5))]


def _axes(frame: _Frame, ticks: Sequence[tuple[float, str]]) -> list[str]:
    bottom = HEIGHT - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#333"/>',
    ]
    for i in range(5):
        t = frame.t0 + (frame.t1 - frame.t0) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text x="{frame.x(t):.1f}" y="{bottom + 16}" text-anchor="{anchor}">{_clock(t)}</text>'
        )
    for value, text in ticks:
        level = frame.y(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{level:.1f}" x2="{WIDTH - RIGHT}" y2="{level:.1f}" stroke="#000" '
            f'stroke-opacity="0.08"/>'
            f'<text class="value-tick" x="{LEFT - 4}" y="{level + 4:.1f}" text-anchor="end">'
            f"{escape(text)}</text>"
        )
    parts.append(
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{bottom + 33}" text-anchor="middle" '
        f'fill="#555">time (UTC)</text>'
    )
    return parts


def _tick(v: float) -> str:
    if v == 0 or 0.01 <= abs(v) < 10000:
        return f"{v:.3g}"
    return f"{v:.1e}" if math.isfinite(v) else str(v)
