#!/usr/bin/python3
"""The web dashboard in a real browser, against a real sluiced with simulated clients.

Debian's chromium (headless) through Debian's chromedriver and python3-selenium; nothing is
downloaded. The test starts sluiced on a temporary data dir and a free loopback port, makes an
admin account with sluicectl, enrolls a fleet with sluice-load (10,000 clients by default),
starts a throttled rollout whose clients wait connected for slots, enrolls one client whose
platform and console user are <script> / <img onerror> strings (spoken by sluice_wire.py from
docs/protocol.md), and then, in the browser:

  1. checks the security headers of / (CSP, HSTS, nosniff, frame deny);
  2. logs in and sees the whole fleet on the overview;
  3. raises the jump-client limit on the upgrade settings page and watches the waiting clients
     get the new slots on the rollout page (and the change in the audit log);
  4. finds one client among the fleet by search, and opens its detail;
  5. finds the hostile client and sees its strings as inert text (window.__pwned stays
     undefined, no CSP violation is reported);
  6. creates an installer (with a hostile tag too) and downloads its MSI (OLE magic D0 CF 11 E0);
  7. checks the site's update source (a base update signed with a vendor key made for the run),
     installs it from the site-updates page and issues an offline download key.

With SLUICE_SCREENSHOT_DIR set, the overview and rollout pages are saved there as
dashboard-overview.png and dashboard-rollout.png (scripts/dashboard_screenshots.sh).

Usage: dashboard_test.py --bin-dir BUILD/bin [--clients N] [--budget-s S]
Every wait is bounded; the whole run is bounded by --budget-s (default 230 s).
"""

import argparse
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_wire  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN = "night-admin"
PASSWORD = "correct horse battery staple"
XSS_PLATFORM = "<script>window.__pwned=1</script>"
XSS_CONSOLE_USER = '<img src=x onerror="window.__pwned=2">'
XSS_TAG = "<script>window.__pwned=3</script>"
ROLLOUT_CLIENTS = 300
START_LIMIT = 2
RAISED_LIMIT = 40
BASE_VERSION = "5.0.0"


class Budget(Exception):
    pass


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_for(what, predicate, timeout_s, interval_s=0.2):
    """Polls `predicate` until it returns a truthy value (returned) or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (StaleElementReferenceException, sluice_wire.AdminError, OSError) as e:
            last_error = e
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}"
                       + (f" (last error: {last_error})" if last_error else ""))


class Site:
    """A sluiced on a temporary data dir, and the processes the test starts around it."""

    def __init__(self, bin_dir, work, extra_args=()):
        self.bin_dir = bin_dir
        self.work = work
        self.extra_args = list(extra_args)
        self.data_dir = os.path.join(work, "site")
        self.log_path = os.path.join(work, "sluiced.log")
        self.children = []
        self.server = None
        self.endpoint = None

    def start(self):
        log_file = open(self.log_path, "wb")
        self.server = subprocess.Popen(
            [os.path.join(self.bin_dir, "sluiced"), "--data-dir", self.data_dir,
             "--listen", "127.0.0.1:0", "--log-level", "warn", *self.extra_args],
            stdout=log_file, stderr=subprocess.STDOUT)
        self.children.append(self.server)
        endpoint_file = os.path.join(self.data_dir, "run", "endpoint")

        def ready():
            if self.server.poll() is not None:
                raise RuntimeError(f"sluiced exited with {self.server.returncode}:\n{self.log_tail()}")
            if os.path.exists(endpoint_file) and os.path.exists(os.path.join(self.data_dir, "run", "admin.sock")):
                text = open(endpoint_file).read().strip()
                return text or None
            return None

        self.endpoint = wait_for("sluiced to listen", ready, 30)
        host, port = self.endpoint.rsplit(":", 1)
        if host in ("0.0.0.0", "", "[::]"):
            host = "127.0.0.1"
        self.endpoint = f"{host}:{port}"
        log(f"sluiced listening on {self.endpoint}")

    @property
    def url(self):
        return f"https://{self.endpoint}"

    def ctl(self, *args, timeout_s=60):
        result = subprocess.run([os.path.join(self.bin_dir, "sluicectl"), "--data-dir", self.data_dir,
                                 *args], capture_output=True, text=True, timeout=timeout_s)
        if result.returncode != 0:
            raise RuntimeError(f"sluicectl {' '.join(args)} failed ({result.returncode}): "
                               f"{result.stdout}{result.stderr}")
        return result.stdout

    def admin(self, cmd, args=None, timeout_s=60):
        return sluice_wire.admin(self.data_dir, cmd, args, timeout_s)

    def load(self, *args, background=False, timeout_s=180):
        command = [os.path.join(self.bin_dir, "sluice-load"), *args, "--attach", self.data_dir,
                   "--no-progress", "--json"]
        out = open(os.path.join(self.work, f"load-{args[0]}.log"), "wb")
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self.children.append(process)
        if background:
            return process
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"sluice-load {args[0]} took over {timeout_s} s")
        if code != 0:
            raise RuntimeError(f"sluice-load {' '.join(args)} exited {code}: "
                               f"{open(out.name, errors='replace').read()[-2000:]}")
        return process

    def log_tail(self, n=40):
        try:
            return "".join(open(self.log_path, errors="replace").readlines()[-n:])
        except OSError:
            return ""

    def stop_server(self):
        """Stops sluiced with SIGTERM and returns its exit status (a sanitizer report makes it
        non-zero)."""
        if self.server is None or self.server.poll() is not None:
            return self.server.returncode if self.server else 0
        self.server.terminate()
        try:
            return self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(timeout=10)
            return "killed after 30 s"

    def stop(self):
        for process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.children):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def check_security_headers(site):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    with opener.open(site.url + "/", timeout=15) as response:
        headers = response.headers
        body = response.read()
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("default-src") == "default-src 'none'", f"CSP: {csp!r}"
    assert directives.get("script-src") == "script-src 'self'", f"CSP: {csp!r}"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, f"CSP: {csp!r}"
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", f"CSP: {csp!r}"
    hsts = headers.get("Strict-Transport-Security", "")
    assert re.search(r"max-age=\d{6,}", hsts), f"HSTS: {hsts!r}"
    assert headers.get("X-Content-Type-Options", "").lower() == "nosniff", headers
    assert headers.get("X-Frame-Options", "").upper() == "DENY", headers
    assert b'id="login-form"' in body, "GET / did not serve the dashboard"
    log("security headers of / are set")


def make_browser(download_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--ignore-certificate-errors", "--no-sandbox",
                "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-sync", "--disable-component-update", "--lang=en-US"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": download_dir,
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver's path is explicit, so selenium never looks for (or downloads) one.
    service = Service(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": download_dir})
    return driver


class Dashboard:
    """The browser side: small helpers over selenium, every wait bounded."""

    def __init__(self, driver, base_url, screenshot_dir):
        self.d = driver
        self.base = base_url
        self.screenshot_dir = screenshot_dir

    def go(self, route):
        self.d.get(f"{self.base}/#/{route}")

    def el(self, element_id):
        return self.d.find_element(By.ID, element_id)

    def testid(self, value):
        return self.d.find_element(By.CSS_SELECTOR, f'[data-testid="{value}"]')

    def wait(self, what, predicate, timeout_s=15):
        try:
            return WebDriverWait(self.d, timeout_s, poll_frequency=0.2,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d: predicate())
        except TimeoutException:
            raise TimeoutError(f"browser: timed out after {timeout_s} s waiting for {what}")

    def text(self, by_id=None, testid=None):
        node = self.el(by_id) if by_id else self.testid(testid)
        return node.text.strip()

    def number(self, **kwargs):
        digits = re.sub(r"[^\d]", "", self.text(**kwargs))
        return int(digits) if digits else None

    def rows(self, testid):
        return self.d.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def visible(self, element_id):
        return self.el(element_id).is_displayed()

    def type_into(self, element_id, text):
        node = self.el(element_id)
        node.clear()
        node.send_keys(text)

    def screenshot(self, name, height=1000):
        if not self.screenshot_dir:
            return
        os.makedirs(self.screenshot_dir, exist_ok=True)
        path = os.path.join(self.screenshot_dir, name)
        self.d.set_window_size(1400, height)
        time.sleep(1.2)  # a redraw at the new size (the chart redraws every second)
        self.d.save_screenshot(path)
        self.d.set_window_size(1400, 1000)
        log(f"screenshot {path}")

    def pwned(self):
        return self.d.execute_script("return typeof window.__pwned === 'undefined' ? null : window.__pwned")

    def csp_violations(self):
        return [e["message"] for e in self.d.get_log("browser")
                if "Content Security Policy" in e.get("message", "")]


class Fleet:
    """What set_up_fleet made: the hostile client, the running rollout, a client to look for."""

    def __init__(self, xss_id, rollout, target_id, total):
        self.xss_id = xss_id
        self.rollout = rollout
        self.target_id = target_id
        self.total = total


def set_up_fleet(site, args, work):
    """N clients enrolled (idle, then gone offline), one hostile client, a windows package so
    that installers can be built, then a rollout whose clients wait connected for slots."""
    started = time.monotonic()
    site.load("idle", "--clients", str(args.clients), "--settle-s", "0", "--timeout-s", "120",
              timeout_s=150)
    log(f"{args.clients} clients enrolled in {time.monotonic() - started:.0f} s")
    config = site.admin("client-config", {"kind": "jump-client", "mode": "passive"})["config"]
    xss_id = sluice_wire.enroll_and_check_in(config, platform=XSS_PLATFORM,
                                             console_user=XSS_CONSOLE_USER)
    log(f"hostile client {xss_id} enrolled")
    package = os.path.join(work, "jump-client-windows.bin")
    with open(package, "wb") as f:
        f.write(b"MZ" + os.urandom(4096))
    site.admin("package-add", {"kind": "jump-client", "platform": "windows-x86_64",
                               "version": "2.0.0", "path": package})
    rollout = site.load("rollout", "--clients", str(ROLLOUT_CLIENTS), "--limit", str(START_LIMIT),
                        "--apply-ms", "15000", "--package-kib", "64", "--connection-rate", "1000",
                        "--timeout-s", "200", background=True)

    def rollout_waiting():
        if rollout.poll() is not None:
            raise RuntimeError(f"sluice-load rollout exited early with {rollout.returncode}")
        scope = site.admin("limits")["limits"]["jump-client"]
        return scope["running"] == START_LIMIT and scope["waiting"] >= ROLLOUT_CLIENTS // 2

    wait_for("the rollout's clients to wait for slots", rollout_waiting, 60, 0.5)
    page = site.admin("clients-page", {"offset": args.clients // 2, "limit": 1, "sort": "id"})
    fleet = Fleet(xss_id, rollout, page["clients"][0]["id"], args.clients + ROLLOUT_CLIENTS + 1)
    log(f"rollout running: {START_LIMIT} slots, clients waiting; fleet of {fleet.total}")
    return fleet


def log_in(ui):
    ui.go("overview")
    ui.wait("the login form", lambda: ui.visible("login-form"))
    ui.type_into("login-name", ADMIN)
    ui.type_into("login-password", PASSWORD)
    ui.el("login-submit").click()
    ui.wait("the overview after login", lambda: ui.visible("page-overview"))
    assert ui.text("session-user") == ADMIN
    log("logged in")


def see_the_fleet(ui, fleet):
    ui.wait(f"the overview to count {fleet.total} clients",
            lambda: ui.number(testid="fleet-total-count") == fleet.total, 20)
    assert ui.number(testid="overview-clients-value") == fleet.total
    assert ui.text(testid="overview-site-version-value") == "2.0.0"
    fleet_text = ui.text("fleet-table")
    assert "jump-client" in fleet_text and "1.0.0" in fleet_text, fleet_text
    log("overview shows the fleet")


def raise_the_limit_and_watch(ui):
    # Clients waiting behind the limit.
    ui.go("rollout")
    ui.wait("the rollout page to show 2 running",
            lambda: ui.number(testid="rollout-running-jump-client") == START_LIMIT and
            ui.number(testid="rollout-limit-jump-client") == START_LIMIT, 20)
    waiting_before = ui.number(testid="rollout-waiting-jump-client")
    assert waiting_before >= ROLLOUT_CLIENTS // 2, waiting_before
    time.sleep(6)  # some chart at the old limit
    log(f"rollout page: {START_LIMIT} running, {waiting_before} waiting")

    # The settings page raises the jump-client limit.
    ui.go("settings")
    ui.wait("the limit input",
            lambda: ui.el("limit-input-jump-client").get_attribute("value") == str(START_LIMIT))
    ui.type_into("limit-input-jump-client", str(RAISED_LIMIT))
    ui.el("limit-apply-jump-client").click()
    ui.wait("the saved limit", lambda: ui.visible("settings-result") and
            f"max concurrent {RAISED_LIMIT}" in ui.text("settings-result"), 15)
    assert not ui.visible("settings-error")
    raised_at = time.monotonic()
    log(f"limit raised to {RAISED_LIMIT} from the settings page")

    # The waiting clients get the new slots, live.
    ui.go("rollout")
    ui.wait(f"{RAISED_LIMIT} upgrades running on the rollout page",
            lambda: ui.number(testid="rollout-running-jump-client") == RAISED_LIMIT and
            ui.number(testid="rollout-limit-jump-client") == RAISED_LIMIT, 20)
    waiting_after = ui.number(testid="rollout-waiting-jump-client")
    assert waiting_after <= waiting_before - (RAISED_LIMIT - START_LIMIT), (waiting_before, waiting_after)
    log(f"rollout page: {RAISED_LIMIT} running {time.monotonic() - raised_at:.1f} s after the "
        f"change, {waiting_after} waiting")
    legend = ui.text("rollout-legend")
    assert f"jump-client: {RAISED_LIMIT} in flight / limit {RAISED_LIMIT}" in legend, legend
    assert ui.d.find_elements(By.CSS_SELECTOR, "#rollout-chart svg path.running"), "no chart line"
    time.sleep(4)  # the step shows on the chart
    ui.screenshot("dashboard-rollout.png", height=1200)

    # The change is in the audit log.
    ui.go("audit")
    ui.wait("the audit table", lambda: ui.rows("audit-row"))
    ui.type_into("audit-event", "limit_change")
    ui.wait("the limit change in the audit log",
            lambda: any(f"{RAISED_LIMIT}" in row.text and "limit_change" in row.text
                        for row in ui.rows("audit-row")), 15)
    log("audit log shows the limit change")


def search_result_ids(ui):
    return [row.get_attribute("data-client-id") for row in ui.rows("client-row")]


def find_one_client(ui, fleet):
    ui.go("clients")
    ui.wait("the client list", lambda: ui.number(by_id="clients-total") == fleet.total, 20)
    assert len(ui.rows("client-row")) == 50
    ui.type_into("clients-search", fleet.target_id)
    ui.wait("the search to find one client", lambda: ui.number(by_id="clients-total") == 1 and
            search_result_ids(ui) == [fleet.target_id], 15)
    ui.d.find_element(By.CSS_SELECTOR, f'[data-client-id="{fleet.target_id}"] td:nth-child(2)').click()
    ui.wait("the client's detail", lambda: ui.visible("page-client") and
            ui.text(testid="client-id") == fleet.target_id, 15)
    log(f"found {fleet.target_id} among {fleet.total} and opened it")


def see_hostile_strings_as_text(ui, fleet):
    ui.go("clients")
    ui.type_into("clients-search", fleet.xss_id)
    ui.wait("the hostile client's row", lambda: search_result_ids(ui) == [fleet.xss_id], 15)
    row_text = ui.d.find_element(By.CSS_SELECTOR, f'[data-client-id="{fleet.xss_id}"]').text
    assert XSS_PLATFORM in row_text, row_text
    assert XSS_CONSOLE_USER in row_text, row_text
    ui.go(f"clients/{fleet.xss_id}")
    ui.wait("the hostile client's detail", lambda: ui.text(testid="client-id") == fleet.xss_id, 15)
    assert ui.text(testid="client-platform") == XSS_PLATFORM
    assert ui.text(testid="client-console-user") == XSS_CONSOLE_USER
    assert ui.pwned() is None, "a client-supplied string ran as script"
    assert not ui.d.find_elements(By.CSS_SELECTOR, "#main img, #main script:not([src])")
    log("hostile client strings render as text")


def create_and_download_installer(ui, download_dir):
    ui.go("installers")
    ui.wait("the installers page", lambda: ui.visible("installer-form") and
            "uninstall" in ui.text("installers-uninstall-note"))
    ui.type_into("installer-group", "Night shift")
    ui.type_into("installer-tag", XSS_TAG)
    ui.el("installer-create").click()
    ui.wait("the installer to be built", lambda: "Created installer" in ui.text("installer-result")
            or (ui.visible("installers-error") and ui.text("installers-error")), 90)
    assert not ui.visible("installers-error"), ui.text("installers-error")
    installer_id = re.search(r"Created installer (inst-[0-9a-f]+)", ui.text("installer-result")).group(1)
    ui.wait("the new installer's row",
            lambda: ui.d.find_elements(By.CSS_SELECTOR, f'[data-installer-id="{installer_id}"]'))
    assert ui.text(testid=f"installer-tag-{installer_id}") == XSS_TAG
    ui.testid(f"installer-download-{installer_id}").click()

    def downloaded():
        names = os.listdir(download_dir)
        done = [n for n in names if not n.endswith(".crdownload")]
        return done[0] if done and len(done) == len(names) else None

    msi = os.path.join(download_dir, wait_for("the MSI download", downloaded, 30))
    with open(msi, "rb") as f:
        magic = f.read(8)
    assert magic[:4] == b"\xd0\xcf\x11\xe0", f"{msi} is not an MSI (starts {magic.hex()})"
    assert msi.endswith(".msi"), msi
    log(f"installer {installer_id} downloaded: {os.path.basename(msi)}, "
        f"{os.path.getsize(msi)} bytes, OLE compound file")


def make_update_source(bin_dir, work):
    """A vendor key and an update source holding one signed base update; sluiced's arguments."""
    vendor = os.path.join(work, "vendor-key")
    source = os.path.join(work, "update-source")
    os.makedirs(source)
    sluicectl = os.path.join(bin_dir, "sluicectl")
    for command in ([sluicectl, "update", "keygen", "--out", vendor],
                    [sluicectl, "update", "build", "--signing-key", vendor, "--kind", "base",
                     "--version", BASE_VERSION, "--out", os.path.join(source, "base.bundle")]):
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return ["--update-trust-key", vendor + ".pub", "--update-source", source]


def install_a_site_update(ui):
    update_id = f"base-{BASE_VERSION}"
    ui.go("updates")
    ui.el("updates-check").click()
    ui.wait("the update source's updates",
            lambda: ui.d.find_elements(By.CSS_SELECTOR, f'[data-testid="update-install-{update_id}"]'))
    # The check re-renders the list (entering the page loads it too): click whichever button is
    # current, retrying one replaced under the click.
    ui.wait("the install button to take a click",
            lambda: ui.testid(f"update-install-{update_id}").click() or True)
    ui.wait("the install's result", lambda: f"Installed {update_id}" in ui.text("update-result")
            or (ui.visible("updates-error") and ui.text("updates-error")), 60)
    assert not ui.visible("updates-error"), ui.text("updates-error")
    assert f"base version {BASE_VERSION}" in ui.text("update-result"), ui.text("update-result")
    ui.wait("the installed list", lambda: update_id in ui.text("updates-installed"))
    ui.el("dlkey-create").click()
    ui.wait("the download key", lambda: ui.visible("dlkey-box") and ui.el("dlkey-text").get_attribute("value"))
    assert f"base {BASE_VERSION}" in ui.text("dlkey-meta"), ui.text("dlkey-meta")
    log(f"update {update_id} installed from the site-updates page; download key issued")


def run(args, work):
    site = Site(args.bin_dir, work, make_update_source(args.bin_dir, work))
    driver = None
    try:
        site.start()
        password_file = os.path.join(work, "password")
        with open(password_file, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(password_file, 0o600)
        site.ctl("admin", "add", ADMIN, "--password-file", password_file)
        log(f"admin {ADMIN} added")
        check_security_headers(site)
        fleet = set_up_fleet(site, args, work)

        download_dir = os.path.join(work, "downloads")
        os.makedirs(download_dir)
        driver = make_browser(download_dir)
        ui = Dashboard(driver, site.url, os.environ.get("SLUICE_SCREENSHOT_DIR"))
        log_in(ui)
        see_the_fleet(ui, fleet)
        raise_the_limit_and_watch(ui)
        find_one_client(ui, fleet)
        see_hostile_strings_as_text(ui, fleet)
        create_and_download_installer(ui, download_dir)
        install_a_site_update(ui)
        assert ui.pwned() is None, "a client-supplied string ran as script"
        if ui.screenshot_dir:  # by now the first upgrades have finished: two versions to show
            ui.go("overview")
            see_the_fleet(ui, fleet)
            ui.screenshot("dashboard-overview.png", height=760)
        violations = ui.csp_violations()
        assert not violations, f"CSP violations: {violations}"
        log("no script ran from client-supplied strings; no CSP violation")

        driver.quit()
        driver = None
        fleet.rollout.terminate()
        fleet.rollout.wait(timeout=20)
        status = site.stop_server()
        assert status == 0, f"sluiced exited with {status} after SIGTERM:\n{site.log_tail()}"
        log("sluiced stopped cleanly")
    except BaseException:
        if driver is not None:
            try:
                path = os.path.join(work, "failure.png")
                driver.save_screenshot(path)
                print(f"failure screenshot: {path}", file=sys.stderr)
                for entry in driver.get_log("browser"):
                    print(f"browser: {entry}", file=sys.stderr)
            except Exception:  # noqa: BLE001 - best effort while failing
                pass
        print(f"--- sluiced log (tail) ---\n{site.log_tail()}", file=sys.stderr)
        raise
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        site.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", required=True, help="the build's bin directory")
    parser.add_argument("--clients", type=int, default=10_000, help="fleet size")
    parser.add_argument("--budget-s", type=int, default=230, help="bound on the whole run")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    args.bin_dir = os.path.abspath(args.bin_dir)
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is missing: run scripts/setup.sh (chromium chromium-driver python3-selenium)")

    def over_budget(signum, frame):
        raise Budget(f"the browser test ran over its {args.budget_s} s budget")

    signal.signal(signal.SIGALRM, over_budget)
    signal.alarm(args.budget_s)
    work = tempfile.mkdtemp(prefix="sluice-browser-")
    started = time.monotonic()
    ok = False
    try:
        run(args, work)
        ok = True
    except BaseException:
        traceback.print_exc()
    finally:
        signal.alarm(0)
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}", file=sys.stderr)
    log(f"{'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
