#!/usr/bin/env python3
"""Drives Moat's console in a real headless Chromium (Debian's chromium + chromium-driver,
through Selenium) the way an administrator would: log in, open each page, and do what the
steps file asks. Run by ConsoleBrowserTests; prints one JSON object with what it saw.

Arguments: base URL, password, the console certificate's SPKI pin (base64 SHA-256, so
Chromium trusts exactly that certificate and nothing else), screenshot directory, steps file
(JSON list of {"path": ..., "expect": [texts], "click": [button texts]}).
"""
import json
import sys

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

base, password, spki, shots, steps_file = sys.argv[1:6]
steps = json.load(open(steps_file))

options = webdriver.ChromeOptions()
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1024",
                 "--disable-dev-shm-usage", "--ignore-certificate-errors-spki-list=" + spki,
                 "--user-data-dir=" + shots + "/profile"):
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)
report = {"pages": [], "errors": []}


def click_and_wait(element):
    """Click a form's button and wait until the browser has left the page: a fixed pause was
    too short on a loaded machine, and the next driver.get then cut the submission off."""
    element.click()
    WebDriverWait(driver, 60).until(expected_conditions.staleness_of(element))


def alert_text():
    try:
        return driver.switch_to.alert.text
    except NoAlertPresentException:
        return None


def snapshot(name):
    driver.save_screenshot(f"{shots}/{name}.png")
    injected = driver.execute_script("return window.__moat_injected === true || document.title.indexOf('PWNED') >= 0")
    return {"name": name, "url": driver.current_url, "title": driver.title,
            "text": driver.find_element(By.TAG_NAME, "body").text, "alert": alert_text(),
            "injected": bool(injected),
            "csp_violations": [e["message"] for e in driver.get_log("browser")
                               if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]}


try:
    driver.get(base + "/")
    report["pages"].append(snapshot("00-redirected-to-login"))
    user = driver.find_element(By.NAME, "user")
    user.clear()
    user.send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(password)
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button, form[action='/login'] input[type=submit]"))
    report["pages"].append(snapshot("01-after-login"))
    for index, step in enumerate(steps, start=2):
        driver.get(base + step["path"])
        for field, value in step.get("fill", {}).items():
            element = driver.find_element(By.NAME, field)
            element.clear()
            element.send_keys(value)
        for label in step.get("click", []):
            buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "button, input[type=submit]")
                       if (b.text or b.get_attribute("value") or "").strip() == label]
            if not buttons:
                report["errors"].append(f"{step['path']}: no button {label!r}")
                continue
            click_and_wait(buttons[0])
        name = f"{index:02d}-" + (step.get("name") or step["path"].strip("/").replace("/", "-").split("?")[0] or "status")
        report["pages"].append(snapshot(name))
except Exception as error:  # the test reports it; a screenshot shows where it stopped
    report["errors"].append(repr(error))
    try:
        driver.save_screenshot(f"{shots}/zz-error.png")
    except Exception:
        pass
finally:
    driver.quit()
print(json.dumps(report))
