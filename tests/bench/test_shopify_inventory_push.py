"""ERPNext holds the stock: a stock movement in a warehouse mapped to a Shopify location sends the
Item's available quantity to Shopify, in batches, from one queued push."""

import frappe
import pytest
from frappe.utils.background_jobs import get_job

from kraal_connect.connectors.shopify.integration import INVENTORY_PUSH
from kraal_connect.engine import pending
from kraal_connect.engine.outbound import PUSH, push_pending
from kraal_connect.engine.runner import run_integration
from tests.bench.shopify_helpers import ABBR, COMPANY, MAIN, delete_document
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.shopify_helpers"]

TEE_AT_MAIN = f"{MAIN.replace('Location', 'InventoryLevel')}?inventory_item_id=48011"


@pytest.fixture
def erpnext_holds_stock(connected):
	"""An integration whose products are synced and whose stock ERPNext holds; the stock entries a
	test makes and its push queue go with it."""
	name = connected(inventory_source="ERPNext")
	for entity in ("customer", "order", "inventory_level"):
		frappe.db.set_value("Kraal Integration Entity", {"parent": name, "entity": entity}, "enabled", 0)
	frappe.db.commit()
	run_integration(name, "Manual")
	entries = []
	yield name, entries
	pending.done(PUSH, name, INVENTORY_PUSH, pending.waiting(PUSH, name, INVENTORY_PUSH))
	job = get_job(f"kraal_{PUSH}::{name}::{INVENTORY_PUSH}")
	if job:
		job.delete()
	for entry in reversed(entries):
		delete_document("Stock Entry", entry)
	frappe.db.commit()


def receive(item_code: str, warehouse: str, qty: float) -> str:
	entry = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"company": COMPANY,
			"stock_entry_type": "Material Receipt",
			"items": [{"item_code": item_code, "t_warehouse": warehouse, "qty": qty, "basic_rate": 8}],
		}
	)
	entry.insert()
	entry.submit()
	frappe.db.commit()
	return entry.name


def available(emulator, level_id: str) -> int | None:
	changed = emulator.inventory_changes.get(level_id) or {}
	return next((q["quantity"] for q in changed.get("quantities", []) if q["name"] == "available"), None)


def test_a_stock_entry_in_erpnext_sets_shopifys_available_quantity(erpnext_holds_stock, shopify_store):
	integration, entries = erpnext_holds_stock
	entries.append(receive("TEE-S-BLK", f"Main Warehouse - {ABBR}", 15))
	entries.append(receive("TEE-S-BLK", f"Main Warehouse - {ABBR}", 2))
	assert pending.waiting(PUSH, integration, INVENTORY_PUSH) == ["TEE-S-BLK"]  # one key for both
	assert get_job(f"kraal_{PUSH}::{integration}::{INVENTORY_PUSH}")

	log = frappe.get_doc("Kraal Sync Log", push_pending(integration, INVENTORY_PUSH))
	assert (log.trigger, log.status, counts(log)[INVENTORY_PUSH]) == (
		"ERPNext Change",
		"Success",
		(1, 0, 1, 0, 0, 0),
	)
	assert available(shopify_store.emulator, TEE_AT_MAIN) == 17
	assert pending.waiting(PUSH, integration, INVENTORY_PUSH) == []


def test_movements_shopify_cannot_see_are_not_pushed(erpnext_holds_stock, shopify_store):
	integration, entries = erpnext_holds_stock
	entries.append(receive("TEE-S-BLK", f"Stores - {ABBR}", 5))  # not a Shopify location
	assert pending.waiting(PUSH, integration, INVENTORY_PUSH) == []
	frappe.db.set_value("Kraal Integration", integration, "inventory_source", "Shopify")
	frappe.db.commit()
	frappe.clear_document_cache("Kraal Integration", integration)
	entries.append(receive("TEE-S-BLK", f"Main Warehouse - {ABBR}", 5))  # Shopify holds the stock
	assert pending.waiting(PUSH, integration, INVENTORY_PUSH) == []
	assert latest_log(integration).trigger == "Manual"
	assert shopify_store.emulator.inventory_changes == {}


def test_a_change_rolled_back_is_never_queued(erpnext_holds_stock):
	integration, _ = erpnext_holds_stock
	entry = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"company": COMPANY,
			"stock_entry_type": "Material Receipt",
			"items": [
				{
					"item_code": "TEE-S-BLK",
					"t_warehouse": f"Main Warehouse - {ABBR}",
					"qty": 3,
					"basic_rate": 8,
				}
			],
		}
	)
	entry.insert()
	entry.submit()
	assert pending.waiting(PUSH, integration, INVENTORY_PUSH) == []  # not before the commit
	frappe.db.rollback()
	assert pending.waiting(PUSH, integration, INVENTORY_PUSH) == []
	assert not get_job(f"kraal_{PUSH}::{integration}::{INVENTORY_PUSH}")


def test_a_push_waits_while_the_store_needs_reauthentication(erpnext_holds_stock, shopify_store):
	integration, entries = erpnext_holds_stock
	entries.append(receive("TEE-S-BLK", f"Main Warehouse - {ABBR}", 4))
	frappe.db.set_value("Kraal Integration", integration, "status", "Needs Re-authentication")
	frappe.db.commit()
	assert push_pending(integration, INVENTORY_PUSH) is None
	assert pending.waiting(PUSH, integration, INVENTORY_PUSH) == ["TEE-S-BLK"]
	assert available(shopify_store.emulator, TEE_AT_MAIN) is None

	frappe.db.set_value("Kraal Integration", integration, "status", "Active")
	frappe.db.commit()
	assert frappe.get_doc("Kraal Sync Log", push_pending(integration, INVENTORY_PUSH)).status == "Success"
	assert available(shopify_store.emulator, TEE_AT_MAIN) == 4
