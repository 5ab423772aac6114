#!/usr/bin/python3
"""The web pages in a real browser: Debian's Chromium driven by Selenium
(chromium-driver, python3-selenium; scripts/install-deps installs them).

Starts `qorgau demo --serve 127.0.0.1:0` on a fresh data directory, as
`make run` does, and walks the journeys of docs/console.md through the
pages as a person would: links, forms and buttons only. The demo prints
the subscribers to sign in as; the one-time code is read from the demo's
SMS file. axe-core (vendored, tests only) checks each page for
accessibility violations.

    tests/browser/pages_test.py --qorgau build-test/qorgau [-k NAME]
"""
import argparse
import hashlib
import json
import os
import pathlib
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

SOURCE = pathlib.Path(__file__).resolve().parents[2]
AXE = SOURCE / "tests/browser/vendor/axe-core-4.11.0/axe.min.js"
QORGAU = None  # set by main()
SCREENSHOTS = None  # --screenshots DIR


class Demo:
    """`qorgau demo --serve` on a fresh data directory, until stopped."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="qorgau-browser-")
        self.data = os.path.join(self.dir, "data")
        self.out = open(os.path.join(self.dir, "demo.out"), "w+")
        self.proc = subprocess.Popen(
            [QORGAU, "--data", self.data, "demo", "--policy", str(SOURCE / "policies/kem/policy.yaml"),
             "--subjects", "8", "--serve", "127.0.0.1:0"],
            stdout=self.out, stderr=subprocess.PIPE, text=True, cwd=SOURCE)
        self.port = None
        deadline = time.time() + 240
        while self.port is None:
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the demo did not start serving: see " + self.out.name)
            ready, _, _ = select.select([self.proc.stderr], [], [], 1)
            if not ready:
                continue
            line = self.proc.stderr.readline()
            if line.startswith("{"):
                event = json.loads(line)
                if event.get("event") == "listening":
                    self.port = event["port"]
        # The sign-ins the demo prints once it listens.
        deadline = time.time() + 30
        while True:
            self.out.flush()
            text = pathlib.Path(self.out.name).read_text()
            m = re.search(r"sign in as subscriber (\+7\d{10}) \(consents to withdraw\) or (\+7\d{10})", text)
            if m:
                self.subscriber, self.debtor = m.group(1), m.group(2)
                self.passwords = dict(re.findall(r"([a-z][a-z-]*) / (qorgau-demo-[a-z-]+)", text))
                break
            if time.time() > deadline:
                raise RuntimeError("the demo printed no sign-ins")
            time.sleep(0.2)
        self.sms = os.path.join(self.data, "sms.txt")
        self.base = "http://127.0.0.1:%d" % self.port

    def last_code(self):
        lines = pathlib.Path(self.sms).read_text().strip().splitlines()
        return re.search(r"(\d{6})$", lines[-1]).group(1)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Pages(unittest.TestCase):
    demo = None
    driver = None

    @classmethod
    def setUpClass(cls):
        cls.demo = Demo()
        cls.driver = browser()

    @classmethod
    def tearDownClass(cls):
        if cls.driver:
            cls.driver.quit()
        if cls.demo:
            cls.demo.stop()

    def setUp(self):
        self.driver.delete_all_cookies()

    # Helpers.
    def go(self, path):
        self.driver.get(self.demo.base + path)

    def find(self, css):
        """The element, once the page has it (a page may still be loading)."""
        return WebDriverWait(self.driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def submit(self, button):
        """Clicks a form's button and waits for the page it leads to."""
        old = self.find("html")
        button.click()

        # The old page is gone once its root cannot be asked about. While
        # the next page loads, Chromium may answer "does not belong to the
        # document" rather than "stale": both mean it is gone.
        def gone(_):
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return True

        WebDriverWait(self.driver, 30).until(gone)
        WebDriverWait(self.driver, 30).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def shot(self, name):
        """With --screenshots DIR: this page as DIR/NAME.png (docs/console.md)."""
        if SCREENSHOTS:
            height = self.driver.execute_script("return document.body.scrollHeight")
            self.driver.set_window_size(1280, min(max(height, 600), 2400))
            self.driver.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))
            self.driver.set_window_size(1280, 1000)

    def axe(self):
        """No serious or critical accessibility violation on this page."""
        self.driver.execute_script(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document).then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length])));")
        bad = [v for v in result if v[1] in ("serious", "critical")]
        self.assertEqual(bad, [], "axe-core on " + self.driver.current_url)

    def sign_in_subscriber(self, phone):
        self.go("/privacy/sign-in?lang=en")
        self.find("#phone").send_keys(phone)
        self.submit(self.find("main form button[type=submit]"))
        self.assertIn("one-time code was sent", self.find("main").text)
        self.find("#code").send_keys(self.demo.last_code())
        self.submit(self.find("main form button[type=submit]"))
        self.assertTrue(self.driver.current_url.endswith("/privacy/me"), self.driver.current_url)

    def sign_in_staff(self, actor):
        self.go("/console/sign-in?lang=en")
        self.find("#actor").send_keys(actor)
        self.find("#password").send_keys(self.demo.passwords[actor])
        self.submit(self.find("main form button[type=submit]"))
        self.assertTrue(self.driver.current_url.endswith("/console/"), self.driver.current_url)

    # The journeys.
    def test_the_officer_sees_the_overdue_application_first(self):
        self.sign_in_staff("dpo")
        rows = self.finds("table.applications tbody tr")
        self.assertTrue(rows, "open applications")
        self.assertIn("overdue", rows[0].get_attribute("class"))
        self.assertIn("overdue", rows[0].text)
        self.assertTrue(self.finds("section h2#breaches"))
        # The charts draw a year of days from the ledger.
        WebDriverWait(self.driver, 20).until(
            lambda d: all(c.get_attribute("data-state") == "drawn" for c in self.finds("[data-chart]")))
        for chart in self.finds("[data-chart]"):
            self.assertEqual(chart.get_attribute("data-points"), "365")
            self.assertTrue(chart.find_elements(By.CSS_SELECTOR, "canvas"))
        self.assertNotEqual(self.find('[data-total="granted"]').text, "0")
        self.shot("dashboard")
        self.axe()

    # unittest runs the tests in name order: this one after
    # test_the_officer_sees_the_overdue_application_first, which needs it open.
    def test_the_officer_then_answers_the_overdue_application(self):
        self.sign_in_staff("dpo")
        row = self.finds("table.applications tbody tr.overdue")[0]
        app_id = row.get_attribute("data-application")
        self.submit(row.find_element(By.CSS_SELECTOR, "a"))
        self.assertIn("overdue", self.find(".deadline").text)
        self.shot("application")
        self.axe()
        self.submit(self.find('button[data-action="verify"]'))
        self.assertEqual(self.find("dd[data-state]").get_attribute("data-state"), "identity_verified")
        self.submit(self.find('button[data-action="answer-statement"]'))
        self.assertEqual(self.find("dd[data-state]").get_attribute("data-state"), "answered")
        self.assertIn("ST-", self.find("main").text)
        self.go("/console/")
        self.assertFalse(self.finds('tr[data-application="%s"]' % app_id))

    def test_an_employee_without_the_duty_cannot_see_a_value(self):
        self.sign_in_staff("agent-anna")
        # Anna's duties cover no IIN: she cannot even look a subject up by one.
        self.submit(self.find('.main-nav a[href="/console/subject"]'))
        Select(self.find("#by")).select_by_value("iin")
        self.find("#value").send_keys("900101300012")
        self.submit(self.find("main form button[type=submit]"))
        self.assertTrue(self.finds('.error[data-reason="no_duty"]'))
        # By phone she finds subject 12, and sees name and phone masked, for
        # her duty's purpose, and nothing her duty does not cover.
        Select(self.find("#by")).select_by_value("phone")
        self.find("#value").clear()
        self.find("#value").send_keys(self.demo.debtor)
        self.submit(self.find("main form button[type=submit]"))
        Select(self.find("#purpose")).select_by_value("contract_performance")
        self.submit(self.find("main section form button[type=submit]"))
        phone = self.find('tr[data-category="user.contact.phone"] td').text
        self.assertIn("*", phone)
        self.assertNotEqual(phone, self.demo.debtor)
        self.assertFalse(self.finds('tr[data-category="user.identity.iin"]'))
        self.assertFalse(self.finds('tr[data-category="user.contact.email"]'))
        self.shot("subject")
        self.axe()

    def test_an_employee_sees_only_what_their_duties_cover(self):
        self.sign_in_staff("agent-anna")
        self.assertIn("not part of your duties", self.find("main").text)
        self.assertFalse(self.finds("table.applications"))
        self.assertFalse(self.finds("table.breaches"))
        self.axe()

    def test_a_wrong_password_does_not_sign_in(self):
        self.go("/console/sign-in?lang=en")
        self.find("#actor").send_keys("dpo")
        self.find("#password").send_keys("not the password at all")
        self.submit(self.find("main form button[type=submit]"))
        self.assertIn("wrong", self.find(".error").text)
        self.go("/console/")
        self.assertTrue(self.driver.current_url.endswith("/console/sign-in"))

    def test_the_language_switch_changes_every_label(self):
        for path in ("/privacy/", "/privacy/sign-in", "/console/sign-in", "/console/enrol"):
            texts = {}
            for lang in ("kk", "ru", "en"):
                self.go(path)
                self.submit(self.driver.find_element(By.CSS_SELECTOR, 'nav.langs a[hreflang="%s"]' % lang))
                self.assertEqual(self.find("html").get_attribute("lang"), lang)
                labels = [e.text for e in self.finds("h1, h2, th, label, button, .main-nav a, .hint")]
                self.assertTrue(labels, path)
                texts[lang] = labels
            # Every label differs between Kazakh and English (the policy's
            # own texts are not labels and are not compared here).
            for kk, en in zip(texts["kk"], texts["en"]):
                self.assertNotEqual(kk, en, "label not translated on " + path)
            # The choice is remembered: a page opened without ?lang is in English.
            self.go("/privacy/")
            self.assertEqual(self.find("html").get_attribute("lang"), "en")

    def test_the_policy_is_public_in_three_languages(self):
        for lang, word in (("kk", "мақсат"), ("ru", "цел"), ("en", "purpose")):
            self.go("/privacy/policy?lang=" + lang)
            self.assertIn(word, self.find("article.policy-text").text.lower())
        self.axe()

    def test_R_VI_1_a_subscriber_withdraws_a_consent_after_the_preview(self):
        self.sign_in_subscriber(self.demo.subscriber)
        self.axe()
        self.shot("privacy-consents")
        card = self.find('section.card[data-purpose="marketing"]')
        self.assertEqual(card.find_element(By.CSS_SELECTOR, ".state").text, "granted")
        self.submit(card.find_element(By.CSS_SELECTOR, "button"))
        # The preview: the policy's warning (R-VI.1) and what stops (R-VI.4).
        self.assertIn("Withdrawing consent may end some or all services", self.find(".warning").text)
        self.assertTrue(self.finds('ul.ends li[data-purpose="marketing"]'))
        self.assertTrue(self.finds('ul.services-off li[data-service="marketing_offers"]'))
        self.shot("privacy-withdrawal-preview")
        self.axe()
        self.submit(self.find("main form button.danger"))
        self.assertIn("has been withdrawn", self.find(".done").text)
        self.submit(self.find('main a[href="/privacy/me"]'))
        card = self.find('section.card[data-purpose="marketing"]')
        self.assertEqual(card.find_element(By.CSS_SELECTOR, ".state").text, "withdrawn")
        self.assertFalse(card.find_elements(By.CSS_SELECTOR, "button"))
        row = self.find('tr[data-service="marketing_offers"]')
        self.assertIn("off", row.text)

    def test_R_VI_3_a_subscriber_with_a_debt_is_refused_in_plain_words(self):
        self.sign_in_subscriber(self.demo.debtor)
        granted = [c for c in self.finds("section.card") if c.find_elements(By.CSS_SELECTOR, "button")]
        self.assertTrue(granted, "the debtor has a consent to withdraw")
        self.submit(granted[0].find_element(By.CSS_SELECTOR, "button"))
        box = self.find('.error[data-reason="withdrawal_blocked_by_obligation"]')
        self.assertIn("unfulfilled obligation", box.text)
        self.axe()

    def test_a_wrong_code_does_not_sign_in(self):
        self.go("/privacy/sign-in?lang=en")
        self.find("#phone").send_keys(self.demo.subscriber)
        self.submit(self.find("main form button[type=submit]"))
        code = self.demo.last_code()
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        self.find("#code").send_keys(wrong)
        self.submit(self.find("main form button[type=submit]"))
        self.assertIn("wrong or has expired", self.find(".error").text)
        self.go("/privacy/me")
        self.assertTrue(self.driver.current_url.endswith("/privacy/sign-in"))

    def test_a_form_without_its_token_is_refused(self):
        # The page's own form with its CSRF token changed: as another site's post.
        self.go("/privacy/sign-in?lang=en")
        self.driver.execute_script("document.querySelectorAll('input[name=csrf]').forEach(e => e.value = 'x');")
        self.find("#phone").send_keys(self.demo.subscriber)
        self.submit(self.find("main form button[type=submit]"))
        self.assertIn("The form has expired", self.find(".error").text)
        self.assertFalse(self.finds("#code"))

    def test_an_employee_files_an_application_with_a_document_and_answers_it(self):
        self.sign_in_staff("office-olga")
        self.submit(self.find('.main-nav a[href="/console/application/new"]'))
        self.axe()
        self.find("#subject").send_keys("12")
        Select(self.find("#kind")).select_by_value("rectification")
        Select(self.find("#channel")).select_by_value("office_written")
        self.find("#reference").send_keys("OFF-2026-77")
        self.find("#doc1_reference").send_keys("SCAN-77")
        # The page computes the document's digest; the file stays here.
        content = b"a scanned application\n"
        path = os.path.join(self.demo.dir, "scan.txt")
        with open(path, "wb") as f:
            f.write(content)
        self.find("#doc1_file").send_keys(path)
        digest = hashlib.sha256(content).hexdigest()
        WebDriverWait(self.driver, 10).until(lambda d: self.find("#doc1_sha256").get_attribute("value") == digest)
        self.shot("new-application")
        self.submit(self.find("main form button[type=submit]"))
        self.assertIn("/console/application?id=", self.driver.current_url)
        self.assertEqual(self.find("dd[data-state]").get_attribute("data-state"), "received")
        self.assertIn("SCAN-77", self.find("main").text)
        self.assertTrue(self.find(".deadline").text)
        self.submit(self.find('button[data-action="verify"]'))
        self.find("#reference").send_keys("ANS-77")
        self.submit(self.find('button[data-action="answer"]'))
        self.assertEqual(self.find("dd[data-state]").get_attribute("data-state"), "answered")
        self.axe()

    def test_the_officer_reads_the_trail_verifies_the_ledger_and_reads_the_editions(self):
        self.sign_in_staff("dpo")
        self.submit(self.find('.main-nav a[href="/console/audit"]'))
        self.find("#subject").send_keys("12")
        self.submit(self.find("form.range button[type=submit]"))
        self.assertTrue(self.finds("table.trail tbody tr"))
        self.submit(self.find('button[data-action="verify-ledger"]'))
        self.assertEqual(self.find("dl[data-verified]").get_attribute("data-verified"), "ok")
        self.shot("audit")
        self.axe()
        self.submit(self.find('.main-nav a[href="/console/policy"]'))
        self.assertTrue(self.finds('section[data-edition="2"] table.diff tbody tr'))
        self.assertTrue(self.finds('section[data-edition="1"]'))
        self.shot("editions")
        self.axe()

    def test_the_administrator_issues_an_enrolment_token(self):
        self.sign_in_staff("admin-aida")
        self.submit(self.find('.main-nav a[href="/console/admin"]'))
        self.assertTrue(self.finds('section[data-actor="office-olga"]'))
        self.axe()
        self.submit(self.find('section[data-actor="analyst-dana"] button[data-action="enrol"]'))
        self.assertRegex(self.find("code.token").text, r"^qe_[0-9a-f]{64}$")
        self.axe()

    def test_R_XI_2_a_subscriber_accepts_the_edition_files_an_application_and_opens_the_statement(self):
        self.sign_in_subscriber(self.demo.subscriber)
        self.submit(self.find('button[data-action="accept"]'))
        self.assertEqual(self.find("[data-accepted]").get_attribute("data-accepted"), "explicit")
        self.assertFalse(self.finds('button[data-action="accept"]'))
        self.submit(self.find('main a[href="/privacy/apply"]'))
        self.axe()
        self.find('input[name="kind"][value="information"]').click()
        self.submit(self.find("main form button[type=submit]"))
        self.assertIn("registered", self.find(".done[data-filed]").text)
        self.assertTrue(self.finds("table.applications tr[data-application]"))
        self.shot("privacy-applications")
        self.submit(self.find('main a[href="/privacy/statement"]'))
        self.assertIn("ST-", self.find("body").text)


def main():
    global QORGAU, SCREENSHOTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--qorgau", required=True)
    parser.add_argument("--screenshots", help="save the screenshots of docs/console.md here")
    args, rest = parser.parse_known_args()
    QORGAU = os.path.abspath(args.qorgau)
    SCREENSHOTS = os.path.abspath(args.screenshots) if args.screenshots else None
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
