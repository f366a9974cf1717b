"""From "connect this client" to books in one sitting: on a fresh integration of the fixture Shopify store
and of the fixture Amazon seller account, Discover lists every mapping the records need, a person fills
the listed rows, and ONE sync books every order: no failed record, no second round, and no valuation
rate typed on any item (the store here has no unit costs; Amazon never gives any)."""

import json
import shutil
from pathlib import Path

import frappe
import pytest
from frappe.utils.background_jobs import get_queue

from emulators.amazon import AmazonEmulator
from kraal_connect import api
from kraal_connect.connectors.amazon import mapping as amazon
from kraal_connect.connectors.shopify.mapping import GATEWAY_MAPPING, LOCATION_MAPPING, TAX_MAPPING
from kraal_connect.engine import failed_records
from kraal_connect.engine.runner import retry_failures, run_integration
from kraal_connect.engine.suggestions import words
from tests.bench import amazon_helpers, qbo_helpers
from tests.bench.shopify_helpers import (
	ABBR,
	COMPANY,
	DATASET,
	DOMAIN,
	PRICE_LIST,
	TOKEN,
	delete_document,
	purge_integration,
	start_store,
)
from tests.bench.site_helpers import counts

pytest_plugins = ["tests.bench.shopify_helpers", "tests.bench.qbo_helpers"]

MAPPING = "Kraal Account Mapping"


def fill_listed_rows(integration: str, choices: dict[tuple[str, str], str]) -> dict[tuple[str, str], dict]:
	"""Every row the integration lists, filled as a person would: a suggestion that is their choice kept,
	any other row given their choice. The rows must be exactly the keys the person expects to map:
	nothing missing (the sync would fail) and nothing extra (a row nobody needs). Returns what Discover
	had put on each row: its title and its suggestion."""
	rows = frappe.get_all(
		MAPPING,
		filters={"integration": integration},
		fields=["name", "key_type", "external_key", "external_name", "target_name", "company"],
	)
	listed = {(row.key_type, row.external_key): row for row in rows}
	assert sorted(listed) == sorted(choices)
	for key, row in listed.items():
		if row.target_name != choices[key]:
			doc = frappe.get_doc(MAPPING, row.name)
			doc.target_name = choices[key]
			doc.save()
	frappe.db.commit()
	return {key: {"title": row.external_name, "suggested": row.target_name} for key, row in listed.items()}


def open_failures(integration: str) -> list:
	return frappe.get_all(
		failed_records.FAILED_RECORD,
		filters={"integration": integration, "status": failed_records.OPEN},
		fields=["entity", "external_id", "message"],
	)


# -- Shopify ---------------------------------------------------------------------------------------

SHOPIFY_CHOICES = {
	(LOCATION_MAPPING, "gid://shopify/Location/70001"): f"Main Warehouse - {ABBR}",
	(LOCATION_MAPPING, "gid://shopify/Location/70002"): f"Brooklyn Store - {ABBR}",
	(GATEWAY_MAPPING, "shopify_payments"): f"Shopify Payments Clearing - {ABBR}",
	(GATEWAY_MAPPING, "paypal"): f"PayPal Clearing - {ABBR}",
	(TAX_MAPPING, "NJ State Tax"): f"NJ Sales Tax - {ABBR}",
	(TAX_MAPPING, "NY State Tax"): f"NY Sales Tax - {ABBR}",
	(TAX_MAPPING, "New York City Tax"): f"NYC Sales Tax - {ABBR}",
}


@pytest.fixture
def store_without_costs(shopify_company, tmp_path):
	"""The fixture store with every unit cost taken off its variants, as a store that never kept them."""
	data = Path(shutil.copytree(DATASET, tmp_path / "shopify"))
	for path in (data / "products").glob("*.json"):
		product = json.loads(path.read_text())
		for variant in product["variants"]["nodes"]:
			variant["inventoryItem"].pop("unitCost", None)
		path.write_text(json.dumps(product, indent=2))
	store = start_store(data)
	yield store
	store.emulator.stop()


@pytest.fixture
def new_shopify_integration(store_without_costs):
	"""A Shopify integration as a person makes it: store, token, price list and Sync From; no mappings,
	no default warehouse."""
	doc = frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": f"Shopify {frappe.generate_hash(length=6)}",
			"vendor": "Shopify",
			"company": COMPANY,
			"external_account": DOMAIN,
			"access_token": TOKEN,
			"api_base_url": store_without_costs.emulator.url,
			"price_list": PRICE_LIST,
			"sync_start_date": "2026-09-01",
		}
	).insert()
	frappe.db.commit()
	yield doc.name
	purge_integration(doc.name)


def test_shopify_discover_map_then_one_sync_books_every_order(new_shopify_integration):
	integration = new_shopify_integration
	result = api.discover(integration)
	assert (result["listed"], result["added"]) == (len(SHOPIFY_CHOICES), len(SHOPIFY_CHOICES))
	# Both locations and both gateways suggested; the three tax titles are the person's to choose.
	assert (result["suggested"], result["empty"]) == (4, 3)
	assert "3 rows still need an ERPNext record" in result["message"]
	# Discover reads; it writes no document.
	assert frappe.get_all("Kraal External Link", filters={"integration": integration}) == []

	listed = fill_listed_rows(integration, SHOPIFY_CHOICES)
	# Titled with Shopify's own names, suggested where one record of the company fits.
	main = listed[(LOCATION_MAPPING, "gid://shopify/Location/70001")]
	assert main == {"title": "Main Warehouse", "suggested": f"Main Warehouse - {ABBR}"}
	assert listed[(GATEWAY_MAPPING, "paypal")] == {
		"title": "PayPal Express Checkout",
		"suggested": f"PayPal Clearing - {ABBR}",
	}
	assert listed[(TAX_MAPPING, "NY State Tax")]["suggested"] is None  # "NY Sales Tax" is not its name

	log = frappe.get_doc("Kraal Sync Log", run_integration(integration, "Manual"))
	assert log.status == "Success", [(f.external_id, f.message) for f in log.failures]
	assert open_failures(integration) == []
	# Every order books in this one run (#1007 was cancelled unpaid: nothing to book), every level too.
	assert counts(log)["order"] == (7, 6, 0, 0, 1, 0)
	assert counts(log)["inventory_level"] == (13, 12, 0, 0, 1, 0)
	delivered = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration, "reference_doctype": "Delivery Note"},
		pluck="reference_name",
	)
	assert delivered and all(frappe.db.get_value("Delivery Note", d, "docstatus") == 1 for d in delivered)
	# No rate on any item: the store keeps no costs, so its stock is booked at zero.
	items = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration, "reference_doctype": "Item"},
		pluck="reference_name",
	)
	assert items
	assert frappe.get_all("Item", filters={"name": ("in", items), "valuation_rate": (">", 0)}) == []
	assert (
		frappe.get_all(
			"Stock Ledger Entry",
			filters={"item_code": ("in", items), "is_cancelled": 0, "valuation_rate": ("!=", 0)},
		)
		== []
	)


def test_a_record_names_every_mapping_it_misses_and_books_once_they_are_filled(new_shopify_integration):
	"""Order #1003 pays through PayPal and is taxed NJ State Tax: with both rows left empty it fails once,
	naming both, instead of one key per run; filling them books it, and the orders that only missed the
	tax, in the retry the filled rows start."""
	integration = new_shopify_integration
	api.discover(integration)
	missing = {(GATEWAY_MAPPING, "paypal"), (TAX_MAPPING, "NJ State Tax")}
	fill_listed_rows(integration, {k: (None if k in missing else v) for k, v in SHOPIFY_CHOICES.items()})
	run_integration(integration, "Manual")
	frappe.db.rollback()

	waiting = {row.external_id: row for row in open_failures(integration)}
	assert sorted(waiting) == [
		"gid://shopify/Order/5001",
		"gid://shopify/Order/5003",
		"gid://shopify/Order/5006",
	]
	paypal_order = frappe.get_doc(
		failed_records.FAILED_RECORD, {"integration": integration, "external_id": "gid://shopify/Order/5003"}
	)
	assert set(failed_records.waits_for_keys(paypal_order)) == missing
	assert "Shopify Payment Gateway 'paypal'" in paypal_order.message
	assert "Shopify Tax 'NJ State Tax'" in paypal_order.message

	fill_listed_rows(integration, SHOPIFY_CHOICES)
	run_queued_retries(integration)
	assert open_failures(integration) == []
	sales_orders = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration, "external_type": "order", "external_id": ("in", list(waiting))},
		pluck="reference_name",
	)
	assert len(sales_orders) == 3


def run_queued_retries(integration: str) -> None:
	"""The retries that filling mapping rows queued, run as a worker would, each once."""
	queue = get_queue("long")
	for job in list(queue.jobs):
		if job.kwargs.get("method") != "kraal_connect.engine.runner.retry_failures":
			continue
		if job.kwargs["kwargs"]["integration"] != integration:
			continue
		job.delete()
		frappe.local.dynamic_link_map = None  # as test_failed_records.run_queued_retry explains
		frappe.flags.link_fields = {}
		retry_failures(**job.kwargs["kwargs"])
		frappe.db.rollback()


def test_a_mapping_of_another_companys_record_is_refused(new_shopify_integration):
	api.discover(new_shopify_integration)
	row = frappe.get_doc(
		MAPPING,
		{"integration": new_shopify_integration, "external_key": "gid://shopify/Location/70002"},
	)
	other = frappe.get_all(
		"Warehouse", filters={"company": ("!=", COMPANY), "is_group": 0}, pluck="name", limit=1
	)[0]
	row.target_name = other
	with pytest.raises(frappe.ValidationError, match="belongs to company"):
		row.save()
	frappe.db.rollback()
	integration = frappe.get_doc("Kraal Integration", new_shopify_integration)
	integration.default_warehouse = other
	with pytest.raises(frappe.ValidationError, match="belongs to company"):
		integration.save()
	frappe.db.rollback()


def test_a_run_that_finds_no_orders_since_sync_from_says_so(new_shopify_integration):
	frappe.db.set_value("Kraal Integration", new_shopify_integration, "sync_start_date", "2030-01-01")
	frappe.db.commit()
	api.discover(new_shopify_integration)  # no order since then: only the locations to map
	fill_listed_rows(
		new_shopify_integration, {k: v for k, v in SHOPIFY_CHOICES.items() if k[0] == LOCATION_MAPPING}
	)
	log = frappe.get_doc("Kraal Sync Log", run_integration(new_shopify_integration, "Manual"))
	assert "No orders found since 2030-01-01 (Sync From)" in log.summary
	assert counts(log)["order"] == (0, 0, 0, 0, 0, 0)


# -- Amazon ----------------------------------------------------------------------------------------

AMAZON_CHOICES = {
	**{
		(amazon.FEE_TYPE, key): amazon_helpers.account(target)
		for key, target in amazon_helpers.FEE_ACCOUNTS.items()
	},
	**{
		(amazon.ORDER_CHARGE, key): amazon_helpers.account(target)
		for key, target in amazon_helpers.CHARGE_ACCOUNTS.items()
	},
	**{
		(amazon.CLEARING, key): amazon_helpers.account(target)
		for key, target in amazon_helpers.CLEARING_ACCOUNTS.items()
	},
	(amazon.FULFILMENT, "MFN"): amazon_helpers.account("Stores"),
}
SHIPPED = ["111-4827361-0012001", "111-4827361-0012002", "111-4827361-0012003", "702-5550101-0020001"]
UNSHIPPED = "111-4827361-0012004"


@pytest.fixture
def amazon_account(site, tmp_path):
	"""The seller account's emulator, the suite's company with its accounts and CAD rate, and the
	merchant's own count of the knife it ships itself (a count, no rate: ERPNext values it at zero)."""
	amazon_helpers.ensure_company()
	rate = amazon_helpers.ensure_cad_rate()
	data = Path(shutil.copytree(amazon_helpers.FIXTURES, tmp_path / "amazon"))
	emulator = AmazonEmulator(data).start()
	emulator.set_rate_limit("getCatalogItem", burst=10)
	count = merchant_count_of_the_knife()
	names = []
	yield emulator, data, names
	emulator.stop()
	for name in names:
		amazon_helpers.purge(name)
	amazon_helpers.unstock_the_knife()
	delete_document("Stock Reconciliation", count)
	if rate:
		frappe.delete_doc("Currency Exchange", rate, force=True, delete_permanently=True)
	frappe.db.commit()


def merchant_count_of_the_knife() -> str:
	if not frappe.db.exists("Item", amazon_helpers.KNIFE):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": amazon_helpers.KNIFE,
				"item_name": "Folding knife",
				"item_group": "Products",
				"stock_uom": "Nos",
				"is_stock_item": 1,
			}
		).insert()
	count = frappe.get_doc(
		{
			"doctype": "Stock Reconciliation",
			"company": amazon_helpers.COMPANY,
			"purpose": "Stock Reconciliation",
			"expense_account": amazon_helpers.account("Temporary Opening"),
			"posting_date": amazon_helpers.RATE_DATE,
			"set_posting_time": 1,
			"items": [
				{
					"item_code": amazon_helpers.KNIFE,
					"warehouse": amazon_helpers.account("Stores"),
					"qty": amazon_helpers.KNIFE_OPENING_QTY,
					"allow_zero_valuation_rate": 1,
				}
			],
		}
	).insert()
	count.submit()
	frappe.db.commit()
	return count.name


def test_amazon_discover_map_then_one_sync_books_every_order_and_settlement(amazon_account):
	emulator, data, names = amazon_account
	client_id, secret, refresh_token = amazon_helpers.lwa_credentials(data)
	doc = frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": f"Amazon {frappe.generate_hash(length=6)}",
			"vendor": "Amazon",
			"company": amazon_helpers.COMPANY,
			"client_id": client_id,
			"client_secret": secret,
			"refresh_token": refresh_token,
			"amazon_region": "na",
			"marketplace_ids": f"{amazon_helpers.US}\n{amazon_helpers.CA}",
			"sync_start_date": amazon_helpers.START,
			"api_base_url": emulator.url,
		}
	).insert()
	names.append(doc.name)
	frappe.db.commit()

	result = api.discover(doc.name)
	assert result["listed"] == len(AMAZON_CHOICES)
	assert frappe.db.count("Sales Order", {"company": amazon_helpers.COMPANY}) == 0  # nothing booked
	listed = fill_listed_rows(doc.name, AMAZON_CHOICES)
	assert listed[(amazon.FEE_TYPE, "ItemFees:FBAPerUnitFulfillmentFee")]["title"] == (
		"FBAPerUnitFulfillmentFee (Order, ItemFees)"
	)
	assert listed[(amazon.CLEARING, "USD")]["suggested"] == amazon_helpers.account("Amazon Clearing USD")
	assert listed[(amazon.ORDER_CHARGE, "PromotionDiscount")]["suggested"] == amazon_helpers.account(
		"Amazon Promotions"
	)

	log = frappe.get_doc("Kraal Sync Log", run_integration(doc.name, "Manual"))
	assert log.status == "Success", log.summary
	assert open_failures(doc.name) == []
	assert counts(log)[amazon.ORDERS] == (7, 5, 0, 0, 2, 0)  # the cancelled and the pending book nothing
	assert counts(log)[amazon.SETTLEMENTS] == (2, 2, 0, 0, 0, 0)
	assert sorted(amazon_helpers.linked(doc.name, amazon.ORDERS)) == sorted([*SHIPPED, UNSHIPPED])
	assert sorted(amazon_helpers.linked(doc.name, f"{amazon.ORDERS}:{amazon.INVOICE}")) == sorted(SHIPPED)
	# Amazon gives no cost, and nobody typed a rate: the listings' stock is valued at zero.
	assert (
		frappe.get_all(
			"Item", filters={"item_code": ("like", "KR-%"), "valuation_rate": (">", 0)}, pluck="name"
		)
		== []
	)
	assert frappe.db.count("Kraal Sync Log", {"integration": doc.name}) == 1  # no second round


# -- QuickBooks --------------------------------------------------------------------------------------


def test_quickbooks_discover_lists_every_account_and_tax_rate_with_the_companys_own_where_named_alike(
	qbo_integration, qbo_data
):
	realm = qbo_data / "realms" / qbo_helpers.REALM
	accounts = json.loads((realm / "Account.json").read_text())["QueryResponse"]["Account"]
	rates = json.loads((realm / "TaxRate.json").read_text())["QueryResponse"]["TaxRate"]
	# Connecting already pointed QuickBooks' A/R, A/P and the like at the company's own accounts.
	filled_before = set(
		frappe.get_all(
			MAPPING,
			filters={"integration": qbo_integration, "target_name": ("is", "set")},
			pluck="external_key",
		)
	)
	result = api.discover(qbo_integration)
	assert result["listed"] == len(accounts) + len(rates)
	# A row left empty is migrated (an account) or books to the sales-tax payable (a rate).
	empty = frappe.db.count(MAPPING, {"integration": qbo_integration, "target_name": ("is", "not set")})
	assert (result["empty"], result["automatic"]) == (0, empty)
	assert empty and "rows left empty are set up by the first sync itself" in result["message"]
	assert frappe.get_all("Kraal External Link", filters={"integration": qbo_integration}) == []

	rows = frappe.get_all(
		MAPPING,
		filters={"integration": qbo_integration},
		fields=["key_type", "external_key", "external_name", "target_name"],
	)
	titles = {(r.key_type, r.external_key): r.external_name for r in rows}
	assert titles[("QuickBooks Account", "38")] == "Equipment:Vehicles"
	assert titles[("Tax Rate", "1")] == "California"
	by_id = {a["Id"]: a for a in accounts}
	suggested = [
		r
		for r in rows
		if r.target_name and r.key_type == "QuickBooks Account" and r.external_key not in filled_before
	]
	assert len(suggested) == result["suggested"]
	assert suggested  # the standard chart has accounts of QuickBooks' names (Cost of Goods Sold)
	for row in suggested:
		company, name, number = frappe.db.get_value(
			"Account", row.target_name, ["company", "account_name", "account_number"]
		)
		qbo = by_id[row.external_key]
		assert company == qbo_helpers.COMPANY
		assert number == qbo.get("AcctNum") or set(words(qbo["FullyQualifiedName"])) <= set(words(name))
