#!/usr/bin/env python3
"""Browser tests of the WebGUI: headless Chromium driven by Selenium against a real `corral serve` and a real
`corral sim` (TR-181 and TR-098 CPEs) on free loopback ports with a temporary data directory.

Usage: gui_test.py <corral binary> [screenshot dir]. Every wait is bounded; exits non-zero on the first failure.
"""
import base64, hashlib, hmac, http.server, json, os, re, secrets, shutil, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/corral")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ACME_SECRET = "acme-" + secrets.token_hex(8)  # the ACME LTE profile's onboarding password (secret "acme-r1-onboarding")
SHOTS = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "test-output/screenshots")
WAIT = 30  # seconds, the bound of every wait
PASSED = []


def log(msg):
    print(f"[gui-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_for(what, fn, timeout=WAIT, every=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # the condition may raise while the page loads
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}" + (f" (last error: {last})" if last else ""))


class Corral:
    """A `corral serve` child process plus simulators."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="corral-gui-")
        self.procs = []
        # The repository's profiles (ACME LTE router with vendor aliases and LTE KPIs) next to the built-in ones.
        # An automation that raises an alert on every device it sees onboard (the alerts page has rows to act on).
        automations = os.path.join(self.data, "automations")
        os.makedirs(automations)
        with open(os.path.join(automations, "welcome.lua"), "w") as f:
            f.write('on("device.onboarded", function(dev) dev:alert("welcome", { severity = "warning", message = "new device " .. dev.name }) end)\n'
                    'alert { name = "silent", offline = "1h", severity = "critical" }\n')
        # A copy of the repository's profiles: the GUI test saves one through the profile page.
        profiles = os.path.join(self.data, "profiles")
        shutil.copytree(os.path.join(REPO, "profiles"), profiles)
        env = dict(os.environ, CORRAL_LOG="error", CORRAL_PROFILES=profiles, CORRAL_SECRET_ACME_R1_ONBOARDING=ACME_SECRET,
                   CORRAL_AUTOMATIONS=automations, CORRAL_WEBHOOK_HOSTS="127.0.0.1")
        self.out = open(os.path.join(self.data, "serve.log"), "w+")
        self.procs.append(subprocess.Popen([BIN, "serve", "--data", self.data, "--host", "127.0.0.1", "--cwmp-port", "0", "--http-port", "0"],
                                           stdout=self.out, stderr=subprocess.STDOUT, env=env))

        def started():
            text = open(self.out.name).read()
            m = re.search(r"CWMP listening on 127\.0\.0\.1:(\d+), HTTP on 127\.0\.0\.1:(\d+)", text)
            return (m, text) if m else None
        m, text = wait_for("corral serve to start", started, timeout=90)
        self.cwmp, self.http = int(m.group(1)), int(m.group(2))
        self.admin_password = re.search(r"password (\S+)", text).group(1)
        self.base = f"http://127.0.0.1:{self.http}"
        self.token = self.cli("user", "token", "admin", "--name", "gui-test", "--role", "superadmin", "--days", "1").strip()
        self.viewer_password = "viewer-" + secrets.token_hex(6)
        self.cli("user", "add", "noc-viewer", "--role", "viewer", "--organisation-id", "1", "--password-stdin", stdin=self.viewer_password + "\n")

    def cli(self, *args, stdin=None):
        r = subprocess.run([BIN, *args, "--data", self.data], input=stdin, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, CORRAL_LOG="error"))
        assert r.returncode == 0, f"corral {' '.join(args)} failed: {r.stderr}"
        return r.stdout

    def sim(self, count, model, prefix, offset=0, credentials=(), password=None, log_name=None):
        """password: only the onboarding password (the profile's username), through CORRAL_SIM_PASSWORD."""
        log_file = open(os.path.join(self.data, f"sim-{log_name or os.path.basename(model).split('.')[0]}.log"), "w")
        login = ["--username", credentials[0], "--password", credentials[1]] if credentials else []
        env = dict(os.environ, CORRAL_LOG="error")
        if password is not None:
            env["CORRAL_SIM_PASSWORD"] = password
        p = subprocess.Popen([BIN, "sim", "--acs", f"http://127.0.0.1:{self.cwmp}/cwmp", "--count", str(count), "--model", model,
                              "--serial-prefix", prefix, "--serial-offset", str(offset), *login],
                             stdout=log_file, stderr=subprocess.STDOUT, env=env)
        self.procs.append(p)
        return p

    def api(self, method, path, body=None, timeout=60):
        req = urllib.request.Request(self.base + "/api/v1" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.data, ignore_errors=True)


def browser():
    o = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1366,1000", "--lang=en-GB"]:
        o.add_argument(a)
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=o)
    d.set_page_load_timeout(WAIT)
    d.set_script_timeout(WAIT)
    return d


def shot(d, name, full=True):
    os.makedirs(SHOTS, exist_ok=True)
    if full:  # grow the window to the page so the screenshot shows it all
        h = d.execute_script("return Math.min(4000, document.documentElement.scrollHeight)")
        d.set_window_size(1366, max(800, h))
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))
    d.set_window_size(1366, 1000)


def test(name):
    def wrap(fn):
        def run(*a):
            t = time.time()
            fn(*a)
            PASSED.append(name)
            log(f"ok   {name} ({time.time() - t:.1f} s)")
        run.__name__ = name
        return run
    return wrap


def login(d, base, user, password, next_path="/"):
    d.get(base + next_path)
    WebDriverWait(d, WAIT).until(EC.url_contains("/login"))
    d.find_element(By.ID, "username").send_keys(user)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.ID, "signin").click()
    WebDriverWait(d, WAIT).until(lambda d: "/login" not in d.current_url)


def totp(secret_b32, step):
    """RFC 6238 code (SHA-1, 6 digits) computed independently of Corral."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, step.to_bytes(8, "big"), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((int.from_bytes(mac[o:o + 4], "big") & 0x7FFFFFFF) % 1000000)


def toast(d, pattern, timeout=WAIT):
    return wait_for(f"a message matching {pattern!r}",
                    lambda: re.search(pattern, d.find_element(By.ID, "toast").text) and d.find_element(By.ID, "toast").text, timeout)


def rows(d):
    return d.find_elements(By.CSS_SELECTOR, "#rows tr[data-id]")


def main():
    c = Corral()
    d = None
    try:
        c.sim(5, "tr181", "GUI")
        c.sim(2, "tr098", "GUI", offset=5)
        wait_for("7 simulated CPEs to onboard", lambda: len(c.api("GET", "/devices?limit=50")[1]["devices"]) == 7, timeout=60)
        devices = {x["serial"]: x for x in c.api("GET", "/devices?limit=50")[1]["devices"]}
        target = devices["GUI000003"]
        log(f"corral on {c.base}, 7 CPEs onboarded")
        d = browser()

        @test("login page, sign-in redirects back")
        def _():
            d.get(c.base + "/devices")
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "username")))
            assert "/login?next=%2Fdevices" in d.current_url, d.current_url
            shot(d, "01-login", full=False)
            d.find_element(By.ID, "username").send_keys("admin")
            d.find_element(By.ID, "password").send_keys("wrong-password")
            d.find_element(By.ID, "signin").click()
            toast(d, "wrong username or password")
            d.find_element(By.ID, "password").clear()
            d.find_element(By.ID, "password").send_keys(c.admin_password)
            d.find_element(By.ID, "signin").click()
            WebDriverWait(d, WAIT).until(EC.url_to_be(c.base + "/devices"))
        _()

        @test("inventory lists the simulated devices")
        def _():
            wait_for("7 rows", lambda: len(rows(d)) == 7)
            text = d.find_element(By.ID, "inventory").text
            for s in devices:
                assert s in text, f"{s} missing from the inventory"
            assert "online" in text and "generic-tr181" in text and "generic-tr098" in text
            shot(d, "02-inventory")
        _()

        @test("inventory filters: free text, profile, sort, pagination")
        def _():
            box = d.find_element(By.ID, "f-q")
            box.send_keys("GUI000002")
            d.find_element(By.ID, "apply").click()
            wait_for("one row", lambda: len(rows(d)) == 1 and "GUI000002" in rows(d)[0].text)
            d.get(c.base + "/devices?profile=generic-tr098")
            wait_for("the two TR-098 devices", lambda: sorted(r.text.split()[1] for r in rows(d)) == ["2", "3"] or
                     {re.search(r"GUI00000\d", r.text).group(0) for r in rows(d)} == {"GUI000005", "GUI000006"})
            shot(d, "03-inventory-filtered", full=False)
            d.get(c.base + "/devices?limit=25&sort=serial&order=desc")
            assert re.search(r"GUI000006", rows(d)[0].text), rows(d)[0].text
            d.get(c.base + "/devices?sort=serial&limit=3")
            first = [re.search(r"GUI\d+", r.text).group(0) for r in rows(d)]
            d.find_element(By.ID, "next-page").click()
            second = [re.search(r"GUI\d+", r.text).group(0) for r in rows(d)]
            assert first == ["GUI000000", "GUI000001", "GUI000002"] and second == ["GUI000003", "GUI000004", "GUI000005"], (first, second)
            built = re.search(r"page built in ([\d.]+) ms", d.find_element(By.CLASS_NAME, "pager").text).group(1)
            log(f"     inventory page built in {built} ms (7 devices)")
        _()

        @test("device page: read WiFi, change the SSID, see it on the CPE")
        def _():
            d.get(c.base + "/devices")
            d.find_element(By.LINK_TEXT, target["name"]).click()
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "act-reboot")))
            d.find_element(By.ID, "act-wifi").click()
            toast(d, r"\(get\): done")
            field = WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "ssid-0")))
            assert d.find_element(By.ID, "ssid-value-0").text == "Corral-0003"
            new = "NOC-" + secrets.token_hex(3)
            field.clear()
            field.send_keys(new)
            d.find_element(By.ID, "set-ssid-0").click()
            toast(d, r"\(set\): done")
            wait_for("the card to show the new SSID", lambda: d.find_element(By.ID, "ssid-value-0").text == new)
            # Read back from the CPE itself (a GetParameterValues now), not from Corral's copy.
            st, t = c.api("POST", f"/devices/{target['id']}/tasks",
                          {"action": "get", "paths": ["Device.WiFi.SSID.1.SSID"], "connection_request": True})
            assert st == 200 and t["state"] == "done", (st, t)
            assert t["result"]["values"][0]["value"] == new, t
            # and the audit log recorded the change as made by admin through the API route
            st, a = c.api("GET", "/audit?action=task.create&actor=admin")
            assert any(new in (e.get("after") or "") for e in a["entries"]), a
        _()

        @test("device page: LTE card, parameter tree and path search")
        def _():
            d.find_element(By.ID, "act-lte").click()
            toast(d, r"\(get\): done")
            wait_for("LTE values", lambda: "RSSI" in d.find_element(By.ID, "lte-values").text)
            d.refresh()  # the tree was drawn before the WiFi subtree was read
            tree = wait_for("the WiFi node of the tree",
                            lambda: d.find_elements(By.CSS_SELECTOR, "details[data-tree*='prefix=Device.WiFi.'] > summary code"))
            tree[0].click()
            wait_for("WiFi children", lambda: d.find_elements(By.CSS_SELECTOR, "details[data-tree*='prefix=Device.WiFi.SSID.']"))
            d.find_element(By.ID, "psearch").send_keys("SSID.1.SSID")
            d.find_element(By.ID, "psearch").submit()
            wait_for("search results", lambda: d.find_elements(By.CSS_SELECTOR, "#tree-search .leaf[data-path='Device.WiFi.SSID.1.SSID']"))
            # a writable value is edited with a type-checked input
            edit = d.find_element(By.CSS_SELECTOR, "#tree-search .leaf[data-path='Device.WiFi.SSID.1.SSID'] input[name='parameters.0.value']")
            assert edit.get_attribute("value").startswith("NOC-")
        _()

        @test("device page: reboot with confirmation")
        def _():
            d.find_element(By.ID, "act-reboot").click()
            WebDriverWait(d, WAIT).until(EC.alert_is_present()).accept()
            toast(d, r"\(reboot\): (waiting|done)")
            def rebooted():
                ts = c.api("GET", f"/devices/{target['id']}/tasks")[1]["tasks"]
                return any(t["action"] == "reboot" and t["state"] == "done" for t in ts)
            wait_for("the CPE to reboot and inform with M Reboot", rebooted, timeout=45)
            wait_for("the task list to show the reboot done",
                     lambda: re.search(r"reboot\s.*done", d.find_element(By.ID, "task-table").text), timeout=15)
            d.execute_script("window.scrollTo(0, 0)")
            shot(d, "04-device")
        _()

        @test("device page: run a performance test, read the result and its history chart")
        def _():
            d.get(c.base + f"/devices/{target['id']}")
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "act-diagnose")))
            Select(d.find_element(By.ID, "pt-test")).select_by_value("download")
            d.find_element(By.ID, "pt-size").send_keys("400000")
            d.find_element(By.ID, "act-diagnose").click()
            toast(d, r"\(diagnose\): (waiting|done)")
            wait_for("the result in the card", lambda: re.search(r"download\s+Complete\s+download: [\d.]+ [kMG]bit/s",
                                                                  d.find_element(By.ID, "performance").text), timeout=45)
            # A second result through the API: the card charts the history.
            st, t = c.api("POST", f"/devices/{target['id']}/diagnostics", {"test": "download", "size": 200000, "connection_request": True})
            assert st in (200, 201), t
            wait_for("the throughput chart", lambda: d.find_elements(By.CSS_SELECTOR, "#perf-download svg[data-chart=line]"), timeout=45)
            shot(d, "04b-performance", full=False)
        _()

        @test("alerts: the page lists what automations raised; acknowledge one")
        def _():
            wait_for("7 welcome alerts", lambda: len(c.api("GET", "/alerts?name=welcome")[1]["alerts"]) == 7, timeout=30)
            d.find_element(By.LINK_TEXT, "Alerts").click()
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "alert-table")))
            table = d.find_element(By.ID, "alert-table")
            assert table.text.count("welcome") == 7 and "new device" in table.text, table.text
            first = table.find_elements(By.CSS_SELECTOR, "tbody tr")[0]
            alert_id = first.get_attribute("data-alert")
            first.find_element(By.XPATH, ".//button[text()='Acknowledge']").click()
            toast(d, "acknowledged by admin")
            wait_for("the row to show who acknowledged it",
                     lambda: "admin" in d.find_element(By.CSS_SELECTOR, f"tr[data-alert='{alert_id}']").text, timeout=15)
            st, a = c.api("GET", f"/alerts/{alert_id}")
            assert st == 200 and a["acknowledged_by"] == "admin", a
            shot(d, "04b-alerts")
            d.get(c.base + "/admin/automations")
            text = d.find_element(By.ID, "automations").text
            assert "welcome.lua" in text and "silent: offline 1h (critical)" in text, text
            d.find_element(By.ID, "reload-scripts").click()
            wait_for("the reload to be shown", lambda: "by admin" in d.find_element(By.ID, "last-reload").text)
        _()

        @test("dashboard charts render with data and link to the inventory")
        def _():
            d.get(c.base + "/")
            assert d.find_element(By.CSS_SELECTOR, "#count-total b").text == "7"
            for chart in ["chart-model", "chart-software", "chart-profile", "chart-organisation", "chart-onboarding", "chart-rssi"]:
                svg = d.find_element(By.CSS_SELECTOR, f"#{chart} svg")
                assert int(svg.get_attribute("data-points")) > 0, chart
                assert svg.find_elements(By.CSS_SELECTOR, "rect"), chart
            assert d.find_element(By.CSS_SELECTOR, "#chart-status svg rect.st-online")
            profile_bars = d.find_elements(By.CSS_SELECTOR, "#chart-profile svg a")
            assert len(profile_bars) == 2
            shot(d, "05-dashboard")
            hrefs = [a.get_dom_attribute("href") for a in profile_bars]
            assert all(h and h.startswith("/devices?profile=") for h in hrefs), hrefs
            d.get(c.base + [h for h in hrefs if "tr098" in h][0])
            wait_for("the two TR-098 devices", lambda: len(rows(d)) == 2)
        _()

        @test("admin pages: organisations, users, tokens, files, audit")
        def _():
            d.get(c.base + "/admin/organisations")
            d.find_element(By.ID, "o-name").send_keys("North")
            d.find_element(By.CSS_SELECTOR, "form[aria-label='New organisation'] button").click()
            wait_for("the new organisation", lambda: "North" in d.find_element(By.ID, "org-tree").text)
            shot(d, "06-organisations", full=False)
            d.get(c.base + "/admin/users")
            assert "noc-viewer" in d.find_element(By.ID, "users").text
            shot(d, "07-users", full=False)
            d.get(c.base + "/admin/audit")
            text = d.find_element(By.ID, "audit").text
            assert "task.create" in text and "organisation.create" in text and "auth.login" in text
            shot(d, "08-audit", full=False)
            d.get(c.base + "/admin/files")
            d.get(c.base + "/admin/tokens")
            d.find_element(By.ID, "t-name").send_keys("nms")
            d.find_element(By.CSS_SELECTOR, "form[aria-label='New token'] button").click()
            toast(d, r"Token \(shown once\): crl_")
        _()

        @test("LTE router: cards from its profile's vendor aliases, sampled signal history")
        def _():
            c.sim(1, os.path.join(REPO, "profiles/fixtures/acme-lte-r1.json"), "LTE", credentials=("acme-r1", ACME_SECRET))
            lte = wait_for("the ACME router to onboard with its profile",
                           lambda: next((x for x in c.api("GET", "/devices?profile=acme-lte-r1")[1]["devices"] if x["serial"] == "LTE000000"), None),
                           timeout=60)
            d.get(c.base + f"/devices/{lte['id']}")
            # Each session samples the profile's KPIs: reading the values now (a connection request) adds one.
            d.find_element(By.ID, "act-lte").click()
            toast(d, r"\(get\): done")
            time.sleep(2)  # samples are stamped in seconds: spread them so the chart has a time axis
            st, _ = c.api("POST", f"/devices/{lte['id']}/summon")
            assert st == 200, st
            chart = wait_for("the RSSI history chart", lambda: [e for e in d.find_elements(By.CSS_SELECTOR, "#lte-history [data-kpi='lte.rssi'] svg")
                                                                if int(e.get_attribute("data-points")) >= 3], timeout=45)[0]
            assert chart.find_elements(By.CSS_SELECTOR, "polyline"), "no line drawn"
            # SINR is ACME's own parameter (X_ACME_SINR), found through the profile's alias.
            assert "SINR" in d.find_element(By.ID, "lte-values").text
            d.execute_script("document.getElementById('lte-card').scrollIntoView()")
            shot(d, "11-device-lte")
        _()

        @test("profiles: view rules and aliases, validate an edited profile")
        def _():
            d.get(c.base + "/admin/profiles")
            d.find_element(By.LINK_TEXT, "acme-lte-r1").click()
            aliases = wait_for("the alias table", lambda: d.find_element(By.ID, "profile-aliases").text)
            assert "lte.sinr" in aliases and "X_ACME_SINR" in aliases, aliases
            assert "return profile {" in d.find_element(By.ID, "profile-source").text
            box = d.find_element(By.ID, "v-script")
            box.clear()
            box.send_keys('return profile { name = "acme-lte-r1", extends = "nowhere" ')
            d.find_element(By.ID, "validate-profile").click()
            toast(d, r"Not valid - syntax: acme-lte-r1\.lua:1:")
            box.clear()
            d.find_element(By.ID, "v-file").clear()
            d.find_element(By.ID, "v-file").send_keys("acme-lte-r2.lua")  # a new file next to acme-lte-r1.lua
            box.send_keys('return profile { name = "acme-lte-r2", extends = "acme-lte-r1", match = { oui = "00D09E", product_class = "LTE-R2" } }')
            d.find_element(By.ID, "validate-profile").click()
            toast(d, r"Valid: acme-lte-r2")
            shot(d, "12-profile", full=False)
            # Validation installed nothing.
            names = [p["name"] for p in c.api("GET", "/profiles")[1]["profiles"]]
            assert "acme-lte-r2" not in names and "acme-lte-r1" in names, names
            # Save and load (superadmin): written to the profiles directory, loaded at once, kept in the history.
            d.find_element(By.ID, "save-profile").click()
            toast(d, r"Loaded: profiles/acme-lte-r2\.lua")
            names = [p["name"] for p in c.api("GET", "/profiles")[1]["profiles"]]
            assert "acme-lte-r2" in names, names
            d.get(c.base + "/admin/script-versions")
            d.find_element(By.LINK_TEXT, "acme-lte-r2.lua").click()
            diff = wait_for("the diff", lambda: d.find_element(By.ID, "script-diff").text)
            assert '+return profile { name = "acme-lte-r2"' in diff, diff
            shot(d, "12b-script-version", full=False)
        _()

        @test("campaigns: inventory selection, dry run preview, start, progress reaches 100 %")
        def _():
            d.get(c.base + "/devices?sort=serial")
            picked = [devices[f"GUI00000{i}"] for i in range(3)]
            for x in picked:
                d.find_element(By.CSS_SELECTOR, f"input[name='sel'][value='{x['id']}']").click()
            d.find_element(By.ID, "bulk-campaign").click()
            WebDriverWait(d, WAIT).until(EC.url_contains("/admin/campaigns"))
            area = WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "c-script")))
            script = wait_for("the form prefilled with the selection", lambda: "ids = {" in area.get_attribute("value") and area.get_attribute("value"))
            assert all(str(x["id"]) in script for x in picked), script
            # The operator writes the change in apply(dev) (typed into the textarea like a person would).
            d.execute_script("arguments[0].value = arguments[0].value.replace(arguments[1], arguments[2])", area,
                             '-- e.g. dev:set("wifi.ssid", "Guest")', 'dev:set("wifi.ssid", "Camp-" .. dev.serial:sub(-4))')
            d.find_element(By.ID, "c-name").send_keys("gui-rename.lua")
            d.find_element(By.ID, "c-dry").click()
            wait_for("the dry-run preview", lambda: len(d.find_elements(By.CSS_SELECTOR, "#c-preview-table tbody tr")) == 3)
            preview = d.find_element(By.ID, "c-preview-table").text
            assert "set Device.WiFi.SSID.1.SSID=Camp-0000" in preview, preview
            assert "3 devices" in d.find_element(By.ID, "c-output").text
            assert c.api("GET", "/campaigns")[1]["campaigns"] == [], "a dry run wrote a campaign"
            shot(d, "13-campaign-dry-run")
            d.find_element(By.ID, "c-start").click()
            WebDriverWait(d, WAIT).until(EC.alert_is_present()).accept()
            wait_for("the start message", lambda: re.search(r"Campaign #\d+ .* started: 3 devices", d.find_element(By.ID, "c-output").text))
            row = lambda: d.find_element(By.CSS_SELECTOR, "#campaigns tbody tr[data-campaign]")
            wait_for("progress to reach 100 % (the list polls)", lambda: "100 %" in row().find_element(By.CLASS_NAME, "pct").text
                     and "done" in row().text, timeout=60)
            assert row().find_element(By.TAG_NAME, "progress").get_attribute("value") == "100"
            shot(d, "14-campaigns")
            for x in picked:  # read back from the CPE itself
                st, t = c.api("POST", f"/devices/{x['id']}/tasks", {"action": "get", "paths": ["Device.WiFi.SSID.1.SSID"], "connection_request": True})
                assert st == 200 and t["result"]["values"][0]["value"] == "Camp-" + x["serial"][-4:], (st, t)
            camp = c.api("GET", "/campaigns")[1]["campaigns"][0]
            assert camp["state"] == "done" and camp["progress"]["percent"] == 100 and camp["created_by"] == "admin", camp
            row().find_element(By.LINK_TEXT, "selected devices").click()
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "campaign-devices")))
            devices_text = d.find_element(By.ID, "campaign-devices").text
            assert all(x["serial"] in devices_text for x in picked) and devices_text.count("done") >= 3, devices_text
            shot(d, "15-campaign-detail")
        _()

        @test("reports: run a library report and an ad-hoc one, download CSV")
        def _():
            d.get(c.base + "/admin/reports")
            assert not d.find_element(By.ID, "r-script").is_displayed(), "the ad-hoc editor shows before it is chosen"
            Select(d.find_element(By.ID, "r-library")).select_by_value("software-census")
            assert not d.find_element(By.ID, "r-offline-days").is_displayed(), "another report's arguments show"
            d.find_element(By.ID, "r-run").click()
            wait_for("report rows", lambda: len(d.find_elements(By.CSS_SELECTOR, "#r-table tbody tr")) >= 2)
            table = d.find_element(By.ID, "r-table").text
            assert "software_version" in table and "devices" in table, table
            assert re.search(r"\d+ rows", d.find_element(By.ID, "r-output").text)
            shot(d, "16-report")
            d.find_element(By.ID, "r-csv").click()
            wait_for("the CSV download", lambda: "CSV downloaded" in d.find_element(By.ID, "r-output").text)
            Select(d.find_element(By.ID, "r-library")).select_by_value("offline")
            assert d.find_element(By.ID, "r-offline-days").is_displayed()
            Select(d.find_element(By.ID, "r-library")).select_by_value("")
            ed = d.find_element(By.ID, "r-script")
            ed.clear()
            ed.send_keys('report { columns = { "serial", "model" } }\nfor dev in devices { text = "GUI00000", order = "serial" } do emit(dev) end')
            d.find_element(By.ID, "r-run").click()
            wait_for("7 ad-hoc rows", lambda: len(d.find_elements(By.CSS_SELECTOR, "#r-table tbody tr")) == 7)
            ed.clear()
            ed.send_keys("report { columns = { 'a' } }\nerror('no such thing')")
            d.find_element(By.ID, "r-run").click()
            wait_for("the Lua error", lambda: "no such thing" in d.find_element(By.ID, "r-output").text)
            shot(d, "17-report-error", full=False)
        _()

        @test("firmware: upload an image, start a rollout, every device upgrades")
        def _():
            # Still signed in as admin (the RBAC test below signs out). Every device of the organisation is a target:
            # the 5 TR-181 and 2 TR-098 GUI CPEs and the ACME LTE router added above, all online, all on 1.0.0.
            known = c.api("GET", "/devices?limit=50")[1]["devices"]
            assert sorted(x["serial"] for x in known) == sorted(list(devices) + ["LTE000000"]), [x["serial"] for x in known]
            assert all(x["software_version"] != "7.7.7" for x in known), known
            expected = len(known)  # 8
            image = os.path.join(c.data, "gui-fw-7.7.7.bin")  # the file name is the name CPEs see: letters, digits, . _ -
            with open(image, "wb") as f:
                f.write(b"CORRAL-FIRMWARE 7.7.7\n" + os.urandom(3000))
            digest = hashlib.sha256(open(image, "rb").read()).hexdigest()

            def no_error(form_id):  # a refused request shows in the form's <output>: fail with its text
                out = d.find_element(By.CSS_SELECTOR, f"#{form_id} output")
                if "err" in (out.get_attribute("class") or ""):
                    raise AssertionError(f"#{form_id}: {out.text}")
                return True

            d.find_element(By.LINK_TEXT, "Firmware").click()
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "firmware-images")))
            assert "No firmware images yet" in d.find_element(By.ID, "firmware-images").text
            assert not d.find_elements(By.ID, "rollout-start"), "a start form without an image"
            d.find_element(By.ID, "fw-file").send_keys(image)
            d.find_element(By.ID, "fw-version").send_keys("7.7.7")
            d.find_element(By.CSS_SELECTOR, "#firmware-upload button[type='submit']").click()
            # The form reloads the page once the API took the file.
            wait_for("the image in the list", lambda: no_error("firmware-upload") and "7.7.7" in d.find_element(By.ID, "firmware-images").text)
            images = d.find_element(By.ID, "firmware-images").text
            assert "gui-fw-7.7.7.bin" in images and digest[:16] in images and "admin" in images, images
            fw = c.api("GET", "/firmware")[1]["firmware"]
            assert len(fw) == 1 and fw[0]["version"] == "7.7.7" and fw[0]["sha256"] == digest and fw[0]["size"] == os.path.getsize(image), fw

            form = WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "rollout-start")))
            Select(form.find_element(By.ID, "ro-version")).select_by_value("7.7.7")
            waves = form.find_element(By.ID, "ro-waves")
            waves.clear()
            waves.send_keys("100%")
            form.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
            WebDriverWait(d, WAIT).until(EC.alert_is_present()).accept()
            # No data-then: the rollouts table (data-poll) refreshes in place.
            def listed():
                no_error("rollout-start")
                row = d.find_element(By.CSS_SELECTOR, "#firmware-rollouts tbody tr[data-rollout]")
                return "7.7.7" in row.text and (row.get_attribute("data-rollout"), row.find_element(By.TAG_NAME, "a").get_attribute("href"), row.text)
            rid, href, text = wait_for("the rollout in the list", listed)
            assert href == f"{c.base}/firmware/rollouts/{rid}" and "every device" in text and "admin" in text, (href, text)
            shot(d, "20-firmware")

            # The runner queues the downloads (every 5 s) and wakes the CPEs; each fetches the image, reboots into
            # 7.7.7 and informs; the next pass counts it upgraded and finishes the single wave. The page polls every 3 s.
            d.get(c.base + f"/firmware/rollouts/{rid}")
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "rollout-progress")))
            state = lambda: d.find_element(By.CSS_SELECTOR, "#rollout-progress .badge").text
            wait_for("the rollout to end (the page refreshes itself)", lambda: state() in ("finished", "stopped", "cancelled"), timeout=90)
            progress = d.find_element(By.ID, "rollout-progress").text
            m = re.search(r"(\d+): upgraded (\d+) · failed (\d+)", progress)
            assert state() == "finished" and m and [int(g) for g in m.groups()] == [expected, expected, 0], \
                (progress, d.find_element(By.ID, "rollout-failures").text)
            assert "100 %" in progress and f"{expected} upgraded, 0 failed, 0 already on 7.7.7" in progress, progress
            wave = [td.text for td in d.find_elements(By.CSS_SELECTOR, "#rollout-waves tbody tr td")]
            assert wave[:5] == ["1", "100 %", str(expected), str(expected), "0"], wave
            assert "No failures." in d.find_element(By.ID, "rollout-failures").text
            shot(d, "21-firmware-rollout")
            # The devices themselves report the new version (their Informs after the reboot).
            after = {x["serial"]: x["software_version"] for x in c.api("GET", "/devices?limit=50")[1]["devices"]}
            assert set(after.values()) == {"7.7.7"} and len(after) == expected, after
            st, r = c.api("GET", f"/rollouts/{rid}")
            assert st == 200 and r["state"] == "finished" and r["upgraded"] == expected and r["created_by"] == "admin", r
        _()

        @test("webhooks: add one through the form (secret shown once), send a test event, see it delivered and signed")
        def _():
            received = []  # (X-Corral-Signature, X-Corral-Event, body) of every POST to the local receiver

            class Hook(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    received.append((self.headers.get("X-Corral-Signature"), self.headers.get("X-Corral-Event"), body))
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

                def log_message(self, *args):
                    pass

            receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
            threading.Thread(target=receiver.serve_forever, daemon=True).start()
            try:
                hook_url = f"http://127.0.0.1:{receiver.server_port}/corral"
                d.find_element(By.LINK_TEXT, "Webhooks").click()  # still signed in as admin
                WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "webhook-create")))
                assert "No webhooks yet" in d.find_element(By.ID, "webhooks").text
                d.find_element(By.ID, "wh-url").send_keys(hook_url)
                d.find_element(By.ID, "wh-events").send_keys("device.*, webhook.test")
                d.find_element(By.ID, "wh-description").send_keys("GUI test receiver")
                d.find_element(By.CSS_SELECTOR, "#webhook-create button[type='submit']").click()

                def answered():
                    out = d.find_element(By.CSS_SELECTOR, "#webhook-create output")
                    if "err" in (out.get_attribute("class") or ""):
                        raise AssertionError(f"#webhook-create: {out.text}")
                    return re.search(r"Webhook #(\d+) created\..*not be shown again\): (\S+)", out.text)
                m = wait_for("the new webhook's secret below the button", answered)
                hid, secret = m.group(1), m.group(2)
                # No reload: the list refreshes in place, the answer stays.
                wait_for("the webhook in the list", lambda: d.find_elements(By.CSS_SELECTOR, f"#webhooks tr[data-webhook='{hid}']"))
                row = d.find_element(By.CSS_SELECTOR, f"#webhooks tr[data-webhook='{hid}']").text
                assert hook_url in row and "device.*" in row and "webhook.test" in row and "enabled" in row and "GUI test receiver" in row, row
                shot(d, "22-webhooks")
                st, w = c.api("GET", f"/webhooks/{hid}")
                assert st == 200 and w["events"] == ["device.*", "webhook.test"] and w["url"] == hook_url and "secret" not in w, w
                d.refresh()
                assert secret not in d.page_source, "the secret is shown again"

                d.find_element(By.CSS_SELECTOR, f"#webhooks tr[data-webhook='{hid}'] a").click()
                WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "webhook-test")))
                d.find_element(By.CSS_SELECTOR, "#webhook-test button").click()
                toast(d, "Test event queued")
                wait_for("the test delivery in the log (it refreshes itself)",
                         lambda: any("webhook.test" in r.text and "delivered" in r.text
                                     for r in d.find_elements(By.CSS_SELECTOR, "#webhook-deliveries tr[data-delivery]")), timeout=30)
                tests = [(sig, body) for sig, kind, body in received if kind == "webhook.test"]
                assert len(tests) == 1, received
                sig, body = tests[0]
                assert sig == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), (sig, body)
                assert json.loads(body)["event"] == "webhook.test", body
                shot(d, "23-webhook")
                d.find_element(By.CSS_SELECTOR, "#webhook-disable button").click()
                WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "webhook-enable")))
                assert c.api("GET", f"/webhooks/{hid}")[1]["enabled"] is False
            finally:
                receiver.shutdown()
                receiver.server_close()
        _()

        @test("RBAC: a viewer sees no actions and the server refuses a forged POST")
        def _():
            d.find_element(By.CSS_SELECTOR, ".who button").click()  # log out
            WebDriverWait(d, WAIT).until(EC.url_contains("/login"))
            login(d, c.base, "noc-viewer", c.viewer_password, f"/devices/{target['id']}")
            WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "summary")))
            page = d.page_source
            for marker in ["act-reboot", "act-summon", "set-ssid-0", "act-factory-reset", "act-diagnose", "data-api=\"/api/v1/devices"]:
                assert marker not in page, f"viewer sees {marker}"
            assert "can view this device, not act on it" in page
            shot(d, "09-device-viewer", full=False)
            d.get(c.base + "/devices")
            assert not d.find_elements(By.CSS_SELECTOR, ".bulk form"), "viewer sees bulk actions"
            # Forged: the viewer's own session and CSRF token, straight to the API.
            status = d.execute_async_script("""
                const done = arguments[arguments.length - 1];
                const csrf = document.querySelector('meta[name=csrf-token]').content;
                fetch('/api/v1/devices/%d/tasks', {method: 'POST', credentials: 'same-origin',
                    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                    body: JSON.stringify({action: 'reboot', connection_request: true})}).then(r => done(r.status));
            """ % target["id"])
            assert status == 403, status
            # ...and without the CSRF token a cookie session is refused too.
            status = d.execute_async_script("""
                const done = arguments[arguments.length - 1];
                fetch('/api/v1/devices/%d', {method: 'PATCH', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
                    body: '{"location":"x"}'}).then(r => done(r.status));
            """ % target["id"])
            assert status == 403, status
            d.get(c.base + "/admin/campaigns")
            assert "done" in d.find_element(By.ID, "campaigns").text
            assert not d.find_elements(By.CSS_SELECTOR, "form[data-campaign], #campaigns form"), "viewer sees campaign actions"
            d.get(c.base + "/admin/users")
            assert "Forbidden" in d.find_element(By.TAG_NAME, "h1").text
            assert not d.find_elements(By.LINK_TEXT, "Webhooks"), "viewer sees the Webhooks link"
            d.get(c.base + "/webhooks")
            assert "Forbidden" in d.find_element(By.TAG_NAME, "h1").text
            a = c.api("GET", "/audit?actor=noc-viewer&action=task.create")[1]["entries"]
            assert a and a[0]["status"] == 403, a
        _()

        @test("two-factor: enrol on the account page (the QR code scans), then sign-in asks for the code")
        def _():
            d.find_element(By.CSS_SELECTOR, ".who button").click()  # log out the viewer
            WebDriverWait(d, WAIT).until(EC.url_contains("/login"))
            password = "second-factor-" + secrets.token_hex(4)
            c.cli("user", "add", "noc-2fa", "--role", "admin", "--organisation-id", "1", "--password-stdin", stdin=password + "\n")
            login(d, c.base, "noc-2fa", password, "/account")
            d.find_element(By.ID, "tf-start").click()
            secret = wait_for("the enrolment key", lambda: d.find_element(By.ID, "totp-secret").text.strip())
            qr = d.find_element(By.CSS_SELECTOR, ".qr svg")
            assert qr.size["width"] >= 150, qr.size
            assert len(d.find_elements(By.CSS_SELECTOR, "#recovery-codes li")) == 10
            png = os.path.join(SHOTS, "18-two-factor-qr.png")
            os.makedirs(SHOTS, exist_ok=True)
            qr.screenshot(png)
            scanned = subprocess.run(["zbarimg", "--raw", "-q", png], capture_output=True, text=True, timeout=30).stdout.strip()
            assert scanned.startswith("otpauth://totp/Corral:noc-2fa?secret=" + secret), scanned
            shot(d, "19-two-factor-enrol")
            d.find_element(By.ID, "tf-code").send_keys(totp(secret, int(time.time()) // 30))
            d.find_element(By.ID, "tf-confirm").click()
            wait_for("two-factor on", lambda: "On." in d.find_element(By.ID, "two-factor-on").text)
            d.find_element(By.CSS_SELECTOR, ".who button").click()
            WebDriverWait(d, WAIT).until(EC.url_contains("/login"))
            d.find_element(By.ID, "username").send_keys("noc-2fa")
            d.find_element(By.ID, "password").send_keys(password)
            d.find_element(By.ID, "signin").click()
            toast(d, "authenticator app")
            d.find_element(By.ID, "totp").send_keys(totp(secret, int(time.time()) // 30 + 1))  # the confirming code was spent
            d.find_element(By.ID, "signin").click()
            WebDriverWait(d, WAIT).until(lambda d: "/login" not in d.current_url)
            a = c.api("GET", "/audit?actor=noc-2fa&action=me.two_factor_confirm")[1]["entries"]
            assert a and a[0]["status"] == 200, a
        _()

        @test("onboarding page: a CPE with a wrong password is listed with its hint; a device deleted from its page")
        def _():
            # Still signed in as noc-2fa (admin of the root organisation: it sees attempts of unknown devices).
            bad = c.sim(1, "tr181", "BADPW", password="not-the-onboarding-password", log_name="badpw")
            try:
                d.get(c.base + "/devices")
                d.find_element(By.LINK_TEXT, "Onboarding").click()
                WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, "not-listed")))
                assert "Device not listed?" in d.find_element(By.ID, "not-listed").text
                # No reload: the table refreshes itself (the server writes refusals every 2 s, the page polls every 10 s).
                row = wait_for("the wrong_password row of the BADPW CPE",
                               lambda: [r for r in d.find_elements(By.CSS_SELECTOR, "#onboarding-attempts tr[data-reason='wrong_password']")
                                        if "BADPW000000" in r.text], timeout=45)[0]
                assert "corral-tr181" in row.text and "127.0.0.1" in row.text and "00C0FF" in row.text, row.text
                assert "password does not match" in d.find_element(By.ID, "reason-hints").text
                d.find_element(By.ID, "ob-search").send_keys("BADPW")
                d.find_element(By.ID, "ob-apply").click()
                wait_for("only the BADPW rows", lambda: "search=BADPW" in d.current_url and d.find_elements(By.CSS_SELECTOR, "#onboarding-attempts tr[data-attempt]")
                         and all("BADPW" in r.text for r in d.find_elements(By.CSS_SELECTOR, "#onboarding-attempts tr[data-attempt]")))
                shot(d, "24-onboarding")
            finally:
                bad.terminate()  # it would keep failing (and throttle the onboarding username)
            victim = devices["GUI000006"]
            d.get(c.base + f"/devices/{victim['id']}")
            d.find_element(By.ID, "act-delete").click()
            prompt = WebDriverWait(d, WAIT).until(EC.alert_is_present())
            assert victim["name"] in prompt.text, prompt.text
            prompt.send_keys(victim["name"])
            prompt.accept()
            WebDriverWait(d, WAIT).until(EC.url_to_be(c.base + "/devices"))
            wait_for("the inventory without the deleted device", lambda: rows(d) and all(victim["name"] not in r.text for r in rows(d)))
            assert c.api("GET", f"/devices/{victim['id']}")[0] == 404
            a = c.api("GET", "/audit?action=device.delete")[1]["entries"]
            assert a and a[0]["actor"] == "noc-2fa" and a[0]["status"] == 204, a
        _()

        @test("live: a new CPE shows in the inventory from the event stream; a device page follows its task")
        def _():
            # Still signed in as noc-2fa. The inventory's rows are a live part: one EventSource on /api/v1/events.
            d.get(c.base + "/devices")
            indicator = wait_for("the header to say live", lambda: d.find_element(By.ID, "live").text == "\u25cf live" and d.find_element(By.ID, "live"),
                                 timeout=15)
            assert "Server-Sent Events" in indicator.get_attribute("title"), indicator.get_attribute("title")
            body = d.find_element(By.ID, "rows")
            d.execute_script("arguments[0].dataset.marker = 'not reloaded'", body)
            loaded = time.time()
            sim = c.sim(1, "tr181", "LIVE", log_name="live")
            try:
                live = wait_for("the LIVE CPE to onboard", lambda: next((x for x in c.api("GET", "/devices?limit=50")[1]["devices"]
                                                                        if x["serial"] == "LIVE000000"), None), timeout=45)
                onboarded = time.time()
                # Its device.bootstrap / device.boot / device.onboarded events re-read the rows within a second or two; the
                # fallback poll is 60 s after the page loaded (and data-updated-by says which one changed the rows).
                row = wait_for("the new row without a reload", lambda: [r for r in rows(d) if "LIVE000000" in r.text], timeout=10)[0]
                took = time.time() - onboarded
                assert body.get_attribute("data-marker") == "not reloaded", "the page was reloaded"
                assert body.get_attribute("data-updated-by") == "event", (body.get_attribute("data-updated-by"), time.time() - loaded)
                assert "online" in row.text, row.text
                log(f"     the new CPE showed {took:.1f} s after it onboarded ({time.time() - loaded:.0f} s after the page loaded)")
                shot(d, "25-live-inventory", full=False)

                # The device page: its tasks part re-reads on this device's task.done (the API call returns once it is done).
                d.get(c.base + f"/devices/{live['id']}")
                wait_for("the device page to say live", lambda: d.find_element(By.ID, "live").text == "\u25cf live", timeout=15)
                tasks = d.find_element(By.ID, "tasks")
                assert tasks.get_attribute("data-live-device") == str(live["id"]), tasks.get_attribute("data-live-device")
                st, t = c.api("POST", f"/devices/{live['id']}/tasks", {"action": "get", "paths": ["Device.DeviceInfo.SoftwareVersion"], "connection_request": True})
                assert st == 200 and t["state"] == "done", (st, t)
                wait_for("the task in the list, done", lambda: "done" in d.find_element(By.CSS_SELECTOR, f"#tasks tr[data-task='{t['id']}']").text, timeout=10)
                assert tasks.get_attribute("data-updated-by") == "event", tasks.get_attribute("data-updated-by")
            finally:
                sim.terminate()
        _()

        @test("tablet width: the inventory stays usable")
        def _():
            d.set_window_size(800, 1100)
            d.get(c.base + "/devices")
            assert d.find_element(By.ID, "apply").is_displayed()
            d.save_screenshot(os.path.join(SHOTS, "10-inventory-tablet.png"))
            d.set_window_size(1366, 1000)
        _()

        log(f"{len(PASSED)} browser tests passed; screenshots in {SHOTS}")
        return 0
    except Exception as e:  # noqa: BLE001 - report any failure with context
        log(f"FAIL: {getattr(e, 'msg', None) or e!r}")
        if d:
            try:
                shot(d, "failure", full=False)
                log(f"     at {d.current_url}; screenshot failure.png")
            except Exception:
                pass
        for f in ["serve.log", "sim-tr181.log"]:
            p = os.path.join(c.data, f)
            if os.path.exists(p):
                log(f"--- {f}\n" + open(p).read()[-3000:])
        return 1
    finally:
        if d:
            d.quit()
        c.stop()


if __name__ == "__main__":
    sys.exit(main())
