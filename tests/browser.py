"""A real headless browser for the tests: Debian's Chromium (/usr/bin/chromium) driven through its
chromedriver by Selenium, with a fresh profile; nothing is downloaded (no Selenium Manager).

`make test` installs both packages when they are missing (the Makefile's `chromium` step).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")
# No network but this machine's loopback: every other host is unresolvable and every proxied
# request goes to a closed port, so a page that needs the internet shows it.
OFFLINE = ("--proxy-server=127.0.0.1:9",  # Chromium never proxies loopback addresses
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


@contextmanager
def chromium(profile: Path, offline: bool = False):
    """A Selenium driver of headless Chromium with the profile folder ``profile`` (made fresh)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"{', '.join(missing)} missing: `make test` installs Debian's chromium and chromium-driver"
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager, if it ever ran, may not download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile.mkdir(parents=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + (OFFLINE if offline else ()) + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def failed_loads(driver) -> list[str]:
    """The page's resources that did not load (a script, stylesheet, image or font) and its console
    errors: Chromium logs each as SEVERE."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def elements(driver, css: str, keep=lambda e: True) -> list:
    """The elements matching ``css`` that ``keep`` accepts; none while the page is re-rendering
    them (a single-page app replaces elements as its data arrives)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        return [e for e in driver.find_elements("css selector", css) if keep(e)]
    except StaleElementReferenceException:
        return []


def texts(driver, css: str, keep=lambda e: True) -> list[str]:
    """The texts of the elements ``elements`` finds, read at once (an element kept to read later can be
    replaced by a re-render in between); none while the page is re-rendering them."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        return [e.text for e in elements(driver, css, keep)]
    except StaleElementReferenceException:
        return []


def click_first(driver, css: str, keep=lambda e: True) -> bool:
    """Click the first element ``elements`` finds; False (try again) when there is none yet or the page
    replaced it between finding and clicking."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        found = elements(driver, css, keep)
        if found:
            found[0].click()
            return True
    except StaleElementReferenceException:
        pass
    return False


def attributes(driver, css: str, name: str, keep=lambda e: True) -> list[str]:
    """Attribute ``name`` of the elements ``elements`` finds, read at once (as ``texts``)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        return [e.get_attribute(name) or "" for e in elements(driver, css, keep)]
    except StaleElementReferenceException:
        return []
