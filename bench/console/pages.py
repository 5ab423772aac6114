#!/usr/bin/python3
"""The web pages' speed (issue 12; docs/benchmarks.md, "The web pages").

Starts `qorgau demo --subjects N --serve 127.0.0.1:0` from the release build
(`make build`), signs in to the console as the demo's officer and to the
privacy centre as the demo's subscriber, then asks each page REQUESTS times
over one keep-alive connection and prints p50, p95 and p99. Beside them, in
the same run: the API's read of the same consents (GET
/v1/subjects/{id}/consents with an API key) and a static file, the floors a
page is compared with. Last, the dashboard in Chromium: the time from the
page's script starting to both charts drawn (fetching a year of daily
counts and drawing them), over DASHBOARD_LOADS loads.

    bench/console/pages.py [--qorgau build/qorgau] [--subjects 100000] [--requests 300]
"""
import argparse
import http.client
import json
import os
import pathlib
import re
import select
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse

SOURCE = pathlib.Path(__file__).resolve().parents[2]


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = {}

    def call(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(body)
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read().decode()
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, v = value.split(";")[0].split("=", 1)
                self.cookies[k] = v
        return r.status, data, dict((k.lower(), v) for k, v in r.getheaders())

    def csrf(self, html):
        return re.search(r'name="csrf" value="([0-9a-f]{64})"', html).group(1)

    def time(self, method, path, n, body=None, headers=None, want=200):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            status, _, _ = self.call(method, path, body, headers)
            times.append((time.perf_counter() - t) * 1000)
            if status != want:
                raise RuntimeError("%s %s answered %d" % (method, path, status))
        return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qorgau", default=str(SOURCE / "build/qorgau"))
    ap.add_argument("--subjects", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--dashboard-loads", type=int, default=5)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="qorgau-pages-bench-")
    data = os.path.join(work, "data")
    out = open(os.path.join(work, "demo.out"), "w+")
    started = time.time()
    proc = subprocess.Popen([args.qorgau, "--data", data, "demo", "--policy", str(SOURCE / "policies/kem/policy.yaml"),
                             "--subjects", str(args.subjects), "--serve", "127.0.0.1:0"],
                            stdout=out, stderr=subprocess.PIPE, text=True, cwd=SOURCE)
    try:
        port = None
        while port is None:
            if proc.poll() is not None:
                raise RuntimeError("the demo stopped: " + out.name)
            ready, _, _ = select.select([proc.stderr], [], [], 1)
            if ready:
                line = proc.stderr.readline()
                if line.startswith("{") and json.loads(line).get("event") == "listening":
                    port = json.loads(line)["port"]
        time.sleep(1)
        text = pathlib.Path(out.name).read_text()
        subscriber = re.search(r"sign in as subscriber (\+7\d{10})", text).group(1)
        passwords = dict(re.findall(r"([a-z][a-z-]*) / (qorgau-demo-[a-z-]+)", text))
        print("demo of %d subscribers ready in %.0f s" % (args.subjects, time.time() - started))

        staff = Client(port)
        _, page, _ = staff.call("GET", "/console/sign-in")
        status, _, _ = staff.call("POST", "/console/sign-in",
                                  {"csrf": staff.csrf(page), "actor": "dpo", "password": passwords["dpo"]})
        assert status == 303, status
        t = time.perf_counter()
        staff.call("GET", "/console/statistics.json")
        cold = (time.perf_counter() - t) * 1000

        person = Client(port)
        _, page, _ = person.call("GET", "/privacy/sign-in")
        csrf = person.csrf(page)
        person.call("POST", "/privacy/sign-in", {"csrf": csrf, "phone": subscriber})
        code = pathlib.Path(data, "sms.txt").read_text().strip().splitlines()[-1][-6:]
        status, _, _ = person.call("POST", "/privacy/verify", {"csrf": csrf, "phone": subscriber, "code": code})
        assert status == 303, status
        _, me, _ = person.call("GET", "/privacy/me")
        csrf = person.csrf(me)
        key = dict(line.split() for line in pathlib.Path(data, "keys.txt").read_text().splitlines())["crm"]
        api = Client(port)
        admin = Client(port)
        _, page, _ = admin.call("GET", "/console/sign-in")
        status, _, _ = admin.call("POST", "/console/sign-in",
                                  {"csrf": admin.csrf(page), "actor": "admin-aida", "password": passwords["admin-aida"]})
        assert status == 303, status
        today = time.strftime("%Y-%m-%d", time.gmtime())

        n = args.requests
        rows = [
            ("console: dashboard", staff.time("GET", "/console/", n)),
            ("console: statistics.json (a year)", staff.time("GET", "/console/statistics.json", n)),
            ("console: subject 11, values for a purpose",
             staff.time("GET", "/console/subject?id=11&purpose=contract_performance", n)),
            ("console: statement of subject 11", staff.time("GET", "/console/statement?id=11", n)),
            ("console: new application (form)", staff.time("GET", "/console/application/new?subject=11", n)),
            ("console: audit, trail of subject 11", staff.time("GET", "/console/audit?subject=11", n)),
            ("console: audit, reads by actor (newest 500)", staff.time("GET", "/console/audit?actor=dpo", n)),
            ("console: audit, reads of today (newest 500)",
             staff.time("GET", "/console/audit?from=%s&to=%s" % (today, today), n)),
            ("console: editions with their differences", staff.time("GET", "/console/policy", n)),
            ("console: administration", admin.time("GET", "/console/admin", n)),
            ("privacy: policy", person.time("GET", "/privacy/", n)),
            ("privacy: my consents", person.time("GET", "/privacy/me", n)),
            ("privacy: my statement", person.time("GET", "/privacy/statement", n)),
            ("privacy: withdrawal preview", person.time("POST", "/privacy/withdraw", n,
                                                        {"csrf": csrf, "purpose": "marketing"})),
            ("API: GET /v1/subjects/11/consents (same read)",
             api.time("GET", "/v1/subjects/11/consents", n, headers={"Authorization": "Bearer " + key})),
            ("static: /assets/qorgau.css", api.time("GET", "/assets/qorgau.css", n)),
        ]
        print("\n%-48s %9s %9s %9s" % ("page (%d requests each, one connection)" % n, "p50 ms", "p95 ms", "p99 ms"))
        for name, times in rows:
            print("%-48s %9.2f %9.2f %9.2f" % (name, percentile(times, 50), percentile(times, 95), percentile(times, 99)))
        print("\nstatistics.json, first call (reads the whole ledger): %.0f ms" % cold)

        # The charts in a browser.
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import WebDriverWait
        from selenium.webdriver.common.by import By
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1000"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            base = "http://127.0.0.1:%d" % port
            driver.get(base + "/console/sign-in")
            driver.find_element(By.ID, "actor").send_keys("dpo")
            driver.find_element(By.ID, "password").send_keys(passwords["dpo"])
            driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
            drawn = []
            for _ in range(args.dashboard_loads):
                driver.get(base + "/console/")
                WebDriverWait(driver, 30).until(lambda d: all(
                    c.get_attribute("data-state") == "drawn" for c in d.find_elements(By.CSS_SELECTOR, "[data-chart]")))
                drawn.append(max(int(c.get_attribute("data-ms")) for c in driver.find_elements(By.CSS_SELECTOR, "[data-chart]")))
            points = driver.find_element(By.CSS_SELECTOR, "[data-chart]").get_attribute("data-points")
            print("dashboard charts, %s days each, fetched and drawn: median %d ms, max %d ms over %d loads" % (
                points, statistics.median(drawn), max(drawn), len(drawn)))
        finally:
            driver.quit()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
