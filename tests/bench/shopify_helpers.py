"""Shopify on a real site: a company of its own, the emulator on a private copy of the dataset, an
integration mapped to the company's warehouses and accounts, and a purge that removes what a test wrote.

The pytest fixtures are a plugin (test modules list this module in pytest_plugins); the benchmark uses
the same setup and purge.
"""

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import frappe
import pytest

from emulators.shopify import ShopifyEmulator
from kraal_connect.connectors.shopify import mapping
from kraal_connect.connectors.shopify.integration import ACCOUNT_MAPPING, SHIPPING_KEY
from tests.bench import site_helpers

COMPANY = "Kraal Shopify Co"
ABBR = "KSC"
DATASET = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
APP = json.loads((DATASET / "app.json").read_text())
DOMAIN, TOKEN, SECRET = APP["shop_domain"], APP["access_token"], APP["api_secret"]
MAIN, BROOKLYN = "gid://shopify/Location/70001", "gid://shopify/Location/70002"
PRICE_LIST = "Kraal Shopify Retail"
GATEWAYS = {
	"shopify_payments": "Shopify Payments Clearing",
	"paypal": "PayPal Clearing",
	"manual": "Manual Payments",
}
TAXES = {"NJ State Tax": "NJ Sales Tax", "NY State Tax": "NY Sales Tax", "New York City Tax": "NYC Sales Tax"}
LOCATIONS = {MAIN: "Main Warehouse", BROOKLYN: "Brooklyn Store"}
SHIPPING_ACCOUNT = "Shopify Shipping Income"
# Documents whose ledger rows go when the document is deleted.
LEDGERS = ("GL Entry", "Stock Ledger Entry", "Payment Ledger Entry")


# -- the company -----------------------------------------------------------------------------


def ensure_company(company: str = COMPANY, abbr: str = ABBR) -> None:
	"""The company with the warehouses, clearing, tax and shipping accounts the store maps to."""
	site_helpers.ensure_company(company, abbr)
	for name in LOCATIONS.values():
		ensure_doc(
			"Warehouse",
			f"{name} - {abbr}",
			{"warehouse_name": name, "company": company, "parent_warehouse": f"All Warehouses - {abbr}"},
		)
	bank_group = frappe.db.get_value("Account", {"company": company, "account_type": "Bank", "is_group": 1})
	for name in GATEWAYS.values():
		_account(company, abbr, name, bank_group, "Bank")
	taxes_group = frappe.db.get_value("Account", {"company": company, "account_name": "Duties and Taxes"})
	for name in TAXES.values():
		_account(company, abbr, name, taxes_group, "Tax")
	income_group = frappe.db.get_value("Account", {"company": company, "account_name": "Direct Income"})
	_account(company, abbr, SHIPPING_ACCOUNT, income_group, "Chargeable")
	ensure_doc("Price List", PRICE_LIST, {"price_list_name": PRICE_LIST, "currency": "USD", "selling": 1})
	frappe.db.commit()


def _account(company: str, abbr: str, name: str, parent: str, account_type: str) -> None:
	ensure_doc(
		"Account",
		f"{name} - {abbr}",
		{"account_name": name, "company": company, "parent_account": parent, "account_type": account_type},
	)


def ensure_doc(doctype: str, name: str, values: dict) -> None:
	if not frappe.db.exists(doctype, name):
		frappe.get_doc({"doctype": doctype, **values}).insert()


# -- the store -------------------------------------------------------------------------------


@dataclass
class Store:
	emulator: ShopifyEmulator
	data: Path

	def load(self, kind: str, name: str) -> dict:
		return json.loads((self.data / kind / f"{name}.json").read_text())

	def save(self, kind: str, name: str, record: dict) -> None:
		(self.data / kind / f"{name}.json").write_text(json.dumps(record, indent=2))

	def records(self, kind: str) -> list[dict]:
		return [json.loads(p.read_text()) for p in sorted((self.data / kind).glob("*.json"))]


def start_store(data: Path, **emulator_options) -> Store:
	return Store(ShopifyEmulator(data, **emulator_options).start(), data)


def connect_store(
	emulator_url: str,
	company: str = COMPANY,
	abbr: str = ABBR,
	inventory_source: str = "Shopify",
	shipping: str = "item",
	**fields,
) -> str:
	"""A Shopify integration of the fixture store, its locations, gateways and taxes mapped."""
	name = f"Shopify {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": name,
			"vendor": "Shopify",
			"company": company,
			"external_account": DOMAIN,
			"access_token": TOKEN,
			"webhook_secret": SECRET,
			"api_base_url": emulator_url,
			"price_list": PRICE_LIST,
			"default_warehouse": f"{LOCATIONS[MAIN]} - {abbr}",
			"inventory_source": inventory_source,
			**fields,
		}
	).insert()
	rows = [(mapping.LOCATION_MAPPING, key, "Warehouse", f"{w} - {abbr}") for key, w in LOCATIONS.items()]
	rows += [(mapping.GATEWAY_MAPPING, key, "Account", f"{a} - {abbr}") for key, a in GATEWAYS.items()]
	rows += [(mapping.TAX_MAPPING, key, "Account", f"{a} - {abbr}") for key, a in TAXES.items()]
	if shipping == "account":
		rows.append((ACCOUNT_MAPPING, SHIPPING_KEY, "Account", f"{SHIPPING_ACCOUNT} - {abbr}"))
	for key_type, key, doctype, target in rows:
		frappe.get_doc(
			{
				"doctype": "Kraal Account Mapping",
				"integration": name,
				"key_type": key_type,
				"external_key": key,
				"target_doctype": doctype,
				"target_name": target,
			}
		).insert()
	frappe.db.commit()
	return name


# -- what ERPNext holds ----------------------------------------------------------------------


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


def linked(integration: str, external_type: str, external_id: str) -> str | None:
	return frappe.db.get_value(
		"Kraal External Link",
		{"integration": integration, "external_type": external_type, "external_id": external_id},
		"reference_name",
	)


def linked_docs(integration: str, doctype: str) -> list:
	names = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration, "reference_doctype": doctype},
		pluck="reference_name",
	)
	return [frappe.get_doc(doctype, name) for name in names]


PAID = ("SALE", "CAPTURE")


def successful(transactions, kinds) -> list[dict]:
	return [t for t in transactions or [] if t["kind"] in kinds and t["status"] == "SUCCESS"]


def settled_by_gateway(store: Store) -> dict[str, Decimal]:
	"""What each gateway holds for the store's orders: the payments less the refunds, in USD."""
	settled = {name: Decimal(0) for name in GATEWAYS}
	for order in store.records("orders"):
		for transaction in successful(order.get("transactions"), PAID):
			settled[transaction["gateway"]] += money(transaction["amountSet"]["shopMoney"]["amount"])
		for refund in order.get("refunds") or []:
			for transaction in successful(refund["transactions"]["nodes"], ("REFUND",)):
				settled[transaction["gateway"]] -= money(transaction["amountSet"]["shopMoney"]["amount"])
	return settled


def stock_at_shopify_and_held(store: Store) -> tuple[dict, dict]:
	"""(item code, warehouse) -> Shopify's on-hand count of each tracked item at a mapped location, and
	what ERPNext's bins hold there."""
	item_codes = {
		variant["inventoryItem"]["id"]: mapping.variant_item_code(variant)
		for product in store.records("products")
		for variant in product["variants"]["nodes"]
	}
	expected = {}
	for level in store.records("inventory_levels"):
		if level["item"]["tracked"]:
			on_hand = next(q["quantity"] for q in level["quantities"] if q["name"] == "on_hand")
			warehouse = f"{LOCATIONS[level['location']['id']]} - {ABBR}"
			expected[(item_codes[level["item"]["id"]], warehouse)] = on_hand
	held = {
		(b.item_code, b.warehouse): int(b.actual_qty)
		for b in frappe.get_all(
			"Bin",
			filters={
				"item_code": ("in", list(set(item_codes.values()))),
				"warehouse": ("like", f"% - {ABBR}"),
			},
			fields=["item_code", "warehouse", "actual_qty"],
		)
	}
	return expected, {key: held.get(key, 0) for key in expected}


def gl_balance(account: str, vouchers: list[str]) -> Decimal:
	rows = frappe.get_all(
		"GL Entry",
		filters={"account": account, "voucher_no": ("in", vouchers or [""]), "is_cancelled": 0},
		fields=["debit", "credit"],
	)
	return money(sum(Decimal(str(r.debit)) - Decimal(str(r.credit)) for r in rows))


# -- cleaning up -----------------------------------------------------------------------------


def purge_integration(name: str) -> None:
	"""Remove everything an integration wrote, newest first, with the ledger rows of its vouchers."""
	frappe.db.rollback()
	links = frappe.get_all(
		"Kraal External Link",
		# A master the integration matched is another's (a store selling the same SKUs): kept.
		filters={"integration": name, "matched": 0},
		fields=["reference_doctype", "reference_name"],
		order_by="creation desc",
	)
	for link in links:
		retried_on_deadlock(delete_document, link.reference_doctype, link.reference_name)
	for doctype in (
		"Kraal External Link",
		"Kraal Account Mapping",
		"Kraal Sync Log",
		"Kraal Failed Record",
		"Kraal Platform Stock",
		"Kraal Queued Record",
	):
		frappe.db.delete(doctype, {"integration": name})
	if frappe.db.exists("Kraal Integration", name):
		frappe.delete_doc("Kraal Integration", name, force=True)
	frappe.db.commit()


def retried_on_deadlock(action: Callable, *args, attempts: int = 5) -> None:
	"""Other suites write stock and ledgers on the same site at the same time; MariaDB may pick this
	transaction as a deadlock's victim, and then the whole of it is done again."""
	for attempt in range(attempts):
		try:
			action(*args)
			frappe.db.commit()
			return
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == attempts - 1:
				raise
			time.sleep(0.5 * (attempt + 1))


def delete_document(doctype: str, name: str) -> None:
	"""Cancel and delete a document and every earlier version of it (the writer amends on change)."""
	while name and frappe.db.exists(doctype, name):
		doc = frappe.get_doc(doctype, name)
		if doc.docstatus == 1:
			if doc.get("status") == "Closed":  # a closed Sales Order is reopened to be cancelled
				doc.update_status("Draft")
				doc.reload()
			doc.flags.ignore_links = True
			doc.cancel()
		earlier = doc.get("amended_from")
		for repost in frappe.get_all("Repost Item Valuation", filters={"voucher_no": name}, pluck="name"):
			frappe.db.delete("Repost Item Valuation", repost)
		frappe.delete_doc(doctype, name, force=True, delete_permanently=True, ignore_permissions=True)
		for ledger in LEDGERS:
			frappe.db.delete(ledger, {"voucher_type": doctype, "voucher_no": name})
		if doctype == "Item":  # and the reposts ERPNext queued for its cancelled backdated entries
			frappe.db.delete("Bin", {"item_code": name})
			frappe.db.delete("Repost Item Valuation", {"item_code": name})
		name = earlier


def added_attribute_values(before: dict[str, set[str]]) -> None:
	"""Remove Item Attribute values added since `before` that no Item uses (a test's products made them)."""
	for attribute, values in attribute_values().items():
		used = set(
			frappe.get_all(
				"Item Variant Attribute", filters={"attribute": attribute}, pluck="attribute_value"
			)
		)
		for value in values - before.get(attribute, set()) - used:
			frappe.db.delete("Item Attribute Value", {"parent": attribute, "attribute_value": value})
		if attribute not in before and not used:
			frappe.delete_doc("Item Attribute", attribute, force=True, delete_permanently=True)
	frappe.db.commit()


def attribute_values() -> dict[str, set[str]]:
	values: dict[str, set[str]] = {}
	for row in frappe.get_all("Item Attribute Value", fields=["parent", "attribute_value"]):
		values.setdefault(row.parent, set()).add(row.attribute_value)
	for name in frappe.get_all("Item Attribute", pluck="name"):
		values.setdefault(name, set())
	return values


# -- pytest fixtures -------------------------------------------------------------------------


MULTI_CURRENCY = ("Accounts Settings", "allow_multi_currency_invoices_against_single_party_account")


@pytest.fixture(scope="session")
def shopify_company(site):
	"""The company, with invoices in the customer's currency allowed (order #1004 is paid in EUR)."""
	ensure_company()
	before = attribute_values()
	multi_currency = frappe.db.get_single_value(*MULTI_CURRENCY)
	frappe.db.set_single_value(*MULTI_CURRENCY, 1)
	frappe.db.commit()
	yield COMPANY
	frappe.db.set_single_value(*MULTI_CURRENCY, multi_currency)
	added_attribute_values(before)
	leftover = frappe.get_all("Kraal Integration", filters={"company": COMPANY}, pluck="name")
	assert not leftover, f"integrations left behind: {leftover}"


@pytest.fixture
def shopify_store(tmp_path) -> Store:
	"""The emulator on a private copy of the dataset, which a test may change."""
	store = start_store(Path(shutil.copytree(DATASET, tmp_path / "shopify")))
	yield store
	store.emulator.stop()


@pytest.fixture
def connected(shopify_company, shopify_store):
	"""connected(**fields) -> an integration of the store; each is purged afterwards."""
	names = []

	def connect(**fields):
		names.append(connect_store(shopify_store.emulator.url, **fields))
		return names[-1]

	yield connect
	for name in names:
		purge_integration(name)


# Transactions a Shopify integration writes, with the ledgers and queues they leave behind.
TRANSACTIONS = (
	"Payment Entry",
	"Sales Invoice",
	"Delivery Note",
	"Sales Order",
	"Stock Reconciliation",
	"Stock Entry",
	"Repost Item Valuation",
	"GL Entry",
	"Stock Ledger Entry",
	"Payment Ledger Entry",
)


def delete_company_transactions(company: str) -> None:
	"""Every transaction of a company removed by SQL, as ERPNext's Transaction Deletion Record does: for
	thousands of documents (the benchmark), cancelling each one would take as long as writing it."""
	for doctype in TRANSACTIONS:
		names = frappe.get_all(doctype, filters={"company": company}, pluck="name")
		for start in range(0, len(names), 1000):
			batch = names[start : start + 1000]
			for table in frappe.get_meta(doctype).get_table_fields():
				frappe.db.delete(table.options, {"parent": ("in", batch), "parenttype": doctype})
			frappe.db.delete("Version", {"ref_doctype": doctype, "docname": ("in", batch)})
			frappe.db.delete(doctype, {"name": ("in", batch)})
	warehouses = frappe.get_all("Warehouse", filters={"company": company}, pluck="name")
	frappe.db.delete("Bin", {"warehouse": ("in", warehouses or [""])})
	frappe.db.commit()
