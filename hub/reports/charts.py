"""Charts drawn on the server as inline SVG: no JavaScript (the CSP allows none inline), readable
when printed (dark, light and mid-grey tones that differ in black and white too, a legend in words,
the numbers in the table beside each chart). This module computes the geometry; the macros in
`reports/_charts.html` draw it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# Colours chosen to stay apart in grey-scale print: dark blue, amber, mid grey.
PALETTE = ("#114e8a", "#d89a1e", "#8c8c96")
LABEL_WIDTH = 220
BAR_HEIGHT = 22
GAP = 10
WIDTH = 720
TICKS = 5


@dataclass
class Segment:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class Chart:
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_width: float
    plot_height: float
    labels: list[dict] = field(default_factory=list)  # {x, y, text, anchor}
    segments: list[Segment] = field(default_factory=list)
    ticks: list[dict] = field(default_factory=list)  # {x1, y1, x2, y2, label_x, label_y, text, anchor}
    legend: list[dict] = field(default_factory=list)  # {x, y, colour, text}


def nice_maximum(value: float) -> float:
    """A round number at or above `value` for the end of an axis (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _tick_text(value: float) -> str:
    return f"{value:g}"


def _legend(chart: Chart, series: list[str], y: float) -> None:
    x = chart.plot_left
    for index, name in enumerate(series):
        chart.legend.append({"x": x, "y": y, "colour": PALETTE[index % len(PALETTE)], "text": name})
        x += 28 + 8 * len(name)


def horizontal_bars(rows: list[tuple[str, list[float]]], series: list[str], *, stacked: bool,
                    unit: str) -> Chart | None:
    """One bar per row (a partner, a life domain), its series stacked end to end or side by side."""
    if not rows:
        return None
    per_row = 1 if stacked else len(series)
    row_height = BAR_HEIGHT * per_row + GAP
    top = 34 if len(series) > 1 else 8
    plot_height = row_height * len(rows)
    largest = max((sum(values) if stacked else max(values, default=0)) for _label, values in rows)
    maximum = nice_maximum(largest)
    plot_width = WIDTH - LABEL_WIDTH - 30
    chart = Chart(WIDTH, int(top + plot_height + 32), LABEL_WIDTH, top, plot_width, plot_height)
    if len(series) > 1:
        _legend(chart, series, 12)
    scale = plot_width / maximum
    for index, (label, values) in enumerate(rows):
        y = top + index * row_height + GAP / 2
        chart.labels.append({"x": LABEL_WIDTH - 8, "y": y + BAR_HEIGHT * per_row / 2 + 5,
                             "text": label if len(label) <= 30 else label[:29] + "…", "anchor": "end"})
        x = LABEL_WIDTH
        for position, (name, value) in enumerate(zip(series, values, strict=True)):
            width = max(value, 0) * scale
            bar_y = y if stacked else y + position * BAR_HEIGHT
            chart.segments.append(Segment(x, bar_y, width, BAR_HEIGHT - (0 if stacked else 2),
                                          PALETTE[position % len(PALETTE)], f"{label}: {name} {value:g} {unit}"))
            if stacked:
                x += width
    for step in range(TICKS + 1):
        value = maximum * step / TICKS
        x = LABEL_WIDTH + value * scale
        chart.ticks.append({"x1": x, "y1": top, "x2": x, "y2": top + plot_height, "label_x": x,
                            "label_y": top + plot_height + 18, "text": _tick_text(value), "anchor": "middle"})
    return chart


def columns(columns_: list[tuple[str, list[float]]], series: list[str], *, unit: str) -> Chart | None:
    """Stacked columns, one per month: the trend."""
    if not columns_:
        return None
    left, top, height = 60, 34 if len(series) > 1 else 10, 220
    plot_width = WIDTH - left - 20
    chart = Chart(WIDTH, top + height + 40, left, top, plot_width, height)
    if len(series) > 1:
        _legend(chart, series, 12)
    maximum = nice_maximum(max(sum(values) for _label, values in columns_))
    slot = plot_width / len(columns_)
    width = max(min(slot * 0.7, 48), 2)
    for index, (label, values) in enumerate(columns_):
        x = left + index * slot + (slot - width) / 2
        y = top + height
        for position, (name, value) in enumerate(zip(series, values, strict=True)):
            bar = max(value, 0) / maximum * height
            y -= bar
            chart.segments.append(Segment(x, y, width, bar, PALETTE[position % len(PALETTE)],
                                          f"{label}: {name} {value:g} {unit}"))
        if len(columns_) <= 13 or index % math.ceil(len(columns_) / 12) == 0:
            chart.labels.append({"x": x + width / 2, "y": top + height + 18, "text": label, "anchor": "middle"})
    for step in range(TICKS + 1):
        value = maximum * step / TICKS
        y = top + height - value / maximum * height
        chart.ticks.append({"x1": left, "y1": y, "x2": left + plot_width, "y2": y, "label_x": left - 6,
                            "label_y": y + 5, "text": _tick_text(value), "anchor": "end"})
    return chart
