"""The report charts (pygal, inline SVG): allowed by the Content-Security-Policy, named and described,
escaped; their stylesheet in step with pygal; the pages' charts, empty states and CSV per table."""
import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale

from hub.extensions import db
from hub.labels import figure
from hub.partners.models import Organisation
from hub.reports import charts
from tests.conftest import NOW
from tests.reports_support import add_referral, make_world
from tests.web import signed_in

STYLESHEET = Path(__file__).resolve().parent.parent / "hub" / "static" / "charts.css"
PERIOD = "from=2026-01-01&to=2026-11-23"


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_static_stylesheet_is_what_pygal_makes_for_our_style():
    assert STYLESHEET.read_text(encoding="utf-8") == charts.stylesheet(), \
        "run: .venv/bin/python -m hub.reports.charts > hub/static/charts.css"


def test_a_chart_is_inline_svg_without_style_or_script_named_and_escaped():
    svg = str(charts.horizontal_bars("bars", "Wait <b>", "All & more", [("Huis <script>alert(1)</script>", [3, 8])],
                                     ["median", "p90"], stacked=False))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="bars-title bars-desc"' in svg
    assert '<title id="bars-title">Wait &lt;b&gt;</title><desc id="bars-desc">All &amp; more</desc>' in svg
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg and "<!--" not in svg
    assert "Huis &lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert re.findall(r' id="([^"]+)"', svg) == ["bars", "bars-title", "bars-desc"]  # nothing that repeats
    assert re.findall(r'<text[^>]*class="value">([^<]*)<', svg) == ["8", "3"]  # the numbers printed, for paper


@pytest.mark.parametrize(("rows", "series", "stacked"), [(1, ["median", "p90"], False), (3, ["median", "p90"], False),
                                                       (1, ["partner", "client", "municipality"], True)])
def test_the_legend_fits_inside_the_chart(rows, series, stacked):
    svg = str(charts.horizontal_bars("b", "t", "d", [(f"Partner {index}", [24.5, 38.5, 3][:len(series)])
                                                     for index in range(rows)], series, stacked=stacked))
    height = float(re.search(r'viewBox="0 0 \d+ ([\d.]+)"', svg).group(1))
    legend_top = float(re.search(r'translate\([\d.]+, ([\d.]+)\)" class="legends"', svg).group(1))
    assert legend_top + 12.5 <= height  # a legend entry: a 12-pixel box from 0.5 down


def test_the_first_row_is_drawn_on_top():
    svg = str(charts.horizontal_bars("bars", "t", "d", [("First", [1]), ("Second", [2])], ["days"], stacked=True))
    labels = {text: float(y) for y, text in re.findall(r'<text x="-5" y="([\d.]+)" class="">(\w+)</text>', svg)}
    assert labels["First"] < labels["Second"]


def test_a_chart_draws_at_most_twenty_rows_to_fit_a_page():
    rows = [(f"Partner{index:02d}", [index + 1]) for index in range(25)]
    svg = str(charts.horizontal_bars("bars", "t", "d", rows, ["days"], stacked=True))
    drawn = re.findall(r'<text x="-5" y="[\d.]+" class="">(Partner\d+)</text>', svg)
    assert sorted(drawn) == [f"Partner{index:02d}" for index in range(20)]


def test_the_waiting_chart_puts_the_longest_waits_on_top(make, app, client):
    world = make_world(make, app)
    for partner, days in zip(world.partners, (4, 30), strict=True):
        requested = NOW - timedelta(days=60)
        add_referral(app, world, partner, requested, started_at=requested + timedelta(days=days))
    signed_in(client, world.coach)
    page = client.get(f"/reports/waiting-times?{PERIOD}").get_data(as_text=True)
    chart = page[page.index("<svg"):page.index("</svg>")]
    labels = {text: float(y) for y, text in re.findall(r'<text x="-5" y="([\d.]+)" class="">([^<]+)</text>', chart)}
    with app.app_context():
        quick, slow = (db.session.get(Organisation, partner).name for partner in world.partners)
    assert labels[slow] < labels[quick]  # 30 days above 4


def test_nothing_to_draw_is_no_chart():
    assert charts.horizontal_bars("b", "t", "d", [], ["days"], stacked=True) is None
    assert charts.horizontal_bars("b", "t", "d", [("A", [0, 0])], ["a", "b"], stacked=False) is None
    assert charts.trend("t", "t", "d", [], [("a", [])]) is None
    assert charts.funnel("f", "t", "d", [("contact", 0), ("orientation", 0)]) is None


def test_a_long_trend_labels_about_a_year_of_months_and_prints_no_values():
    months = [f"{2022 + index // 12}-{index % 12 + 1:02d}" for index in range(61)]
    svg = str(charts.trend("t", "t", "d", months, [("days", list(range(61)))], ("escalations", [1] * 61)))
    assert not re.findall(r'<text[^>]*class="value">[^<]+<', svg)
    assert 'class="axis y2' in svg  # the escalations on their own axis


def _second_axis_labels(svg: str) -> list[str]:
    axis = re.search(r'<g class="axis y2">(.*?)</g></g>', svg, re.S).group(1)
    return re.findall(r"<text[^>]*>([^<]+)</text>", axis)


@pytest.mark.parametrize("escalations", [[0, 0], [3, 1], [17, 40]])
def test_the_escalations_axis_counts_in_whole_numbers(escalations):
    svg = str(charts.trend("t", "t", "d", ["2025-05", "2025-06"], [("days", [126.0, 21.0])],
                           ("escalations", escalations)))
    labels = _second_axis_labels(svg)
    assert labels[0] == "0" and all(re.fullmatch(r"\d+", label) for label in labels), labels
    assert int(labels[-1]) >= max(escalations)


def test_a_year_of_months_is_labelled_at_a_slant_so_the_labels_do_not_run_together():
    months = [f"2025-{month:02d}" for month in range(1, 13)]
    svg = str(charts.trend("t", "t", "d", months, [("days", [1] * 12)]))
    assert 'transform="rotate(45' in svg


def test_figures_are_written_as_the_readers_language_writes_them(app):
    for locale, expected in (("nl", ["1.234,5", "24,5", "147", "0", "—"]),
                             ("en", ["1,234.5", "24.5", "147", "0", "—"])):
        with app.test_request_context(), force_locale(locale):
            assert [figure(value) for value in (1234.5, 24.5, 147.0, 0, None)] == expected, locale


@pytest.fixture
def ours(make, app):
    world = make_world(make, app)
    requested = NOW - timedelta(days=50)
    add_referral(app, world, world.partners[0], requested, started_at=requested + timedelta(days=9),
                 escalations=[requested + timedelta(days=5)])
    add_referral(app, world, world.partners[1], NOW - timedelta(days=20))
    return world


def test_the_report_pages_draw_their_charts_under_the_content_security_policy(client, ours):
    signed_in(client, ours.director)
    waiting = client.get(f"/reports/waiting-times?{PERIOD}")
    assert "style-src 'self'" in waiting.headers["Content-Security-Policy"]
    page = waiting.get_data(as_text=True)
    assert '<title id="waiting-chart-title">Mediaan en 90e percentiel van de wachttijd in dagen</title>' in page
    assert "/static/charts.css" in page and "<style" not in page and "<script" not in page
    bottlenecks = client.get(f"/reports/bottlenecks?{PERIOD}").get_data(as_text=True)
    assert 'id="ranked-chart"' in bottlenecks and 'id="trend-chart"' in bottlenecks
    assert "escalaties (rechteras)" in bottlenecks
    stylesheet = client.get("/static/charts.css")
    stylesheet.close()
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"


def test_the_pages_without_data_say_so_and_draw_no_chart(make, client):
    world_less = make.user("director", organisation_id=make.organisation("municipality", municipality="Ede"))
    signed_in(client, world_less)
    waiting = client.get("/reports/waiting-times").get_data(as_text=True)
    assert "<svg" not in waiting and "Geen doorverwijzingen in deze periode." in waiting
    bottlenecks = client.get("/reports/bottlenecks").get_data(as_text=True)
    assert "<svg" not in bottlenecks and "Niemand wachtte in deze periode." in bottlenecks


def test_every_table_downloads_on_its_own(app, client, ours):
    signed_in(client, ours.director)
    partners = client.get(f"/reports/bottlenecks?{PERIOD}&format=csv&table=partners")
    assert 'filename="bottlenecks-partners-20260101-20261123.csv"' in partners.headers["Content-Disposition"]
    rows = _rows(partners)
    assert rows[0] == ["rank", "organisation", "waiting_days", "partner_days", "client_days", "municipality_days",
                       "escalations"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    months = _rows(client.get(f"/reports/bottlenecks?{PERIOD}&format=csv&table=months"))
    assert months[0][0] == "month" and [row[0] for row in months[1:]] == [f"2026-{m:02d}" for m in range(1, 12)]
    gender = _rows(client.get(f"/reports/registration?{PERIOD}&format=csv&table=gender"))
    assert gender[0][0] == "gender" and {row[0] for row in gender[1:]} == {
        "female", "male", "transgender", "nonbinary", "unknown"}
    totals = _rows(client.get(f"/reports/registration?{PERIOD}&format=csv&table=totals"))
    assert totals[0][:2] == ["expected", "inflow"] and len(totals) == 2
    whole = _rows(client.get(f"/reports/bottlenecks?{PERIOD}&format=csv&table=nonsense"))
    assert whole[0][:3] == ["rank", "organisation", "month"]  # an unknown table: the whole page


def test_every_table_on_a_page_has_its_download_link(client, ours):
    signed_in(client, ours.director)
    bottlenecks = client.get(f"/reports/bottlenecks?{PERIOD}").get_data(as_text=True)
    assert "table=partners" in bottlenecks and "table=months" in bottlenecks
    registration = client.get(f"/reports/registration?{PERIOD}").get_data(as_text=True)
    for table in ("totals", "gender", "legal_status", "target_group", "domain"):
        assert f"table={table}" in registration, table
    for path in ("/reports/waiting-times", "/reports/phases"):  # one table: the page's own download
        assert "format=csv" in client.get(path).get_data(as_text=True), path
