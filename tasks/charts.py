"""Small inline SVG charts for the HTML desk report: no scripts, no fonts or files to fetch.

Every text is escaped; every number is drawn from the data passed in (nothing sampled or smoothed).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Callable, Sequence

import numpy as np

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2")
WIDTH, ROW_HEIGHT = 640, 26


def nice_step(span: float, parts: int) -> float:
    """The step of 1, 2, 2.5 or 5 × 10^k closest above span / parts (axis ticks and bin widths people read)."""
    raw = max(span, 1e-12) / parts
    power = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9)))


def nice_edges(top: float, parts: int = 20) -> np.ndarray:
    """Bin edges 0, step, 2·step, … up to at least ``top``."""
    step = nice_step(top, parts)
    return np.arange(0.0, top + step * 0.999, step) if top > 0 else np.array([0.0, step])


TITLE_HEIGHT = 22  # the chart's title, drawn above it: a chart saved or copied alone still says what it shows


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    full = height + TITLE_HEIGHT
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{full}" viewBox="0 0 {width} {full}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<style>text{{font:12px sans-serif;fill:#222}}</style>'
            f'<text x="4" y="15" style="font-weight:bold">{escape(title)}</text>'
            f'<g transform="translate(0,{TITLE_HEIGHT})">{"".join(body)}</g></svg>')


def bars(labels: Sequence[str], values: Sequence[float], title: str, fmt: Callable[[float], str],
         colors: Sequence[str] | None = None) -> str:
    """Horizontal bars, one per label, drawn from a zero line (negative values go left)."""
    values = [float(v) for v in values]
    label_w, value_w = 250, 110
    plot = WIDTH - label_w - value_w
    lo, hi = min(0.0, *values) if values else 0.0, max(0.0, *values) if values else 0.0
    span = (hi - lo) or 1.0
    zero = label_w + plot * (-lo / span)
    body = [f'<line x1="{zero:.1f}" y1="4" x2="{zero:.1f}" y2="{ROW_HEIGHT * len(values) + 4}" stroke="#999"/>']
    for i, (label, v) in enumerate(zip(labels, values)):
        y = 6 + i * ROW_HEIGHT
        x0, x1 = sorted((zero, label_w + plot * ((v - lo) / span)))
        color = (colors or PALETTE)[i % len(colors or PALETTE)]
        body += [f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>',
                 f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 0.5):.1f}" height="{ROW_HEIGHT - 8}" fill="{color}"/>',
                 f'<text x="{label_w + plot + 6}" y="{y + 14}">{escape(fmt(v))}</text>']
    return _svg(WIDTH, ROW_HEIGHT * max(len(values), 1) + 12, title, body)


def histogram(series: dict[str, np.ndarray], edges: np.ndarray, title: str, fmt: Callable[[float], str]) -> str:
    """Counts per bin of each series side by side; values beyond the last edge fall in the last bin."""
    height, left, bottom, top = 260, 44, 40, 24
    plot_w, plot_h = WIDTH - left - 12, height - bottom - top
    n_bins = len(edges) - 1
    counts = {name: np.histogram(np.clip(np.asarray(v, dtype=float), edges[0], edges[-1]), bins=edges)[0]
              for name, v in series.items()}
    peak = max((int(c.max()) for c in counts.values() if c.size), default=0) or 1
    slot = plot_w / n_bins
    bar_w = slot * 0.8 / max(len(counts), 1)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>']
    for tick in np.arange(0, peak + 1, max(1.0, nice_step(peak, 4))):
        y = top + plot_h * (1 - tick / peak)
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{int(tick):,}</text>'
                    f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
    for k, (name, c) in enumerate(counts.items()):
        color = PALETTE[k % len(PALETTE)]
        for b, n in enumerate(c):
            h = plot_h * n / peak
            x = left + b * slot + slot * 0.1 + k * bar_w
            body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color}">'
                        f'<title>{escape(name)} {escape(fmt(edges[b]))}–{escape(fmt(edges[b + 1]))}: {n:,}</title></rect>')
        body.append(f'<rect x="{left + k * 170}" y="4" width="12" height="12" fill="{color}"/>'
                    f'<text x="{left + k * 170 + 16}" y="14">{escape(name)}</text>')
    step = max(1, n_bins // 8)
    for b in sorted(set(range(0, n_bins + 1, step)) | {n_bins}):
        label = fmt(edges[b]) + ("+" if b == n_bins else "")
        body.append(f'<text x="{left + b * slot:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    return _svg(WIDTH, height, title, body)


def lines(series: dict[str, tuple[Sequence[dt.date], Sequence[float]]], title: str, fmt: Callable[[float], str],
          y_label: str = "") -> str:
    """One polyline per series over dates, on a shared value axis with a zero line when it is in range;
    a legend names each series, ``y_label`` the value axis, and the date axis says it is dates."""
    height, left, bottom, top = 260, 84, 28, 24
    plot_w, plot_h = WIDTH - left - 12, height - bottom - top
    xs = [d.toordinal() for dates, _ in series.values() for d in dates]
    ys = [float(v) for _, values in series.values() for v in values if v is not None and np.isfinite(v)]
    if not xs or not ys:
        return _svg(WIDTH, height, title, [f'<text x="{left}" y="{top + 20}">no data</text>'])
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    step = nice_step((max(ys) - min(ys)) or abs(max(ys)) or 1.0, 4)
    lo, hi = np.floor(min(min(ys), 0.0) / step) * step, np.ceil(max(max(ys), 0.0) / step) * step
    hi = hi if hi > lo else lo + step

    def at(d: dt.date, v: float) -> str:
        return f"{left + plot_w * (d.toordinal() - x0) / (x1 - x0):.1f},{top + plot_h * (1 - (v - lo) / (hi - lo)):.1f}"

    body = []
    for tick in np.arange(lo, hi + step / 2, step):
        y = top + plot_h * (1 - (tick - lo) / (hi - lo))
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{"#999" if abs(tick) < step / 2 else "#eee"}"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(float(tick)))}</text>')
    first, last = dt.date.fromordinal(x0), dt.date.fromordinal(x1)
    body.append(f'<text x="{left}" y="{height - 8}">{first.isoformat()}</text>'
                f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">date</text>'
                f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{last.isoformat()}</text>')
    if y_label:
        body.append(f'<text transform="translate(12,{top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
                    f'{escape(y_label)}</text>')
    for k, (name, (dates, values)) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        points = " ".join(at(d, float(v)) for d, v in zip(dates, values) if v is not None and np.isfinite(v))
        body.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.5"/>'
                    f'<rect x="{left + k * 150}" y="4" width="12" height="12" fill="{color}"/>'
                    f'<text x="{left + k * 150 + 16}" y="14">{escape(name)}</text>')
    return _svg(WIDTH, height, title, body)
