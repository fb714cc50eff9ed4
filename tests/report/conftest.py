"""The browser for the report's tests: Debian's chromium driven by Playwright (which cannot download its
own browser here), skipped with the reason where chromium is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: make host-tools installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page per test: Allure keeps the tree's folding in the page's storage."""
    # 1440 px wide, a laptop's screen: Allure gives an attachment about 600 px of it; tall enough that
    # a screenshot holds a test's whole page (Allure scrolls its panes, not the page).
    context = browser.new_context(viewport={"width": 1440, "height": 1700})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
