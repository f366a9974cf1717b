"""Integrations on a site that already holds data: another company, a Supplier, Customer and Item of the
names QuickBooks uses, a bank linked into two companies, two Shopify stores selling the same SKUs.

Each rule is engine/shared_masters: an existing master is matched, not duplicated and not taken over;
only the integration's own company's rows are merged into it; nothing site-wide changes.
"""

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import frappe
import pytest

from kraal_connect.connectors.qbo.reconciliation import reconcile, reconcile_books
from kraal_connect.connectors.shopify import mapping as shopify_mapping
from kraal_connect.connectors.shopify.mapping.records import CUSTOMERS, ORDERS, PRODUCTS, variant_type
from kraal_connect.engine.runner import run_integration
from tests.bench import plaid_helpers, shopify_helpers
from tests.bench.conftest import ABBR as OTHER_ABBR
from tests.bench.conftest import COMPANY as OTHER_COMPANY
from tests.bench.qbo_helpers import COMPANY, delete_document, source_records
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.qbo_helpers", "tests.bench.shopify_helpers"]

# Every Single a migration or a store could be tempted to change for the whole site.
SITE_SETTINGS = (
	"Accounts Settings",
	"Buying Settings",
	"Global Defaults",
	"Selling Settings",
	"Stock Settings",
	"System Settings",
)


def site_settings() -> dict:
	rows = frappe.db.sql(
		"select doctype, field, value from tabSingles where doctype in %s and field not in ('modified')",
		[SITE_SETTINGS],
	)
	uoms = frappe.get_all("UOM", fields=["name", "must_be_whole_number"])
	return {(d, f): v for d, f, v in rows} | {("UOM", u.name): u.must_be_whole_number for u in uoms}


def changed_settings(before: dict, after: dict) -> dict:
	"""Settings that differ; a UOM the integration added is its own (QuickBooks Unit), not a change."""
	return {
		key: (before.get(key), after.get(key))
		for key in before.keys() | after.keys()
		if before.get(key) != after.get(key) and not (key[0] == "UOM" and key not in before)
	}


# -- QuickBooks into a second company, beside a bank linked into both ---------------------------


@pytest.fixture
def existing_masters(qbo_data):
	"""The other company's Supplier, Customer and Item, named as QuickBooks names its own."""
	vendor = source_records(qbo_data, "Vendor")[0]["DisplayName"]
	customer = source_records(qbo_data, "Customer")[0]["DisplayName"]
	item = next(i for i in source_records(qbo_data, "Item") if i["Type"] == "Inventory")
	rent = next(a for a in source_records(qbo_data, "Account") if a["AccountType"] == "Expense")
	made = [
		# The ledger account a person made before the migration, as QuickBooks numbers and names it.
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": rent["Name"],
				"account_number": rent["AcctNum"],
				"company": COMPANY,
				"parent_account": frappe.db.get_value(
					"Account", {"company": COMPANY, "root_type": "Expense", "is_group": 1}
				),
			}
		).insert(),
		frappe.get_doc(
			{
				"doctype": "Supplier",
				"supplier_name": vendor,
				"supplier_group": frappe.db.get_value("Supplier Group", {"is_group": 0}),
				"accounts": [{"company": OTHER_COMPANY, "account": f"Creditors - {OTHER_ABBR}"}],
			}
		).insert(),
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": customer,
				"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
				"territory": frappe.db.get_value("Territory", {"is_group": 0}),
				"accounts": [{"company": OTHER_COMPANY, "account": f"Debtors - {OTHER_ABBR}"}],
			}
		).insert(),
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item["FullyQualifiedName"],
				"item_name": item["Name"],
				"item_group": frappe.db.get_value("Item Group", {"is_group": 0}),
				"stock_uom": "Nos",
				"is_stock_item": 1,
				"item_defaults": [
					{
						"company": OTHER_COMPANY,
						"default_warehouse": f"Stores - {OTHER_ABBR}",
						"income_account": f"Sales - {OTHER_ABBR}",
					}
				],
			}
		).insert(),
	]
	frappe.db.commit()
	yield {doc.doctype: doc.name for doc in made}
	frappe.db.rollback()
	for doc in made:
		delete_document(doc.doctype, doc.name)
	frappe.db.commit()


def other_company_rows(doctype: str, name: str, table: str) -> list[dict]:
	doc = frappe.get_doc(doctype, name)
	return [
		{k: v for k, v in row.as_dict().items() if k not in ("modified", "creation", "idx")}
		for row in doc.get(table)
		if row.company == OTHER_COMPANY
	]


def test_a_migration_into_a_second_company_matches_what_the_site_holds_and_books_to_the_cent(
	existing_masters, qbo_integration, plaid_emulator, plaid_data
):
	frappe.db.set_value("Kraal Integration", qbo_integration, "sync_start_date", None)
	frappe.db.commit()
	settings = site_settings()
	kept = {
		("Supplier", "accounts"): other_company_rows("Supplier", existing_masters["Supplier"], "accounts"),
		("Customer", "accounts"): other_company_rows("Customer", existing_masters["Customer"], "accounts"),
		("Item", "item_defaults"): other_company_rows("Item", existing_masters["Item"], "item_defaults"),
	}
	supplier_group = frappe.db.get_value("Supplier", existing_masters["Supplier"], "supplier_group")
	banks = [
		plaid_helpers.connect_bank("item-platypus", plaid_emulator.url, company=c)
		for c in (
			OTHER_COMPANY,
			COMPANY,
		)
	]
	try:
		# The same bank in both companies: each books every transaction into its own Bank Accounts.
		for bank in banks:
			assert run_integration(bank, "Manual")
			assert latest_log(bank).status == "Success", [f.message for f in latest_log(bank).failures]
			assert plaid_helpers.booked_transactions(bank) == plaid_helpers.source_transactions(
				plaid_data, "item-platypus"
			)
		first, second = (set(plaid_helpers.bank_accounts_of(bank)) for bank in banks)
		assert len(first) == len(second) == 3 and not first & second
		assert {frappe.db.get_value("Bank Account", b, "company") for b in second} == {COMPANY}

		assert run_integration(qbo_integration, "Manual")
		log = latest_log(qbo_integration)
		assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
		assert not frappe.db.count("Kraal Failed Record", {"integration": qbo_integration, "status": "Open"})

		# Matched, not duplicated ("Name - 1") and not taken over: the other company keeps its rows.
		for doctype, name in existing_masters.items():
			assert frappe.db.get_value(
				"Kraal External Link",
				{"integration": qbo_integration, "reference_doctype": doctype, "reference_name": name},
				"matched",
			), doctype
		assert not frappe.db.exists("Customer", f"{existing_masters['Customer']} - 1")
		for (doctype, table), rows in kept.items():
			assert other_company_rows(doctype, existing_masters[doctype], table) == rows, doctype
			ours = [r for r in frappe.get_doc(doctype, existing_masters[doctype]).get(table)]
			assert {r.company for r in ours} == {OTHER_COMPANY, COMPANY}, doctype
		assert (
			frappe.db.get_value("Supplier", existing_masters["Supplier"], "supplier_group") == supplier_group
		)

		# The books equal QuickBooks' before and after a fiscal year-end, and so does stock per item.
		for as_of in ("2023-06-30", "2024-12-31"):
			result = reconcile_books(qbo_integration, as_of)
			assert result.differences == [], as_of
			assert result.stock and result.stock_differences == [], as_of
			assert result.failed == [] and result.failed_reposts == [], as_of
		assert existing_masters["Item"] in {s.item_code for s in reconcile_books(qbo_integration).stock}
		assert reconcile(qbo_integration, "2024-12-31")["migration_status"] == "Complete"

		# A second migration from the start writes nothing.
		written = frappe.db.count("Kraal External Link", {"integration": qbo_integration})
		frappe.db.set_value("Kraal Integration Entity", {"parent": qbo_integration}, "cursor", "")
		frappe.db.commit()
		assert run_integration(qbo_integration, "Manual")
		again = counts(latest_log(qbo_integration))
		assert {entity: c[1:4] for entity, c in again.items() if c[1:4] != (0, 0, 0)} == {}
		assert frappe.db.count("Kraal External Link", {"integration": qbo_integration}) == written

		assert changed_settings(settings, site_settings()) == {}
	finally:
		for bank in banks:
			plaid_helpers.purge_integration(bank)


# -- two Shopify stores selling the same SKUs ---------------------------------------------------

# Shopify's ids are per store: the second store's products, variants, orders and customers get ids of
# their own (this offset), its SKUs and its locations' names stay the same.
SECOND_STORE = 700000000
SECOND_WAREHOUSES = {key: f"Second Store {name}" for key, name in shopify_helpers.LOCATIONS.items()}
NON_ASCII = "zoë.müller@exämple.de"


def second_store_dataset(target: Path) -> Path:
	shutil.copytree(shopify_helpers.DATASET, target)

	def shift(match):
		return f"{match.group(1)}{int(match.group(2)) + SECOND_STORE}"

	pattern = re.compile(
		r"(gid://shopify/(?!Location/|Shop/)\w+/|inventory_item_id=|\"legacyResourceId\": \")(\d+)"
	)
	for path in sorted(target.rglob("*.json")):
		path.write_text(pattern.sub(shift, path.read_text()))
		kind = path.parent.name
		if kind in ("products", "orders", "customers", "events"):
			path.rename(path.with_name(f"{int(path.stem) + SECOND_STORE}.json"))
		elif kind == "inventory_levels":
			location, item = path.stem.split("-")
			path.rename(path.with_name(f"{location}-{int(item) + SECOND_STORE}.json"))
	customer = json.loads(next((target / "customers").glob("*.json")).read_text())
	customer_id = 9900 + SECOND_STORE
	customer.update(
		{
			"id": f"gid://shopify/Customer/{customer_id}",
			"firstName": "Zoë",
			"lastName": "Müller",
			"displayName": "Zoë Müller",
			"email": NON_ASCII,
			"defaultEmailAddress": {"emailAddress": NON_ASCII},
			"addresses": [],
			"defaultAddress": None,
		}
	)
	(target / "customers" / f"{customer_id}.json").write_text(json.dumps(customer))
	return target


@pytest.fixture
def two_stores(shopify_company, tmp_path):
	"""The fixture store and a second one selling the same SKUs, each with its own warehouses; both
	purged afterwards, the second first (the first owns the Items both sell)."""
	for name in SECOND_WAREHOUSES.values():
		shopify_helpers.ensure_doc(
			"Warehouse",
			f"{name} - {shopify_helpers.ABBR}",
			{
				"warehouse_name": name,
				"company": shopify_helpers.COMPANY,
				"parent_warehouse": f"All Warehouses - {shopify_helpers.ABBR}",
			},
		)
	frappe.db.commit()
	first = shopify_helpers.start_store(Path(shutil.copytree(shopify_helpers.DATASET, tmp_path / "first")))
	second = shopify_helpers.start_store(second_store_dataset(tmp_path / "second"))
	names = []
	try:
		names.append(shopify_helpers.connect_store(first.emulator.url))
		names.append(
			shopify_helpers.connect_store(
				second.emulator.url,
				default_warehouse=f"{SECOND_WAREHOUSES[shopify_helpers.MAIN]} - {shopify_helpers.ABBR}",
			)
		)
		for key, name in SECOND_WAREHOUSES.items():
			frappe.db.set_value(
				"Kraal Account Mapping",
				{
					"integration": names[1],
					"key_type": shopify_mapping.LOCATION_MAPPING,
					"external_key": key,
				},
				"target_name",
				f"{name} - {shopify_helpers.ABBR}",
			)
		frappe.db.commit()
		yield (names[0], first), (names[1], second)
	finally:
		for name in reversed(names):
			shopify_helpers.purge_integration(name)
		first.emulator.stop()
		second.emulator.stop()


def documents_of_orders(integration: str) -> Counter:
	return Counter(
		frappe.get_all(
			"Kraal External Link",
			filters={"integration": integration, "external_type": ("like", f"{ORDERS}%")},
			pluck="reference_doctype",
		)
	)


def test_a_second_store_selling_the_same_skus_books_every_order_beside_the_first(two_stores):
	(first, first_store), (second, second_store) = two_stores
	settings = site_settings()
	assert run_integration(first, "Manual")
	assert latest_log(first).status == "Success", [f.message for f in latest_log(first).failures]
	booked_stock = frappe.db.count(
		"Stock Ledger Entry", {"company": shopify_helpers.COMPANY, "is_cancelled": 0}
	)
	assert booked_stock

	assert run_integration(second, "Manual")
	log = latest_log(second)
	assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
	assert not frappe.db.count("Kraal Failed Record", {"integration": second, "status": "Open"})

	# The second store's order references are told apart from the first's (both start at #1001).
	prefix = frappe.db.get_value("Kraal Integration", second, "order_prefix")
	assert prefix and not frappe.db.get_value("Kraal Integration", first, "order_prefix")
	assert all(i.po_no.startswith(prefix) for i in shopify_helpers.linked_docs(second, "Sales Invoice"))

	# Every order of both stores booked: the second store, holding the same orders, wrote what the
	# first wrote (which test_shopify_sync checks against Shopify's own figures).
	assert documents_of_orders(second) == documents_of_orders(first)
	assert documents_of_orders(first)["Sales Invoice"]

	# The shared SKUs are one Item each, the first store's; the second store matched them.
	skus = {
		v["sku"]
		for p in first_store.records("products")
		for v in p["variants"]["nodes"]
		if (v.get("sku") or "").strip()
	}
	for sku in skus:
		links = frappe.get_all(
			"Kraal External Link",
			filters={
				"reference_doctype": "Item",
				"reference_name": sku,
				"integration": ("in", [first, second]),
			},
			fields=["integration", "matched"],
		)
		assert {(ln.integration, ln.matched) for ln in links} == {(first, 0), (second, 1)}, sku

	# Each store's stock is in its own warehouses, as each store counts it.
	for level in second_store.records("inventory_levels"):
		if not level["item"]["tracked"]:
			continue
		on_hand = next(q["quantity"] for q in level["quantities"] if q["name"] == "on_hand")
		warehouse = f"{SECOND_WAREHOUSES[level['location']['id']]} - {shopify_helpers.ABBR}"
		variant = level["item"]["variant"]
		item_code = level["item"]["sku"] or shopify_helpers.linked(
			second, variant_type(variant["id"]), variant["product"]["id"]
		)
		held = frappe.db.get_value("Bin", {"item_code": item_code, "warehouse": warehouse}, "actual_qty") or 0
		assert held == on_hand, (item_code, warehouse)
	expected, held = shopify_helpers.stock_at_shopify_and_held(first_store)
	assert held == expected

	# The customer whose e-mail ERPNext refuses is booked, the address kept and said in the log.
	customer = shopify_helpers.linked(second, CUSTOMERS, f"gid://shopify/Customer/{9900 + SECOND_STORE}")
	assert customer
	assert NON_ASCII in frappe.db.get_value("Customer", customer, "customer_details")
	assert NON_ASCII in log.summary

	# The second store deletes a product both sell: its own template goes, the first store's Items stay.
	tee = next(p for p in second_store.records("products") if p["title"] == "Classic Tee")
	tee_id = tee["id"].rsplit("/", 1)[1]
	(second_store.data / "products" / f"{tee_id}.json").unlink()
	second_store.save(
		"events",
		str(990002 + SECOND_STORE),
		{
			"__typename": "BasicEvent",
			"id": f"gid://shopify/BasicEvent/{990002 + SECOND_STORE}",
			"action": "destroy",
			"message": "Classic Tee was deleted.",
			"subjectId": tee["id"],
			"subjectType": "PRODUCT",
			"createdAt": "2026-11-30T12:00:00Z",
		},
	)
	assert run_integration(second, "Manual")
	assert latest_log(second).status == "Success", [f.message for f in latest_log(second).failures]
	tee_skus = [v["sku"] for v in tee["variants"]["nodes"]]
	assert frappe.get_all("Item", filters={"name": ("in", tee_skus), "disabled": 1}, pluck="name") == []
	assert frappe.db.get_value("Item", shopify_helpers.linked(second, PRODUCTS, tee["id"]), "disabled") == 1

	assert changed_settings(settings, site_settings()) == {}


def test_a_setup_record_deleted_by_someone_else_is_made_again(two_stores):
	"""Something else on the site deleted the store's shipping Item (a clean-up that did not know the
	integration used it): the next run makes it again instead of failing every order."""
	(first, _store), _second = two_stores
	assert run_integration(first, "Manual")
	shipping = frappe.db.get_value("Kraal Integration", first, "shipping_item")
	assert shipping
	frappe.db.delete("Item", {"name": shipping})
	frappe.db.commit()

	assert run_integration(first, "Manual")
	assert latest_log(first).status == "Success", [f.message for f in latest_log(first).failures]
	assert frappe.db.get_value("Kraal Integration", first, "shipping_item") == shipping
	assert frappe.db.get_value("Item", shipping, "is_stock_item") == 0
