"""Browser tests: Playwright's sync API driving Debian's chromium against `live_server`.

The browser is Debian's `chromium` (installed by .ci/run), never one downloaded by Playwright. Where
none is found the browser tests skip, and the end of the run says so. Screenshots go to a folder
named by the run (BROWSER_SCREENSHOTS, else test-artifacts/screenshots/<UTC timestamp>/), which the
end of the run prints.
"""

import datetime
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

NO_CHROMIUM = (
    "Browser tests skipped: no Chromium found "
    "(install Debian's chromium package or set CHROMIUM=/path)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}
TIMEOUT_MS = 10_000  # a page of this app answers in well under a second; fail fast, not in 30 s

screenshots_key = pytest.StashKey[Path]()
skipped_key = pytest.StashKey[str]()


def find_chromium() -> str | None:
    """CHROMIUM if set, else the first chromium on PATH or at Debian's path."""
    if configured := os.environ.get("CHROMIUM"):
        return configured
    for candidate in ("chromium", "chromium-browser"):
        if found := shutil.which(candidate):
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="package")
def browser(request) -> Iterator:
    """One Chromium for all the browser tests of the run, closed after the last of them."""
    executable = find_chromium()
    if executable is None:
        request.config.stash[skipped_key] = NO_CHROMIUM
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop running in this thread, so Django sees a
    # running loop and refuses ORM calls from the test (SynchronousOnlyOperation), which the tests
    # make to arrange data and check the database. The test code is synchronous and the server
    # answers from its own thread, so the check does not apply: Django's documented switch turns it
    # off while the browser runs (only then: the rest of the suite keeps the check).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A fresh browser context (no cookies) per test, its URLs relative to `live_server`."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_path(request) -> Path:
    """The run's screenshot folder: BROWSER_SCREENSHOTS, else one named by the run's start."""
    if configured := os.environ.get("BROWSER_SCREENSHOTS"):
        return Path(configured).resolve()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return request.config.rootpath / "test-artifacts" / "screenshots" / stamp


@pytest.fixture
def screenshot_dir(request, page, screenshot_path) -> Path:
    """The run's screenshot folder, created when a browser test first needs it."""
    screenshot_path.mkdir(parents=True, exist_ok=True)
    request.config.stash[screenshots_key] = screenshot_path
    return screenshot_path


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say where the screenshots are, or why there are none (skips are not listed by default)."""
    if skipped := config.stash.get(skipped_key, None):
        terminalreporter.write_sep("-", "browser tests")
        terminalreporter.write_line(skipped, yellow=True, bold=True)
    if (folder := config.stash.get(screenshots_key, None)) is not None:
        names = ", ".join(sorted(path.name for path in folder.glob("*.png"))) or "none written"
        terminalreporter.write_sep("-", "browser tests")
        terminalreporter.write_line(f"Screenshots in {folder}: {names}")
