"""/docs and /redoc in a real headless Chromium, against a real server with the sample data, with
every request to anywhere but this machine made impossible: the pages render, Swagger UI's
Authorize dialog signs a staff member in with the password flow, and a write made from the page
answers 201.

Needs Debian's `chromium` and `chromium-driver` (.ci/browser installs them) and selenium. Without
them the tests are skipped, unless REQUIRE_BROWSER=1 (CI), when they fail. Screenshots go to
$BROWSER_SCREENSHOT_DIR (CI keeps them), else to the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.servers import app_env, app_ok, fresh_database, serving

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
WAIT = 30  # seconds, for one thing to appear on a page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _find_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver), or why they cannot be used."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    browser = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        return "chromium and chromedriver are not installed (bash .ci/browser installs them)"
    return browser, driver


@pytest.fixture(scope="module")
def chromium() -> tuple[str, str]:
    found = _find_browser()
    if isinstance(found, str):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {found}")
        pytest.skip(found)
    return found


@dataclass
class Server:
    url: str
    username: str
    password: str


@pytest.fixture(scope="module")
def server(server_url: str, chromium: tuple[str, str]) -> Iterator[Server]:
    """`python -m app serve` on a fresh database with the sample data and one administrator (the page
    writes an administrative unit, which only administrators may)."""
    with fresh_database(server_url, "cv_browser", migrated=False) as url:
        env = app_env(DATABASE_URL=url, LOG_LEVEL="warning", ACCESS_LOG="false")
        username, password = "docs.admin", "Doc-" + secrets.token_urlsafe(18)
        app_ok("seed", env=env, timeout=300)
        admin = ("users", "create", username, "--display-name", "Docs Admin", "--role", "admin")
        app_ok(*admin, env={**env, "CRAFTVILLAGE_PASSWORD": password}, timeout=300)
        with serving(env, "--no-migrate") as base:
            yield Server(base, username, password)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("BROWSER_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser(chromium: tuple[str, str], server: Server) -> Iterator[Any]:
    """Headless Chromium that cannot reach anything but this machine: no name resolves but
    localhost's, and every proxied request goes to a port where nothing listens."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        "--proxy-server=http://127.0.0.1:9",  # IP literals elsewhere too; loopback is never proxied
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        yield driver
    finally:
        driver.quit()


def _network(driver: Any) -> list[dict[str, Any]]:
    return [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]


def assert_nothing_left_the_machine(events: list[dict[str, Any]]) -> list[str]:
    """No response came from anywhere but this machine, and every request elsewhere failed.
    Returns the local URLs loaded."""
    urls: dict[str, str] = {}
    answered, failed = set(), set()
    for event in events:
        params = event.get("params", {})
        if event.get("method") == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif event.get("method") == "Network.responseReceived":
            answered.add(params["requestId"])
            urls.setdefault(params["requestId"], params["response"]["url"])
        elif event.get("method") == "Network.loadingFailed":
            failed.add(params["requestId"])
    local = []
    for request_id, url in urls.items():
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            continue
        if parts.hostname in LOCAL_HOSTS:
            local.append(url)
            continue
        assert request_id not in answered, f"a response came from outside: {url}"
        assert request_id in failed, f"a request to {url} was not refused"
    return local


def assert_no_policy_violation(driver: Any, allowed: tuple[str, ...] = ()) -> None:
    """The console shows no script error, and no refusal by the Content-Security-Policy other
    than those `allowed` (URLs the pages are expected to be refused)."""
    for entry in driver.get_log("browser"):
        message = entry["message"]
        if "Content Security Policy" in message or entry["level"] == "SEVERE":
            assert any(url in message for url in allowed), message


def test_swagger_ui_signs_in_and_creates_a_record(browser: Any, server: Server, screenshots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as when
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    browser.get(f"{server.url}/docs")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 20)
    browser.save_screenshot(str(screenshots / "swagger-1-rendered.png"))

    # Authorize: the password flow of the OAuth2 scheme, with a staff account.
    browser.find_element(By.CSS_SELECTOR, ".scheme-container button.authorize").click()
    username = wait.until(when.visibility_of_element_located((By.ID, "oauth_username")))
    username.send_keys(server.username)
    browser.find_element(By.ID, "oauth_password").send_keys(server.password)
    browser.save_screenshot(str(screenshots / "swagger-2-authorize.png"))
    container = username.find_element(By.XPATH, "ancestor::div[contains(@class,'auth-container')]")
    container.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait.until(lambda d: container.find_elements(By.XPATH, ".//button[normalize-space()='Logout']"))
    browser.save_screenshot(str(screenshots / "swagger-3-authorized.png"))
    browser.find_element(By.CSS_SELECTOR, ".modal-ux button.close-modal").click()

    # A write from the page: POST /api/v1/admin-units, Try it out, a valid body, Execute.
    summary = browser.find_element(
        By.XPATH,
        "//div[contains(@class,'opblock-post')]"
        "//*[contains(@class,'opblock-summary-path') and @data-path='/api/v1/admin-units']",
    )
    operation = summary.find_element(By.XPATH, "ancestor::div[contains(@class,'opblock-post')][1]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    wait.until(lambda d: operation.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))
    operation.find_element(By.CSS_SELECTOR, "button.try-out__btn").click()
    body = wait.until(lambda d: operation.find_element(By.CSS_SELECTOR, "textarea.body-param__text"))
    body.send_keys(Keys.CONTROL, "a")
    body.send_keys(Keys.DELETE)
    body.send_keys(json.dumps({"code": "99", "name": "Tỉnh thử nghiệm", "level": "province"}))
    operation.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait.until(
        lambda d: next(
            (
                cell
                for cell in operation.find_elements(
                    By.CSS_SELECTOR, ".live-responses-table .response-col_status"
                )
                if cell.text.strip()[:3].isdigit()
            ),
            None,
        )
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", status)
    browser.save_screenshot(str(screenshots / "swagger-4-created.png"))
    assert status.text.strip().startswith("201"), status.text

    created = httpx.get(f"{server.url}/api/v1/admin-units", params={"code": "99"}, timeout=5).json()
    assert [unit["name"] for unit in created["items"]] == ["Tỉnh thử nghiệm"]
    local = assert_nothing_left_the_machine(_network(browser))
    assert any(url.endswith("/api/v1/auth/token") for url in local)
    assert_no_policy_violation(browser)


def test_redoc_renders_with_nothing_from_outside(browser: Any, server: Server, screenshots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server.url}/redoc")
    heading = WebDriverWait(browser, WAIT).until(
        lambda d: next(
            (h for h in d.find_elements(By.CSS_SELECTOR, "h2") if h.text.strip() == "List villages"), None
        )
    )
    browser.execute_script("arguments[0].scrollIntoView()", heading)
    browser.save_screenshot(str(screenshots / "redoc-1-rendered.png"))
    assert heading.is_displayed()
    assert_nothing_left_the_machine(_network(browser))
    # ReDoc's footer shows the Redocly logo from a CDN: the page's policy refuses it.
    assert_no_policy_violation(browser, allowed=("https://cdn.redoc.ly/",))
