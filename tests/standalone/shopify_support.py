"""Helpers for the Shopify tests: the dataset's credentials, a clock the tests move by hand (so
throttling waits are exact), a mapping context, and a local endpoint that receives webhooks.
The pytest fixtures are in shopify_fixtures.py."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kraal_connect.connectors.shopify.mapping import ShopifyContext

DATASET = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
APP = json.loads((DATASET / "app.json").read_text())
DOMAIN, TOKEN, SECRET = APP["shop_domain"], APP["access_token"], APP["api_secret"]
MAIN, BROOKLYN = "gid://shopify/Location/70001", "gid://shopify/Location/70002"


class FakeClock:
	"""The emulator's clock for its cost bucket: time passes only when a test says so."""

	def __init__(self):
		self.now = 1000.0

	def __call__(self) -> float:
		return self.now

	def advance(self, seconds: float) -> None:
		self.now += seconds


def context(**overrides) -> ShopifyContext:
	values = {
		"company": "Kraal Test Co",
		"company_currency": "USD",
		"price_list": "Shopify Retail",
		"item_group": "Shopify Products",
		"customer_group": "Individual",
		"territory": "All Territories",
		"receivable_account": "Debtors - KTC",
		"default_warehouse": "Stores - KTC",
		"fallback_item": "SHOPIFY-DELETED",
		"guest_customer": "Shopify guest (Kraal Outfitters)",
		"shipping_account": "Shipping Income - KTC",
		"timezone": "America/New_York",
		"warehouses": {MAIN: "Main Warehouse - KTC", BROOKLYN: "Brooklyn Store - KTC"},
		"gateway_accounts": {
			"shopify_payments": "Shopify Payments Clearing - KTC",
			"paypal": "PayPal Clearing - KTC",
			"manual": "Bank Deposits - KTC",
		},
		"tax_accounts": {
			"NJ State Tax": "NJ Sales Tax - KTC",
			"NY State Tax": "NY Sales Tax - KTC",
			"New York City Tax": "NYC Sales Tax - KTC",
		},
		"countries": {"US": "United States", "FR": "France"},
	}
	values.update(overrides)
	return ShopifyContext(**values)


def load(kind: str, name: str, root: Path = DATASET) -> dict:
	return json.loads((root / kind / f"{name}.json").read_text())


def order_files(root: Path = DATASET) -> list[Path]:
	return sorted((root / "orders").glob("*.json"))


class Receiver:
	"""A local endpoint that records what is posted to it, standing in for the site's webhook URL."""

	def __init__(self):
		self.received: list[tuple[dict[str, str], bytes]] = []
		received = self.received

		class Handler(BaseHTTPRequestHandler):
			def do_POST(self):
				body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
				received.append((dict(self.headers.items()), body))
				self.send_response(200)
				self.send_header("Content-Length", "0")
				self.end_headers()

			def log_message(self, *args):
				pass

		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		threading.Thread(target=self.server.serve_forever, daemon=True).start()
		host, port = self.server.server_address[:2]
		self.url = f"http://{host}:{port}/webhook"

	def stop(self):
		self.server.shutdown()
		self.server.server_close()
