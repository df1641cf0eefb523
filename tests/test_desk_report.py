"""The HTML desk report: its charts draw the data they are given, and the file is self-contained."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tasks.charts import bars, histogram, nice_edges, nice_step


def titles(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]


def test_histogram_counts_every_value_once_and_puts_overflow_in_the_last_bin():
    svg = histogram({"a": np.array([0.01, 0.03, 0.03, 2.0])}, np.array([0.0, 0.02, 0.04, 0.06]), "t", lambda x: f"{x:.2f}")
    # 0.01 → [0, 0.02); 0.03 twice → [0.02, 0.04); 2.0 is beyond 0.06 → clipped into the last bin.
    assert titles(svg)[1:] == ["a 0.00–0.02: 1", "a 0.02–0.04: 2", "a 0.04–0.06: 1"]


def test_bars_draw_negative_values_left_of_zero():
    svg = bars(["gain", "loss"], [300.0, -100.0], "t", str)
    zero = float(re.search(r'<line x1="([\d.]+)"', svg)[1])
    rects = [(float(x), float(w)) for x, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)]
    (gx, gw), (lx, lw) = rects
    assert gx == pytest.approx(zero) and lx + lw == pytest.approx(zero, abs=0.1)
    assert gw == pytest.approx(3 * lw, rel=0.01)  # 300 is three times as long as 100


@pytest.mark.parametrize("span, parts, step", [(0.45, 20, 0.025), (1.0, 20, 0.05), (486, 4, 200), (7, 4, 2)])
def test_nice_steps(span, parts, step):
    # 0.45/20 = 0.0225 → 0.025; 1/20 = 0.05; 486/4 = 121.5 → 200; 7/4 = 1.75 → 2.
    assert nice_step(span, parts) == pytest.approx(step)


def test_nice_edges_reach_the_top():
    edges = nice_edges(0.33)
    # 0.33 / 20 = 0.0165 → step 0.02; edges 0, 0.02, …, 0.34 (the first one at or past 0.33).
    assert edges[0] == 0 and edges[-1] == pytest.approx(0.34) and np.allclose(np.diff(edges), 0.02)
