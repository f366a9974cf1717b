"""The E-commerce view on a real site (issue 12, acceptance 3): the fixture Shopify store (orders, stock,
payouts) and the fixture Amazon seller account (orders, FBA stock, settlements) synced through their
integrations; the view's reports and cards give the figures this test works out from the fixture files
alone: gross sales, discounts, refunds, fees, adjustments and net per channel, order counts, the
documents each order became, the stock that differs from the platform's count, and the payouts and
settlements not yet seen in the bank. Then a headless browser looks at the E-commerce workspace.
"""

import json
import shutil
import time
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import frappe
import pytest

from emulators.amazon import AmazonEmulator
from kraal_connect.commerce import site as commerce
from kraal_connect.connectors.shopify import mapping as shopify_mapping
from kraal_connect.engine.runner import run_integration
from kraal_connect.kraal_connect.report.e_commerce_channels import e_commerce_channels
from kraal_connect.kraal_connect.report.e_commerce_deposits_not_in_bank import (
	e_commerce_deposits_not_in_bank,
)
from kraal_connect.kraal_connect.report.e_commerce_order_imports import e_commerce_order_imports
from kraal_connect.kraal_connect.report.e_commerce_revenue import e_commerce_revenue
from kraal_connect.kraal_connect.report.e_commerce_stock_differences import e_commerce_stock_differences
from tests.bench import amazon_helpers, shopify_helpers
from tests.bench.shopify_helpers import ABBR as SHOP_ABBR
from tests.bench.shopify_helpers import COMPANY as SHOP_COMPANY

pytest_plugins = ["tests.bench.shopify_helpers"]

CENT = Decimal("0.01")
PERIOD = {"from_date": "2026-09-01", "to_date": "2026-12-31"}
AS_OF = "2026-10-14"
PAYOUT_BANK = "Shopify Payouts Checking"
PAYOUT_ACCOUNTS = {
	shopify_mapping.FEES: "Shopify Payments Fees",
	"DISPUTE": "Shopify Chargebacks",
	"ADJUSTMENT": "Shopify Adjustments",
}
# Amazon orders in these states have a Sales Order; shipped ones an invoice too (mapping.BOOKED_STATUSES).
BOOKED, SHIPPED = ("Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"), ("Shipped",)
AMAZON_WAREHOUSES = {amazon_helpers.US: "Amazon FBA", amazon_helpers.CA: "Amazon FBA CA"}


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(CENT)


# -- the channels, synced ------------------------------------------------------------------------


def enable_every_entity(integration: str) -> None:
	"""Payouts are off until a store says it uses Shopify Payments; this one does."""
	doc = frappe.get_doc("Kraal Integration", integration)
	for row in doc.entities:
		row.enabled = 1
	doc.save()


def map_payouts(integration: str) -> None:
	bank_group = frappe.db.get_value(
		"Account", {"company": SHOP_COMPANY, "account_type": "Bank", "is_group": 1}
	)
	expenses = frappe.db.get_value("Account", {"company": SHOP_COMPANY, "account_name": "Indirect Expenses"})
	shopify_helpers._account(SHOP_COMPANY, SHOP_ABBR, PAYOUT_BANK, bank_group, "Bank")
	rows = [(shopify_mapping.PAYOUT_BANK, "USD", PAYOUT_BANK)]
	for key, name in PAYOUT_ACCOUNTS.items():
		shopify_helpers._account(SHOP_COMPANY, SHOP_ABBR, name, expenses, "")
		rows.append((shopify_mapping.PAYOUT_TYPE, key, name))
	for key_type, key, name in rows:
		amazon_helpers.add_mapping(integration, key_type, key, "Account", f"{name} - {SHOP_ABBR}")


@pytest.fixture(scope="module")
def channels(shopify_company, tmp_path_factory):
	"""The fixture store (in Kraal Shopify Co) and seller account (in Kraal Amazon Co), each synced once
	with every entity; everything they wrote purged after the module."""
	root = tmp_path_factory.mktemp("ecommerce")
	store = shopify_helpers.start_store(Path(shutil.copytree(shopify_helpers.DATASET, root / "shopify")))
	amazon_data = Path(shutil.copytree(amazon_helpers.FIXTURES, root / "amazon"))
	amazon = AmazonEmulator(amazon_data).start()
	amazon_helpers.ensure_company()
	rate = amazon_helpers.ensure_cad_rate()
	amazon_helpers.stock_the_knife()
	names = {}
	try:
		names["Shopify"] = shopify_helpers.connect_store(store.emulator.url)
		enable_every_entity(names["Shopify"])
		map_payouts(names["Shopify"])
		frappe.db.commit()
		logs = {"Shopify": run_integration(names["Shopify"], "Manual")}
		names["Amazon"] = amazon_helpers.connect(amazon.url, amazon_data)
		logs["Amazon"] = run_integration(names["Amazon"], "Manual")
		frappe.db.rollback()
		for vendor, log in logs.items():
			log = frappe.get_doc("Kraal Sync Log", log)
			assert log.status == "Success", (vendor, [(f.external_id, f.message) for f in log.failures])
		yield {"names": names, "shopify": store.data, "amazon": amazon_data}
	finally:
		store.emulator.stop()
		amazon.stop()
		if "Shopify" in names:
			shopify_helpers.purge_integration(names["Shopify"])
		if "Amazon" in names:
			amazon_helpers.purge(names["Amazon"])
		amazon_helpers.unstock_the_knife()
		if rate:
			frappe.delete_doc("Currency Exchange", rate, force=True, delete_permanently=True)
			frappe.db.commit()


def report(module, **filters) -> tuple[list, list]:
	frappe.db.rollback()
	result = module.execute(frappe._dict(filters))
	return result[0], result[1]


# -- what the fixture files say ------------------------------------------------------------------


def records(directory: Path) -> list[dict]:
	return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def shop_amount(holder: dict, fieldname: str) -> Decimal:
	return money(holder[fieldname]["shopMoney"]["amount"])


def shopify_expected(data: Path) -> dict:
	"""Revenue from the store's files: paid orders' goods and shipping before discounts (Shopify's
	subtotal is after them), their refunds without tax, and the payouts' fees, chargebacks, adjustments."""
	result = defaultdict(Decimal)
	for order in records(data / "orders"):
		if not shopify_helpers.successful(order.get("transactions"), shopify_helpers.PAID):
			continue
		result["orders"] += 1
		discounts = shop_amount(order, "totalDiscountsSet")
		result["gross"] += (
			shop_amount(order, "subtotalPriceSet") + discounts + shop_amount(order, "totalShippingPriceSet")
		)
		result["discounts"] += discounts
		for refund in order.get("refunds") or []:
			result["refunds"] += sum(
				(shop_amount(r, "subtotalSet") for r in refund["refundLineItems"]["nodes"]), Decimal(0)
			)
			result["refunds"] += sum(
				(shop_amount(r, "subtotalAmountSet") for r in refund["refundShippingLines"]["nodes"]),
				Decimal(0),
			)
	for row in records(data / "balance_transactions"):
		if row["type"] == "TRANSFER":
			continue
		result["fees"] += money(row["fee"]["amount"])
		if row["type"] == "DISPUTE":
			result["refunds"] -= money(row["amount"]["amount"])
		elif row["type"] == "ADJUSTMENT":
			result["adjustments"] += money(row["amount"]["amount"])
	return result


def settlement_rows(data: Path) -> list[tuple[str, str, dict]]:
	"""(currency, row) of every line of every settlement flat file but its summary line."""
	rows = []
	for path in sorted((data / "documents").glob("*.txt")):
		lines = path.read_text().splitlines()
		header = lines[0].split("\t")
		table = [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line.strip()]
		currency = table[0]["currency"]
		rows += [(currency, row) for row in table[1:]]
	return rows


def in_usd(amount: Decimal, currency: str) -> Decimal:
	rate = Decimal(1) if currency == "USD" else Decimal(str(amazon_helpers.CAD_RATE))
	return (amount * rate).quantize(CENT, rounding=ROUND_HALF_EVEN)


def amazon_expected(data: Path) -> dict:
	"""Revenue from the seller's files: shipped orders' item and shipping prices before promotions, and
	the settlements' fees, refunds and reimbursements (each kind of line converted to USD as a whole)."""
	result = defaultdict(Decimal)
	for order in amazon_helpers.source_orders(data).values():
		if order["OrderStatus"] not in SHIPPED:
			continue
		result["orders"] += 1
		items = json.loads((data / "order_items" / f"{order['AmazonOrderId']}.json").read_text())
		currency = order["OrderTotal"]["CurrencyCode"]
		sums = defaultdict(Decimal)
		for item in items["payload"]["OrderItems"]:
			for field in ("ItemPrice", "ShippingPrice", "PromotionDiscount", "ShippingDiscount"):
				sums[field] += Decimal(item.get(field, {}).get("Amount") or 0)
		discounts = in_usd(sums["PromotionDiscount"], currency) + in_usd(sums["ShippingDiscount"], currency)
		result["gross"] += in_usd(sums["ItemPrice"], currency) + in_usd(sums["ShippingPrice"], currency)
		result["discounts"] += discounts
	kinds = defaultdict(Decimal)
	for currency, row in settlement_rows(data):
		amount_type, description = row["amount-type"], row["amount-description"]
		if amount_type == "ItemFees" or (amount_type == "other-transaction" and "Fee" in description):
			kind = "fees"
		elif row["transaction-type"] == "Refund" and amount_type in ("ItemPrice", "Promotion"):
			kind = None if "Tax" in description else "refunds"
		elif amount_type == "FBA Inventory Reimbursement":
			kind = "adjustments"
		else:
			continue
		if kind:
			kinds[(kind, currency, row["transaction-type"], amount_type, description)] += Decimal(
				row["amount"]
			)
	for (kind, currency, *_), amount in kinds.items():
		result[kind] += in_usd(amount if kind == "adjustments" else -amount, currency)
	return result


def net(figures: dict) -> Decimal:
	return (
		figures["gross"]
		- figures["discounts"]
		- figures["refunds"]
		- figures["fees"]
		+ figures["adjustments"]
	)


# -- the view's figures --------------------------------------------------------------------------


def test_revenue_by_channel_equals_the_fixture_files(channels):
	columns, rows = report(e_commerce_revenue, **PERIOD)
	by_vendor = {r["vendor"]: r for r in rows if r["integration"] in channels["names"].values()}
	expected = {
		"Shopify": shopify_expected(channels["shopify"]),
		"Amazon": amazon_expected(channels["amazon"]),
	}
	for vendor, figures in expected.items():
		row = by_vendor[vendor]
		shown = {k: money(row[k]) for k in ("gross", "discounts", "refunds", "fees", "adjustments", "net")}
		assert shown == {**{k: money(figures[k]) for k in shown}, "net": net(figures)}, vendor
		assert (row["orders"], row["currency"]) == (figures["orders"], "USD"), vendor
	# The fixtures make every figure count: Shopify's chargeback, adjustment and credit notes, Amazon's
	# promotions, refund and reimbursement, and both channels' fees.
	assert all(expected["Amazon"][k] for k in ("discounts", "refunds", "fees", "adjustments"))
	assert all(expected["Shopify"][k] for k in ("refunds", "fees", "adjustments"))
	assert {c["fieldname"] for c in columns} >= {"gross", "discounts", "refunds", "fees", "net"}


def test_the_invoices_figures_are_what_the_ledger_holds(channels):
	"""Gross sales less discounts (and the credit notes' refunds) are what the channel's invoices and
	credit notes booked to income accounts in the general ledger."""
	frappe.db.rollback()
	for vendor, name in channels["names"].items():
		channel = commerce.channels(integration=name)[0]
		invoices = commerce.invoices(name, channel.company, PERIOD["from_date"], PERIOD["to_date"])
		income = set(frappe.get_all("Account", filters={"root_type": "Income"}, pluck="name"))
		gl = frappe.get_all(
			"GL Entry",
			filters={"voucher_no": ("in", [i.name for i in invoices]), "is_cancelled": 0},
			fields=["account", "debit", "credit"],
		)
		booked = sum((money(g.credit) - money(g.debit) for g in gl if g.account in income), Decimal(0))
		assert booked == sum((i.income() for i in invoices), Decimal(0)), vendor


def shopify_order_dates(data: Path) -> list[date]:
	"""The day each booked order was placed in the store's time zone (#1007, cancelled unpaid, is not)."""
	zone = ZoneInfo(json.loads((data / "shop.json").read_text())["ianaTimezone"])
	return [
		datetime.fromisoformat(order["processedAt"].replace("Z", "+00:00")).astimezone(zone).date()
		for order in records(data / "orders")
		if not (
			order.get("cancelledAt")
			and not shopify_helpers.successful(order.get("transactions"), shopify_helpers.PAID)
		)
	]


def amazon_order_dates(data: Path) -> list[date]:
	return [
		date.fromisoformat(order["PurchaseDate"][:10])
		for order in amazon_helpers.source_orders(data).values()
		if order["OrderStatus"] in BOOKED
	]


def counted(dates: list[date], days: int) -> int:
	as_of = date.fromisoformat(AS_OF)
	return sum(1 for d in dates if 0 <= (as_of - d).days < days)


def test_each_channel_s_status_last_order_and_orders_of_the_last_day_week_and_month(channels):
	_, rows = report(e_commerce_channels, as_of=AS_OF)
	by_vendor = {r["vendor"]: r for r in rows if r["integration"] in channels["names"].values()}
	dates = {
		"Shopify": shopify_order_dates(channels["shopify"]),
		"Amazon": amazon_order_dates(channels["amazon"]),
	}
	for vendor, name in channels["names"].items():
		row = by_vendor[vendor]
		assert [row["orders_1_day"], row["orders_7_days"], row["orders_30_days"]] == [
			counted(dates[vendor], n) for n in (1, 7, 30)
		], vendor
		assert row["status"] == "Active" and row["last_success"], vendor
		newest = frappe.get_all(
			"Kraal External Link",
			filters={"integration": name, "external_type": "order"},
			fields=["reference_name", "creation"],
			order_by="creation desc",
			limit=1,
		)[0]
		assert (row["last_sales_order"], row["last_order_imported"]) == (
			newest.reference_name,
			newest.creation,
		)
	# Day, week and month tell different things here.
	assert len({counted(dates["Shopify"], n) for n in (1, 7, 30)}) == 3


def test_order_imports_name_each_order_s_sales_order_invoice_and_credit_notes(channels):
	_, rows = report(e_commerce_order_imports, **PERIOD)
	shopify = {r["external_id"]: r for r in rows if r["integration"] == channels["names"]["Shopify"]}
	for order in records(channels["shopify"] / "orders"):
		paid = shopify_helpers.successful(order.get("transactions"), shopify_helpers.PAID)
		if order.get("cancelledAt") and not paid:
			assert order["id"] not in shopify
			continue
		row = shopify[order["id"]]
		assert row["order"] == order["name"]
		assert frappe.db.get_value("Sales Order", row["sales_order"], "po_no") == order["name"]
		if paid:
			assert frappe.db.get_value("Sales Invoice", row["sales_invoice"], ["is_return", "docstatus"]) == (
				0,
				1,
			)
		else:
			assert row["sales_invoice"] is None
		refunds = len(order.get("refunds") or [])
		notes = [n for n in (row["credit_notes"] or "").split(", ") if n]
		assert len(notes) == refunds, order["name"]
		for note in notes:
			assert frappe.db.get_value("Sales Invoice", note, "return_against") == row["sales_invoice"]
	amazon = {r["external_id"]: r for r in rows if r["integration"] == channels["names"]["Amazon"]}
	orders = amazon_helpers.source_orders(channels["amazon"])
	assert sorted(amazon) == sorted(i for i, o in orders.items() if o["OrderStatus"] in BOOKED)
	assert sorted(i for i, r in amazon.items() if r["sales_invoice"]) == sorted(
		i for i, o in orders.items() if o["OrderStatus"] in SHIPPED
	)


def amazon_on_hand(data: Path) -> dict[tuple[str, str], int]:
	"""Amazon's count per (SKU, warehouse) in each marketplace's files: fulfillable and reserved."""
	result = {}
	for marketplace, warehouse in AMAZON_WAREHOUSES.items():
		summaries = json.loads((data / "inventory" / f"{marketplace}.json").read_text())["payload"]
		for s in summaries["inventorySummaries"]:
			details = s["inventoryDetails"]
			qty = details["fulfillableQuantity"] + details["reservedQuantity"]["totalReservedQuantity"]
			result[(s["sellerSku"], amazon_helpers.account(warehouse))] = qty
	return result


def test_inventory_sync_status_and_the_stock_that_differs_from_the_platform_s_count(channels):
	frappe.db.rollback()
	shopify_counts, _ = shopify_helpers.stock_at_shopify_and_held(
		shopify_helpers.Store(None, channels["shopify"])
	)
	expected = {
		"Shopify": {k: Decimal(v) for k, v in shopify_counts.items()},
		"Amazon": {k: Decimal(v) for k, v in amazon_on_hand(channels["amazon"]).items()},
	}
	for vendor, name in channels["names"].items():
		counts = commerce.platform_counts(name)
		assert {k: qty for k, (qty, _) in counts.items()} == expected[vendor], vendor

	_, rows = report(e_commerce_channels)
	by_vendor = {r["vendor"]: r for r in rows if r["integration"] in channels["names"].values()}
	for vendor in expected:
		assert by_vendor[vendor]["items_tracked"] == len({item for item, _ in expected[vendor]})
		assert by_vendor[vendor]["last_inventory_sync"]
	# Right after the syncs ERPNext holds what the platforms counted; then somebody counts one item
	# at a Shopify location and one in Amazon's warehouse differently in ERPNext.
	assert by_vendor["Shopify"]["stock_differences"] == by_vendor["Amazon"]["stock_differences"] == 0
	changed = {
		SHOP_COMPANY: min(k for k, v in expected["Shopify"].items() if v),
		amazon_helpers.COMPANY: min(expected["Amazon"]),
	}
	try:
		for company, (item, warehouse) in changed.items():
			vendor = "Shopify" if company == SHOP_COMPANY else "Amazon"
			recount(company, item, warehouse, expected[vendor][(item, warehouse)] + 3)
		_, rows = report(e_commerce_stock_differences)
		shown = {
			(r["vendor"], r["item_code"], r["warehouse"]): (
				r["platform_qty"],
				r["erpnext_qty"],
				r["difference"],
			)
			for r in rows
			if r["integration"] in channels["names"].values()
		}
		assert shown == {
			(vendor, item, warehouse): (
				expected[vendor][(item, warehouse)],
				expected[vendor][(item, warehouse)] + 3,
				3,
			)
			for vendor, (item, warehouse) in zip(("Shopify", "Amazon"), changed.values(), strict=True)
		}
	finally:
		for name in recounts:
			shopify_helpers.retried_on_deadlock(shopify_helpers.delete_document, "Stock Reconciliation", name)
		recounts.clear()


recounts: list[str] = []


def recount(company: str, item: str, warehouse: str, qty: Decimal) -> None:
	"""A stock count entered in ERPNext by a person (no integration's)."""
	doc = frappe.get_doc(
		{
			"doctype": "Stock Reconciliation",
			"company": company,
			"purpose": "Stock Reconciliation",
			"items": [
				{
					"item_code": item,
					"warehouse": warehouse,
					"qty": float(qty),
					"valuation_rate": 1,
				}
			],
		}
	).insert()
	doc.submit()
	recounts.append(doc.name)
	frappe.db.commit()


def test_payouts_and_settlements_not_in_the_bank_are_listed(channels):
	_, rows = report(e_commerce_deposits_not_in_bank)
	payouts = {
		p["legacyResourceId"]: money(p["net"]["amount"]) for p in records(channels["shopify"] / "payouts")
	}
	listed = sorted(
		(r["source"].rsplit(" ", 1)[-1], r["currency"], money(r["amount"]))
		for r in rows
		if r["company"] in (SHOP_COMPANY, amazon_helpers.COMPANY)
	)
	assert listed == sorted(
		[(pid, "USD", amount) for pid, amount in payouts.items()]
		+ [(sid, currency, total) for sid, (currency, total) in settlement_totals(channels["amazon"]).items()]
	)
	card = commerce.deposits_not_in_bank_count()
	assert card["value"] == len(rows)


def settlement_totals(data: Path) -> dict[str, tuple[str, Decimal]]:
	"""settlement id -> (currency, total-amount) from each flat file's summary line."""
	result = {}
	for path in sorted((data / "documents").glob("*.txt")):
		lines = path.read_text().splitlines()
		summary = dict(zip(lines[0].split("\t"), lines[1].split("\t"), strict=False))
		result[summary["settlement-id"]] = (summary["currency"], money(summary["total-amount"]))
	return result


# -- in the browser ------------------------------------------------------------------------------

CARD_FILTERS = {"as_of": AS_OF}
ORDER_CARDS = ("Orders (7 Days)", "Orders (30 Days)")

try:
	from tests.bench.test_browser_setup import CHROMEDRIVER, CHROMIUM, page, served  # noqa: F401 (fixtures)
except (ImportError, pytest.skip.Exception):  # no selenium here (or no browser helpers)
	CHROMIUM = CHROMEDRIVER = None


@pytest.fixture
def as_a_person_set_them(channels):
	"""What a person looking at the fixture's October would set: the order cards counted up to AS_OF (they
	count up to today by default), and one item counted differently in ERPNext than at Shopify."""
	frappe.db.rollback()
	before = {name: frappe.db.get_value("Number Card", name, "filters_json") for name in ORDER_CARDS}
	for name in ORDER_CARDS:
		frappe.db.set_value("Number Card", name, "filters_json", json.dumps(CARD_FILTERS))
	counts, _ = shopify_helpers.stock_at_shopify_and_held(shopify_helpers.Store(None, channels["shopify"]))
	item, warehouse = min(k for k, v in counts.items() if v)
	recount(SHOP_COMPANY, item, warehouse, Decimal(counts[(item, warehouse)] - 2))
	frappe.db.commit()
	yield
	for name, filters in before.items():
		frappe.db.set_value("Number Card", name, "filters_json", filters)
	for name in recounts:
		shopify_helpers.retried_on_deadlock(shopify_helpers.delete_document, "Stock Reconciliation", name)
	recounts.clear()
	frappe.db.commit()


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs chromium, chromium-driver and selenium")
def test_the_e_commerce_workspace_in_a_browser(channels, as_a_person_set_them, page):
	page.driver.set_window_size(1440, 1090)
	page.go("/app/e-commerce")
	page.wait_js("return $('.number-widget-box').length === 4", "the four number cards")
	page.wait_js(
		"return $('.number-widget-box .widget-content .number').filter((i, e) => $(e).text().trim()).length"
		" === 4",
		"every card's number",
	)
	page.wait_js(
		"return $('.dashboard-widget-box .chart-container rect.bar')"
		".filter((i, e) => +e.getAttribute('height') > 0).length >= 8",
		"the chart's bars",
	)
	page.settled()
	cards = page.js(
		"return $('.number-widget-box').map((i, e) => [[$(e).find('.widget-title').text().trim(),"
		" $(e).find('.number').text().trim()]]).get()"
	)
	assert dict(cards) == {
		"Orders (7 Days)": str(
			counted(shopify_order_dates(channels["shopify"]), 7)
			+ counted(amazon_order_dates(channels["amazon"]), 7)
		),
		"Orders (30 Days)": str(
			counted(shopify_order_dates(channels["shopify"]), 30)
			+ counted(amazon_order_dates(channels["amazon"]), 30)
		),
		"Stock Differences": "1",
		"Deposits Not in Bank": str(len(commerce.deposits.deposits_not_in_bank())),
	}, cards
	time.sleep(1)  # the bars grow into place
	page.step("ecommerce_view", f"The E-commerce workspace: {cards}")

	page.js(
		"frappe.route_options = arguments[0]; frappe.set_route('query-report', 'E-commerce Revenue')", PERIOD
	)
	page.wait_js(
		"return frappe.query_report && frappe.query_report.report_name === 'E-commerce Revenue'"
		" && frappe.query_report.data && frappe.query_report.data.length"
		f" && frappe.query_report.get_filter_value('from_date') === {PERIOD['from_date']!r}",
		"the report's rows",
	)
	page.wait_js("return $('.chart-container rect.bar').length > 0", "the report's chart")
	page.settled()
	time.sleep(1)
	page.step("ecommerce_revenue", "The E-commerce Revenue report for September to December 2026.")

	page.js(
		"frappe.route_options = arguments[0]; frappe.set_route('query-report', 'E-commerce Channels')",
		CARD_FILTERS,
	)
	page.wait_js(
		"return frappe.query_report && frappe.query_report.report_name === 'E-commerce Channels'"
		" && frappe.query_report.data && frappe.query_report.data.length"
		f" && frappe.query_report.get_filter_value('as_of') === {AS_OF!r}",
		"the channels' rows",
	)
	page.settled()
	page.step("ecommerce_channels", f"The E-commerce Channels report, orders counted up to {AS_OF}.")
	page.console()
	assert not page.errors, "JavaScript errors in the browser's console:\n" + "\n".join(page.errors)
