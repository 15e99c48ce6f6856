"""The browser tier: the console in Debian's Chromium (headless, driven by Playwright, which downloads no browser),
against the local stack that `make up` runs, started here in-process on 127.0.0.1 with the same seeds: the catalog and
stock, one operator per role, and the back office's scenario (dawra/local/scenario.py).

`make test-browser` runs this folder alone; `make test` includes it when /usr/bin/chromium exists (the README's setup
installs it) and skips it, saying why, when it does not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the console in headless Chromium (make test-browser)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium "
                                   "fonts-noto-core (the README's setup)")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


@dataclass
class World:
    stack: Any
    operators: dict[str, Any]
    scenario: Any
    token: Any  # username -> an ID token, for the admin API

    @property
    def url(self) -> str:
        return str(self.stack.gateway_url)

    def password(self, username: str) -> str:
        return str(self.operators[username].password)


@contextmanager
def seeded_local_stack() -> Iterator[Any]:
    """The local stack as `make up` runs it, its catalog and stock seeded; stopped when done (each browser test
    module's fixture seeds what else it needs: operators, the back office's scenario)."""
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.local.seed import seed
    from dawra.local.stack import LocalStack

    stack = LocalStack(background_pollers=True).start()
    try:
        seed(DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name")))
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")  # one embedded cloud per process at a time: it lives for the module, as elsewhere
def world() -> Iterator[World]:
    from dawra.local.scenario import seed_backoffice, sign_in

    with seeded_local_stack() as stack:
        operators, scenario = seed_backoffice(stack)
        yield World(stack, operators, scenario, lambda username: sign_in(stack, operators[username]))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


class Browser:
    """A browser context (one person's tab: a viewport, a locale) that fails its test on any script error or
    Content-Security-Policy report, and photographs pages that must fit their width."""

    def __init__(self, chromium: Any, viewport: dict[str, int], locale: str, base_url: str | None = None):
        self.context = chromium.new_context(viewport=viewport, locale=locale, accept_downloads=True,
                                            **({"base_url": base_url} if base_url else {}))
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))

    def shoot(self, name: str, screenshots: Any) -> None:
        self.page.wait_for_load_state("networkidle")
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the viewport"
        self.page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert [p for p in self.problems if "status of 4" not in p] == [], self.problems


def signed_in(chromium: Any, world: World, username: str, viewport: dict[str, int], language: str,
              lands_on: str = r"/admin/(orders|audit)") -> Browser:
    """A new tab signed in to the console as `username` (its seeded password), in `language`, once the console has
    landed on a page matching `lands_on`."""
    browser = Browser(chromium, viewport, "en-GB", world.url)
    page = browser.page
    page.goto(f"/admin/signin?lang={language}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", world.password(username))
    page.click("form[data-testid=signin-form] button[type=submit]")
    page.wait_for_url(re.compile(lands_on))
    return browser


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
