"""The Allure report of synthetic verdicts, built with ``make report`` twice (two nights, history carried
forward) and opened in headless chromium: every verdict is a test case of its own, a failed SLA's page
shows its reason, its PromQL and its timeline, and the trend has one point per night.

Screenshots land in reports/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from allure_site import SCREENSHOTS, make_report, serve
from playwright.sync_api import Page
from report_synth import BREAKER_QUERY, BREAKER_REASON, steps, verdicts

from harness.reports import write_reports

pytestmark = pytest.mark.slow
NIGHTS = 2
FAILED = "breaker-redis [redis-kill/whole]"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reports of the last of ``NIGHTS`` runs, each written as a run writes them, then reported."""
    directory = tmp_path_factory.mktemp("reports")
    for _ in range(NIGHTS):
        write_reports(directory, verdicts(), steps())
        make_report(directory / "allure-results", directory / "allure-report")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def site(reports: Path) -> Iterator[str]:
    yield from serve(reports / "allure-report")


def _open_test(page: Page, site: str, scenario: str, name: str) -> None:
    page.goto(f"{site}/index.html#suites")
    for title in ("sla", scenario, name):
        page.get_by_text(title, exact=True).click()
    page.locator(".test-result__name", has_text=name).wait_for()


def test_the_overview_shows_every_verdict_as_a_test_case_and_one_trend_point_per_night(
    page: Page, site: str, reports: Path
) -> None:
    expected = len(json.loads((reports / "verdicts.json").read_text())["verdicts"])
    page.goto(f"{site}/index.html")
    stats = page.locator(".summary-widget__stats")
    stats.wait_for()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SCREENSHOTS / "allure-overview.png", full_page=True)
    shown = re.match(r"\s*(\d+)\s+test cases", stats.inner_text())
    assert shown and int(shown.group(1)) == expected == 12
    # the three errors of queue-depth (nothing measured) stay three tests, not one with two retries
    assert re.search(
        r"Could not measure[^\n]*\n\s*3\b", page.locator(".widget", has_text="Categories").inner_text()
    )
    assert page.locator(".history-trend__chart .report-line").count() == NIGHTS


def test_a_failed_sla_shows_its_reason_promql_and_timeline(page: Page, site: str) -> None:
    _open_test(page, site, "redis-kill", FAILED)
    overview = page.locator(".test-result-overview")
    assert BREAKER_REASON in overview.locator(".status-details__message").first.inner_text()
    for name in ("PromQL", "timeline"):
        page.locator(".attachment-row", has_text=name).click()
    assert BREAKER_QUERY in page.locator(".attachment-preview__text").inner_text()
    timeline = page.locator("img.attachment-preview__media")
    timeline.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=timeline.element_handle())
    page.screenshot(path=SCREENSHOTS / "allure-failed-sla.png", full_page=True)
    timeline.screenshot(path=SCREENSHOTS / "allure-timeline.png")
    svg = page.evaluate("src => fetch(src).then(r => r.text())", timeline.get_attribute("src"))
    assert "<svg" in svg and ">half-open</text>" in svg  # the breaker's states by name
    width = timeline.evaluate("img => img.getBoundingClientRect().width")
    assert 500 <= width <= 720  # drawn 720 px wide, shrunk to the pane: its 13 px text stays above 10


def test_each_verdict_keeps_its_own_history_across_nights(page: Page, site: str) -> None:
    _open_test(page, site, "redis-kill", FAILED)
    page.locator(".tab", has_text="History").click()
    rate = page.locator(".test-result-history__success-rate")
    assert f"(0 of {NIGHTS})" in rate.inner_text()  # its own two nights, not the other scenarios' passes
    assert page.locator(".test-result-history__row").count() == NIGHTS - 1
