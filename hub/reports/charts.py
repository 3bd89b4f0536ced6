"""The report charts, drawn on the server as SVG by pygal and put inline in the page.

No JavaScript and nothing inline that the Content-Security-Policy (hub/http.py: `style-src 'self'`,
`script-src 'self'`) would block: pygal's own `<style>` and `<script>` are taken out of each chart,
and the same style is served once as a static file, `hub/static/charts.css`, generated from pygal's
stylesheets for the style below by `python -m hub.reports.charts > hub/static/charts.css` (a test
fails when the file and pygal disagree, e.g. after an upgrade). Without pygal's script there are no
hover tooltips: every number is printed on the chart and stands in the table beside it.

Readable on paper: four tones that stay apart in grey-scale (dark, mid, light and near-white with an
outline), a legend in words, lines told apart by their dashes, the numbers printed on the bars, and a
print stylesheet (in charts.css) that draws everything in black, grey and white at the page's width.

Accessible: each chart is `role="img"` named by its `<title>` and described by its `<desc>`; the
table with the same numbers stays beside it.
"""
from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Sequence

import pygal
from markupsafe import Markup
from pygal.etree import etree
from pygal.style import Style

from hub.labels import figure

# pygal appends a finder for its map plug-ins (pygal.maps.*, unused here) to sys.meta_path; it has
# only the legacy find_module, so every failed import anywhere in the process afterwards raises an
# ImportWarning on Python 3.11 (and Python 3.12 ignores such finders altogether). Take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

# Tones that differ in lightness as well as hue (grey values about 40, 115, 185 and 235).
COLOURS = ("#0b2e59", "#3f7fbf", "#f0b429", "#e8e8ee")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
STYLE = Style(
    background="transparent", plot_background="transparent", foreground="#1b1b1f",
    foreground_strong="#1b1b1f", foreground_subtle="#8a8a94", opacity="1", opacity_hover=".85",
    stroke_opacity="1", stroke_opacity_hover="1", stroke_width="2", stroke_width_hover="3",
    transition="0s", colors=COLOURS, font_family=FONT, label_font_size=13, major_label_font_size=13,
    legend_font_size=13, value_font_size=12, title_font_size=15, no_data_font_size=16,
    guide_stroke_dasharray="2,3", major_guide_stroke_dasharray="2,3",
)
WIDTH = 760
MAX_ROWS = 20  # bars per chart: with the legend, 20 partners of two bars each fit one A4 page

# Added after pygal's style: what pygal would write per chart or leaves to its script, and print.
EXTRA_CSS = """
.pygal-chart .rect, .pygal-chart .funnel { stroke: #1b1b1f; stroke-width: .6; }
.pygal-chart :is(.horizontalbar-graph, .horizontalstackedbar-graph, .funnel-graph) .text-overlay
  :is(.color-0, .color-1) text.value { fill: #fff; }
.pygal-chart .serie-0 .line { stroke-width: 3; }
.pygal-chart .serie-1 .line { stroke-dasharray: 8 4; }
.pygal-chart .serie-2 .line { stroke-dasharray: 2 3; stroke-width: 2.5; }
.pygal-chart .axis text.title, .pygal-chart .axis .title { font-size: 12px; }
figure.report-chart { margin: 1rem 0; max-width: 100%; }
figure.report-chart svg { width: 100%; height: auto; display: block; }
@media print {
  .report-nav, .csv-link { display: none !important; }
  .table-wrap, table { break-inside: avoid; }
  figure.report-chart { break-inside: avoid; max-width: 180mm; }
  figure.report-chart svg { max-height: 240mm; }
  .pygal-chart .color-0 .reactive, .pygal-chart .legend .color-0 { fill: #000 !important; }
  .pygal-chart .color-1 .reactive, .pygal-chart .legend .color-1 { fill: #777 !important; }
  .pygal-chart .color-2 .reactive, .pygal-chart .legend .color-2 { fill: #c8c8c8 !important; }
  .pygal-chart .color-3 .reactive, .pygal-chart .legend .color-3 { fill: #fff !important; }
  .pygal-chart .line.reactive, .pygal-chart .reactive.line { fill: none !important; stroke: #000 !important; }
  .pygal-chart .dots .reactive { fill: #000 !important; }
  .pygal-chart .rect, .pygal-chart .funnel, .pygal-chart .legend rect { stroke: #000; stroke-width: .8; }
  .pygal-chart .text-overlay .color-2 text.value, .pygal-chart .text-overlay .color-3 text.value { fill: #000; }
  .pygal-chart text { fill: #000; }
}
"""


def _days(value: float | None) -> str:
    return "" if value is None else figure(value)


def _whole(value: float | None) -> str:
    return "" if value is None else figure(value, 0)


def _axis(maximum: float, most: int = 8) -> tuple[float, int]:
    """A round step (1, 2 or 5 times a power of ten) and how many of them reach `maximum`, in at most
    `most` steps."""
    if maximum <= 0:
        return 1, 1
    rough = maximum / most
    power = 10 ** math.floor(math.log10(rough))
    step = next(multiple * power for multiple in (1, 2, 5, 10) if multiple * power >= rough)
    return step, math.ceil(round(maximum / step, 9))


def _config(height: int, **extra) -> dict:
    return {"style": STYLE, "width": WIDTH, "height": height, "js": [], "css": [], "disable_xml_declaration": True,
            "explicit_size": False, "legend_at_bottom": True, "legend_at_bottom_columns": 3,
            "truncate_legend": -1, "truncate_label": 32, "margin": 12, "print_values": True, "print_zeroes": False,
            "classes": ["pygal-chart"], **extra}


def _finish(chart, chart_id: str, title: str, description: str) -> Markup:
    """The chart as inline SVG: without pygal's style and script, named and described for assistive
    technology, without ids that would repeat when a page has several charts."""
    root = chart.render_tree()
    root.set("id", chart_id)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    for child in list(root):
        if not isinstance(child.tag, str):  # pygal's comments
            root.remove(child)
    for element in list(root.iter()):
        for child in list(element):
            if child.tag in ("style", "script") or "tooltip-overlay" in child.get("class", ""):
                element.remove(child)
        if element.get("id", "").startswith("activate-serie"):
            del element.attrib["id"]
    for child in list(root):
        if child.tag == "defs" and not len(child):
            root.remove(child)
    heading = root.find("title")
    heading.text = title
    heading.set("id", f"{chart_id}-title")
    desc = etree.Element("desc", id=f"{chart_id}-desc")
    desc.text = description
    root.insert(list(root).index(heading) + 1, desc)
    return Markup(etree.tostring(root, encoding="unicode"))  # noqa: S704  (serialised by etree: escaped)


def horizontal_bars(chart_id: str, title: str, description: str, rows: Sequence[tuple[str, Sequence[float]]],
                    series: Sequence[str], *, stacked: bool) -> Markup | None:
    """One bar per row (a partner, a life domain), its series side by side or stacked end to end.
    The first row on top; at most MAX_ROWS rows (the caller puts the ones that matter first). None
    when there is nothing to draw."""
    rows = list(rows)[:MAX_ROWS]
    if not rows or not any(value for _label, values in rows for value in values):
        return None
    per_row = 1 if stacked else len(series)
    kind = pygal.HorizontalStackedBar if stacked else pygal.HorizontalBar
    # Side by side, pygal sets the legend lower than it reserved room for: a margin keeps it in sight.
    chart = kind(**_config(70 + len(rows) * (18 * per_row + 12) + 30 * ((len(series) + 2) // 3),
                           formatter=_days, show_legend=len(series) > 1, spacing=6,
                           **({} if stacked else {"margin_bottom": 24})))
    chart.x_labels = [label for label, _values in reversed(rows)]  # pygal draws the first label at the bottom
    for index, name in enumerate(series):
        chart.add(name, [values[index] for _label, values in reversed(rows)])
    return _finish(chart, chart_id, title, description)


def trend(chart_id: str, title: str, description: str, months: Sequence[str],
          series: Sequence[tuple[str, Sequence[float]]], secondary: tuple[str, Sequence[int]] | None = None,
          *, formatter: Callable = _whole) -> Markup | None:
    """Lines over the months, with one optional line on a second axis (a count beside days)."""
    if not months:
        return None
    few = len(months) <= 13
    axes = {}
    if secondary is not None:
        # pygal puts the second axis's labels beside the first's: both get round steps, the same number
        # of them, so that a count reads 0, 1, 2 ... and not 0.1666666667.
        step, steps = _axis(max((value for _name, values in series for value in values if value), default=0))
        per_step = max(1, math.ceil(max(secondary[1], default=0) / steps))
        axes = {"y_labels": [step * index for index in range(steps + 1)], "secondary_range": (0, per_step * steps)}
    chart = pygal.Line(**_config(360, formatter=formatter, print_values=few, show_legend=True, dots_size=3,
                                 x_label_rotation=0 if len(months) <= 6 else 45, show_minor_x_labels=few,
                                 x_labels_major_every=None if few else max(1, len(months) // 12),
                                 include_x_axis=True, min_scale=3, max_scale=8, **axes))
    chart.x_labels = list(months)
    for name, values in series:
        chart.add(name, list(values))
    if secondary is not None:
        chart.add(secondary[0], list(secondary[1]), secondary=True, formatter=_whole)
    return _finish(chart, chart_id, title, description)


def funnel(chart_id: str, title: str, description: str, stages: Sequence[tuple[str, int]]) -> Markup | None:
    """A funnel: one slice per stage, as wide as its number, in the order given."""
    if not any(count for _name, count in stages):
        return None
    chart = pygal.Funnel(**_config(340, formatter=_whole, show_legend=False, show_y_labels=False,
                                   show_y_guides=False))
    for name, count in stages:
        chart.add(name, [count])
    return _finish(chart, chart_id, title, description)


def stylesheet() -> str:
    """The stylesheet of every chart: pygal's own for STYLE, scoped to `.pygal-chart`, then EXTRA_CSS."""
    sample = pygal.Bar(**_config(100, css=["file://style.css", "file://graph.css"]))
    for index in range(len(COLOURS)):
        sample.add(str(index), [1])
    root = sample.render_tree()
    css = root.find("defs").find("style").text
    scoped = re.sub(rf"#chart-{sample.uuid}(?=[ {{])", ".pygal-chart", css).replace("}", "}\n")
    return f"/* Generated by `python -m hub.reports.charts` from pygal {pygal.__version__}; do not edit. */\n" \
        + scoped + EXTRA_CSS


if __name__ == "__main__":
    print(stylesheet(), end="")  # noqa: T201
