"""How fast Shopify orders sync with one worker and with two, against the raw cost of inserting and
submitting the same documents with one process and with two.

Run it in the bench's sites folder (it uses the default site, or --site):

    cd <bench>/sites && ../env/bin/python ../apps/kraal_connect/benchmarks/shopify_orders.py --orders 250

It generates 2 x N paid orders (1-3 lines, tax, shipping; every other one fulfilled) into a copy of the
fixture store, serves it with the Shopify emulator (its cost bucket made large enough never to throttle:
the benchmark measures Kraal and ERPNext, not Shopify's rate limit) and, in one run, on a company of its
own, measures four ways of writing N orders:

1. the connector, one worker: the first N orders synced (API pages, mapping, writer, External Links);
2. raw ERPNext, one process: the same documents inserted and submitted directly (Sales Order, Sales
   Invoice, Payment Entry, Delivery Note; their references filled in by hand, a commit per order, into
   warehouses of their own so the two stock ledgers do not interleave);
3. the connector, two workers (Backfill Workers 2: the run and one helper on the `long` queue): the next
   N orders, read from the cursor the first run left;
4. raw ERPNext, two processes: those N orders' documents, half each.

Everything it wrote is removed at the end, the company too; Items another integration of the site
shares are matched, not written, and stay.
"""

import argparse
import copy
import json
import os
import random
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import frappe

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import workers as bench_workers  # noqa: E402
from kraal_connect.connectors.shopify import mapping  # noqa: E402
from kraal_connect.connectors.shopify.integration import ShopifyConnector  # noqa: E402
from kraal_connect.engine import writer  # noqa: E402
from kraal_connect.engine.records import Ref, external_type  # noqa: E402
from kraal_connect.engine.runner import run_integration  # noqa: E402
from kraal_connect.engine.stats import RunStats  # noqa: E402
from tests.bench import shopify_helpers as site  # noqa: E402

COMPANY, ABBR = "Kraal Shopify Bench Co", "KSBC"
RAW_WAREHOUSES = {site.MAIN: "Raw Main Warehouse", site.BROOKLYN: "Raw Brooklyn Store"}
NJ_TAX = Decimal("0.06625")
SHIPPING = Decimal("5.00")
CENT = Decimal("0.01")
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
# The orders the two-worker runs write, out of the emulator's sight until the one-worker runs are done.
LATER = "later_orders"


# -- the generated store ---------------------------------------------------------------------


def money_bag(amount: Decimal) -> dict:
	value = {"amount": str(amount), "currencyCode": "USD"}
	return {"shopMoney": value, "presentmentMoney": value}


def tax_line(amount: Decimal) -> dict:
	return {
		"title": "NJ State Tax",
		"rate": 0.06625,
		"ratePercentage": 6.625,
		"channelLiable": False,
		"priceSet": money_bag(amount),
	}


def stamp(moment: datetime) -> str:
	return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_orders(data: Path, count: int, seed: int = 7) -> None:
	"""count paid orders of the fixture store's customers and variants, Shopify's totals to the cent."""
	template = json.loads((data / "orders/5001.json").read_text())
	variants = [
		(product, variant)
		for product in (json.loads(p.read_text()) for p in sorted((data / "products").glob("*.json")))
		if product["status"] == "ACTIVE"
		for variant in product["variants"]["nodes"]
	]
	customers = [json.loads(p.read_text()) for p in sorted((data / "customers").glob("*.json"))]
	for old in (data / "orders").glob("*.json"):
		old.unlink()
	rng = random.Random(seed)
	for number in range(1, count + 1):
		order_id = 700000 + number
		placed = START + timedelta(minutes=number)
		order = copy.deepcopy(template)
		customer = rng.choice(customers)
		lines, fulfilled = [], []
		for index, (product, variant) in enumerate(rng.sample(variants, rng.randint(1, 3))):
			quantity = rng.randint(1, 2)
			price = Decimal(variant["price"])
			line_id = f"gid://shopify/LineItem/{order_id}{index}"
			lines.append(
				{
					"id": line_id,
					"name": f"{product['title']} - {variant['title']}",
					"title": product["title"],
					"variantTitle": variant["title"],
					"sku": variant["sku"],
					"quantity": quantity,
					"currentQuantity": quantity,
					"requiresShipping": True,
					"taxable": True,
					"vendor": "Kraal",
					"variant": {"id": variant["id"], "sku": variant["sku"], "title": variant["title"]},
					"product": {"id": product["id"], "title": product["title"]},
					"originalUnitPriceSet": money_bag(price),
					"originalTotalSet": money_bag(price * quantity),
					"discountAllocations": [],
					"taxLines": [tax_line((price * quantity * NJ_TAX).quantize(CENT, ROUND_HALF_UP))],
				}
			)
			fulfilled.append(
				{
					"id": f"gid://shopify/FulfillmentLineItem/{order_id}{index}",
					"lineItem": {"id": line_id},
					"quantity": quantity,
				}
			)
		subtotal = sum(Decimal(line["originalTotalSet"]["shopMoney"]["amount"]) for line in lines)
		shipping_tax = (SHIPPING * NJ_TAX).quantize(CENT, ROUND_HALF_UP)
		tax = (
			sum(Decimal(line["taxLines"][0]["priceSet"]["shopMoney"]["amount"]) for line in lines)
			+ shipping_tax
		)
		total = subtotal + SHIPPING + tax
		shipping = copy.deepcopy(template["shippingLines"]["nodes"][0])
		shipping.update(id=f"gid://shopify/ShippingLine/{order_id}", taxLines=[tax_line(shipping_tax)])
		transaction = copy.deepcopy(template["transactions"][0])
		transaction.update(
			id=f"gid://shopify/OrderTransaction/{order_id}",
			amountSet=money_bag(total),
			processedAt=stamp(placed),
			createdAt=stamp(placed),
			authorizationCode=f"auth-{order_id}",
		)
		order.update(
			id=f"gid://shopify/Order/{order_id}",
			legacyResourceId=str(order_id),
			name=f"#B{number}",
			email=customer["defaultEmailAddress"]["emailAddress"],
			createdAt=stamp(placed),
			processedAt=stamp(placed),
			updatedAt=stamp(placed + timedelta(seconds=30)),
			customer={"id": customer["id"], "displayName": customer["displayName"]},
			subtotalPriceSet=money_bag(subtotal),
			totalShippingPriceSet=money_bag(SHIPPING),
			totalTaxSet=money_bag(tax),
			totalPriceSet=money_bag(total),
			lineItems={"nodes": lines},
			shippingLines={"nodes": [shipping]},
			taxLines=[tax_line(tax)],
			transactions=[transaction],
			fulfillments=[],
		)
		if number % 2:
			fulfillment = copy.deepcopy(template["fulfillments"][0])
			fulfillment.update(
				id=f"gid://shopify/Fulfillment/{order_id}",
				name=f"#F{order_id}",
				createdAt=stamp(placed + timedelta(seconds=20)),
				updatedAt=stamp(placed + timedelta(seconds=20)),
				fulfillmentLineItems={"nodes": fulfilled},
			)
			order["fulfillments"] = [fulfillment]
		(data / "orders" / f"{order_id}.json").write_text(json.dumps(order))


# -- the two runs ----------------------------------------------------------------------------


def set_entities(integration: str, enabled: set[str]) -> None:
	for row in frappe.get_all(
		"Kraal Integration Entity", filters={"parent": integration}, fields=["name", "entity"]
	):
		frappe.db.set_value("Kraal Integration Entity", row.name, "enabled", int(row.entity in enabled))
	frappe.db.commit()


def sync_through_the_connector(integration: str, count: int, workers: int, helpers: list) -> None:
	"""One run with Backfill Workers `workers`: the run itself and the helpers (already waiting for its
	jobs) write."""
	assert len(helpers) == workers - 1
	set_entities(integration, {mapping.ORDERS})
	frappe.db.set_value("Kraal Integration", integration, "backfill_workers", workers)
	frappe.db.commit()
	log = frappe.get_doc("Kraal Sync Log", run_integration(integration, "Manual"))
	orders = next(row for row in log.entities if row.entity == mapping.ORDERS)
	if orders.created != count:
		print(f"the connector booked {orders.created} of {count} orders: {log.summary}")
		for failure in log.failures[:5]:
			print(f"  {failure.external_id}: {failure.message[:300]}")


def raw_documents(integration: str, records: list[dict], ctx, prefix: str = "RAW") -> list[tuple]:
	"""Each order's documents as the connector maps them, its customer and Items filled in, in the raw
	warehouses and under another order number (ERPNext refuses a second order of a customer's PO)."""
	orders = []
	for record in records:
		docs = []
		for target in mapping.order_targets(record, ctx):
			doc = resolve_masters(integration, target.doc)
			doc["po_no"] = f"{prefix} {doc.get('po_no')}"
			docs.append((target.key, doc))
		orders.append((record, docs))
	return orders


def resolve_masters(integration: str, value):
	if isinstance(value, Ref) and not value.external_type.startswith(mapping.ORDERS):
		return writer.linked_name(integration, value.external_type, value.external_id)
	if isinstance(value, dict):
		return {k: resolve_masters(integration, v) for k, v in value.items()}
	if isinstance(value, list):
		return [resolve_masters(integration, v) for v in value]
	return value


def insert_directly(orders) -> None:
	"""The same documents inserted and submitted one by one, a commit per order."""
	for record, docs in orders:
		insert_order(record["id"], (record, docs), {})
		frappe.db.commit()


def insert_order(_key: str, order: tuple[dict, list], _names: dict) -> str:
	"""One order's documents, each referring to those written before it (benchmarks/workers calls it
	in each raw process)."""
	record, docs = order
	written: dict[str, str] = {}
	sales_order_rows: list[str] = []
	line_ids = [line["id"] for line in record["lineItems"]["nodes"]]
	for key, mapped in docs:
		doc = resolve_order_refs(mapped, written)
		if doc["doctype"] == "Sales Invoice":
			for row, so_detail in zip(doc["items"], sales_order_rows, strict=True):
				row.update(sales_order=written[mapping.ORDERS], so_detail=so_detail)
		if doc["doctype"] == "Delivery Note":
			by_line = dict(zip(line_ids, sales_order_rows, strict=False))
			shipped = record["fulfillments"][0]["fulfillmentLineItems"]["nodes"]
			for row, shipped_row in zip(doc["items"], shipped, strict=True):
				row.update(
					against_sales_order=written[mapping.ORDERS],
					so_detail=by_line[shipped_row["lineItem"]["id"]],
				)
		submit = doc.pop("docstatus", 0) == 1
		inserted = frappe.get_doc(doc)
		inserted.flags.ignore_permissions = True
		inserted.insert()
		if submit:
			inserted.submit()
		written[external_type(mapping.ORDERS, key)] = inserted.name
		if doc["doctype"] == "Sales Order":
			sales_order_rows = [row.name for row in inserted.items]
	return written[mapping.ORDERS]


def resolve_order_refs(value, written: dict[str, str]):
	if isinstance(value, Ref):
		return written[value.external_type]
	if isinstance(value, dict):
		return {k: resolve_order_refs(v, written) for k, v in value.items()}
	if isinstance(value, list):
		return [resolve_order_refs(v, written) for v in value]
	return value


# -- setting up and cleaning up --------------------------------------------------------------


def set_up(count: int, data: Path):
	site.ensure_company(COMPANY, ABBR)
	for name in RAW_WAREHOUSES.values():
		site.ensure_doc(
			"Warehouse",
			f"{name} - {ABBR}",
			{"warehouse_name": name, "company": COMPANY, "parent_warehouse": f"All Warehouses - {ABBR}"},
		)
	frappe.db.commit()
	generate_orders(data, 2 * count)
	later = data / LATER
	later.mkdir()
	for path in sorted((data / "orders").glob("*.json"))[count:]:
		path.rename(later / path.name)
	store = site.start_store(data, maximum_available=1e12, restore_rate=1e12)
	integration = site.connect_store(store.emulator.url, COMPANY, ABBR)
	set_entities(integration, {mapping.PRODUCTS, mapping.CUSTOMERS})
	run_integration(integration, "Manual")
	return store, integration


def clean_up(store, integration: str | None, attributes_before) -> None:
	frappe.db.rollback()
	if store:
		store.emulator.stop()
	site.delete_company_transactions(COMPANY)
	if integration:
		site.purge_integration(integration)
	site.added_attribute_values(attributes_before)
	if frappe.db.exists("Company", COMPANY):
		frappe.delete_doc("Company", COMPANY, force=True, ignore_permissions=True)
	frappe.db.commit()


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--orders", type=int, default=5000)
	parser.add_argument("--site", default=None)
	parser.add_argument("--clean-up", action="store_true", help="remove what an interrupted run left")
	args = parser.parse_args()
	with open("common_site_config.json") as f:
		site_name = args.site or os.environ.get("KRAAL_TEST_SITE") or json.load(f)["default_site"]
	frappe.init(site=site_name, sites_path=os.getcwd())
	frappe.connect()
	# The benchmark talks to the local emulator: allowed for this process only.
	frappe.local.conf.kraal_allow_custom_endpoints = 1
	frappe.set_user("Administrator")
	attributes_before = site.attribute_values()
	if args.clean_up:
		integrations = frappe.get_all("Kraal Integration", filters={"company": COMPANY}, pluck="name")
		clean_up(None, integrations[0] if integrations else None, attributes_before)
		return
	if frappe.db.exists("Company", COMPANY):
		sys.exit(f"{COMPANY} exists: an earlier run did not finish; run again with --clean-up first")
	store = integration = None
	data = Path(tempfile.mkdtemp()) / "shopify"
	try:
		shutil.copytree(site.DATASET, data)
		store, integration = set_up(args.orders, data)
		first = [json.loads(p.read_text()) for p in sorted((data / "orders").glob("*.json"))]
		second = [json.loads(p.read_text()) for p in sorted((data / LATER).glob("*.json"))]
		documents = sum(2 + len(r["transactions"]) + len(r["fulfillments"]) for r in first)
		runs = {}

		with bench_workers.measured() as runs["connector", 1]:
			sync_through_the_connector(integration, args.orders, workers=1, helpers=[])
		doc = frappe.get_doc("Kraal Integration", integration)
		ctx = ShopifyConnector(doc).prepare(RunStats())
		raw_ctx = replace(
			ctx,
			warehouses={key: f"{name} - {ABBR}" for key, name in RAW_WAREHOUSES.items()},
			default_warehouse=f"{RAW_WAREHOUSES[site.MAIN]} - {ABBR}",
		)
		frappe.db.commit()
		orders = raw_documents(integration, first, raw_ctx)
		with bench_workers.measured() as runs["raw", 1]:
			insert_directly(orders)

		for path in (data / LATER).glob("*.json"):
			path.rename(data / "orders" / path.name)
		helpers = bench_workers.start_helpers(1)
		try:
			with bench_workers.measured(helpers) as runs["connector", 2]:
				sync_through_the_connector(integration, args.orders, workers=2, helpers=helpers)
		finally:
			bench_workers.stop(helpers)
		orders = [(order[0]["id"], order) for order in raw_documents(integration, second, raw_ctx, "RAW2")]
		with bench_workers.raw_processes([orders], 2, "benchmarks.shopify_orders:insert_order") as raw:
			with bench_workers.measured(raw.processes) as runs["raw", 2]:
				raw.run()

		print(
			f"{args.orders} orders a measurement, {documents} documents (Sales Order, Sales Invoice, "
			"Payment Entry, every other one a Delivery Note)"
		)
		bench_workers.print_table(runs, documents)
	finally:
		clean_up(store, integration, attributes_before)
		shutil.rmtree(data.parent, ignore_errors=True)
		frappe.destroy()


if __name__ == "__main__":
	main()
