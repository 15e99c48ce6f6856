"""The browser tier: the console in Debian's Chromium (headless, driven by Playwright, which downloads no browser),
against the local stack that `make up` runs, started here in-process on 127.0.0.1 with the same seeds: the catalog and
stock, one operator per role, and the back office's scenario (dawra/local/scenario.py).

`make test-browser` runs this folder alone; `make test` includes it when /usr/bin/chromium exists (the README's setup
installs it) and skips it, saying why, when it does not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(scope="module")  # one embedded cloud per process at a time: it lives for the module, as elsewhere
def world() -> Iterator[World]:
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.local.scenario import seed_backoffice, sign_in
    from dawra.local.seed import seed
    from dawra.local.stack import LocalStack

    stack = LocalStack(background_pollers=True).start()
    try:
        seed(DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name")))
        operators, scenario = seed_backoffice(stack)
        yield World(stack, operators, scenario, lambda username: sign_in(stack, operators[username]))
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
