#!/usr/bin/env python3
"""Checks `dock serve` from outside, as its users meet it, over real sockets.

- browser: the standalone purchase in headless Chromium. A shop buys through the API, the customer
  opens the checkout URL the purchase returned and clicks Pay; then the invoice must be paid, the
  client active and exactly one licence issued.
- contract: schemathesis over /openapi.yaml with an admin key, on SQLite and, when
  CLIENTSUITE_TEST_POSTGRES_URL is set, on a fresh PostgreSQL database. It must find no 5xx and no
  answer that breaks the document.

Usage: scripts/http-checks.py DOCK_BINARY [browser] [contract]   (both when none is named)
scripts/test.sh runs it after `swift test`, having installed chromium, chromium-driver, selenium
and schemathesis.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid


def log(message):
    print(f"==> {message}", flush=True)


class Server:
    """One `dock serve` process on a free port, stopped with SIGTERM (which must exit 0)."""

    def __init__(self, dock, database, workdir):
        self.dock, self.database, self.workdir = dock, database, workdir
        subprocess.run([dock, "install", "--database", database], check=True, stdout=subprocess.DEVNULL)
        self.admin = self.cli("apikey", "create", "--admin", "--name", "http-checks", "--json")["secret"]
        key_file = os.path.join(workdir, "signing.key")
        if not os.path.exists(key_file):
            subprocess.run([dock, "forge", "keygen", "--id", "checks-1", "--out", key_file], check=True, stdout=subprocess.DEVNULL)
        self.log = open(os.path.join(workdir, f"serve-{uuid.uuid4().hex[:6]}.log"), "w+")
        self.process = subprocess.Popen([dock, "serve", "--port", "0", "--database", database, "--signing-key", key_file],
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        if "listening on " not in line:
            raise SystemExit(f"error: dock serve did not start: {line!r}")
        self.url = line.split("listening on ")[1].split()[0]

    def cli(self, *arguments):
        done = subprocess.run([self.dock, *arguments, "--database", self.database], check=True, capture_output=True, text=True)
        return json.loads(done.stdout)

    def call(self, method, path, body=None, headers=None):
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {self.admin}", "Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=30)
        rest = self.process.stdout.read()
        if status != 0 or "ClientSuite stopped" not in rest:
            raise SystemExit(f"error: dock serve exited {status} on SIGTERM: {rest!r}")


def expect(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def browser(dock, workdir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    log("browser: a standalone purchase paid on the checkout page, in headless Chromium")
    server = Server(dock, os.path.join(workdir, "browser.sqlite"), workdir)
    try:
        status, product = server.call("POST", "/v1/products", {"name": "Pro", "slug": "pro-1y", "price": 4900, "currency": "USD",
                                                                "licence_days": 365})
        expect(status == 201, f"product: {status} {product}")
        status, purchase = server.call("POST", "/v1/workflows/purchase",
                                       {"name": "Ada Lovelace", "email": "ada@example.com", "product": "pro-1y"},
                                       {"Idempotency-Key": "browser-order-1"})
        expect(status == 202 and purchase["outcome"] == "requires_action", f"purchase: {status} {purchase}")
        url, invoice, client = purchase["checkout_session"]["url"], purchase["invoice"], purchase["client"]["refid"]
        expect(url.startswith(server.url + "/checkout/"), f"the checkout URL {url} is not on {server.url}")

        options = webdriver.ChromeOptions()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
            options.add_argument(argument)
        options.binary_location = "/usr/bin/chromium"
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.get(url)
            expect(driver.find_element(By.TAG_NAME, "h1").text == invoice["number"], "the page does not show the invoice number")
            expect(driver.find_element(By.ID, "amount").text == "49.00 USD", "the page does not show the amount")
            driver.find_element(By.ID, "pay").click()
            WebDriverWait(driver, 20).until(expected_conditions.text_to_be_present_in_element((By.ID, "status"), "Paid"))
            driver.save_screenshot(os.path.join(workdir, "checkout-paid.png"))
            expect(not driver.find_elements(By.ID, "pay"), "a paid page still offers to pay")
        finally:
            driver.quit()

        status, paid = server.call("GET", f"/v1/invoices/{invoice['refid']}")
        expect(paid["status"] == "paid" and paid["payment_method"] == "checkout", f"invoice: {paid}")
        status, buyer = server.call("GET", f"/v1/clients/{client}")
        expect(buyer["status"] == "active", f"client: {buyer}")
        status, licences = server.call("GET", f"/v1/licences?client={client}")
        expect(len(licences["items"]) == 1 and licences["items"][0]["status"] == "active", f"licences: {licences}")
        # Replaying the purchase changes nothing: the same invoice, still one licence.
        status, again = server.call("POST", "/v1/workflows/purchase",
                                    {"name": "Ada Lovelace", "email": "ada@example.com", "product": "pro-1y"},
                                    {"Idempotency-Key": "browser-order-1"})
        status, licences = server.call("GET", f"/v1/licences?client={client}")
        expect(len(licences["items"]) == 1, f"a replayed purchase issued another licence: {licences}")
        log(f"browser: paid {invoice['number']} on {url}; client {client} active; one licence")
    finally:
        server.stop()


def contract(dock, workdir, database, label):
    log(f"contract: schemathesis over /openapi.yaml on {label}")
    server = Server(dock, database, workdir)
    try:
        # Some data for the stateful phase and the examples to find.
        server.call("POST", "/v1/products", {"name": "Pro", "slug": "pro", "price": 500, "currency": "USD"})
        status, reseller = server.call("POST", "/v1/resellers", {"user_id": "u-1", "company": "Northwind"})
        server.call("POST", f"/v1/resellers/{reseller['refid']}/credits", {"amount": 100000})
        report = os.path.join(workdir, f"schemathesis-{label}.xml")
        command = ["schemathesis", "run", f"{server.url}/openapi.yaml", "-H", f"Authorization: Bearer {server.admin}",
                   "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
                   "--max-examples", os.environ.get("CLIENTSUITE_SCHEMATHESIS_EXAMPLES", "25"), "--seed", "20261205",
                   "--workers", "2", "--no-color", "--report", "junit", "--report-junit-path", report]
        done = subprocess.run(command, capture_output=True, text=True, cwd=workdir)  # its cache stays out of the tree
        summary = done.stdout[done.stdout.rfind("SUMMARY"):] if "SUMMARY" in done.stdout else done.stdout[-3000:]
        print(summary, flush=True)
        if done.returncode != 0:
            print(done.stdout[-20000:], done.stderr[-3000:], sep="\n")
            raise SystemExit(f"FAILED: schemathesis found answers that break the document on {label}")
    finally:
        server.stop()


def fresh_postgres_database(url):
    name = f"contract_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", url, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


def main():
    dock = os.path.abspath(sys.argv[1])
    wanted = set(sys.argv[2:]) or {"browser", "contract"}
    workdir = tempfile.mkdtemp(prefix="clientsuite-http-")
    started = time.monotonic()
    if "browser" in wanted:
        browser(dock, workdir)
    if "contract" in wanted:
        contract(dock, workdir, os.path.join(workdir, "contract.sqlite"), "SQLite")
        postgres = os.environ.get("CLIENTSUITE_TEST_POSTGRES_URL")
        if postgres:
            contract(dock, workdir, fresh_postgres_database(postgres), "PostgreSQL")
    log(f"http checks passed in {time.monotonic() - started:.0f} s (files in {workdir})")


if __name__ == "__main__":
    main()
