"""The fixture Shopify store synced into a real site: documents and stock equal Shopify's to the cent."""

import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import frappe
import pytest

from kraal_connect.connectors.shopify import mapping
from kraal_connect.connectors.shopify.mapping import legacy_id, variant_item_code
from kraal_connect.engine.runner import run_integration
from tests.bench.shopify_helpers import (
	ABBR,
	DATASET,
	GATEWAYS,
	LOCATIONS,
	PAID,
	PRICE_LIST,
	Store,
	connect_store,
	gl_balance,
	linked,
	linked_docs,
	money,
	purge_integration,
	settled_by_gateway,
	start_store,
	stock_at_shopify_and_held,
	successful,
)
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.shopify_helpers"]


@dataclass
class Synced:
	integration: str
	store: Store
	first_log: object


@pytest.fixture(scope="module")
def synced(shopify_company, tmp_path_factory):
	"""The fixture store synced once; the tests of this module read what it wrote."""
	store = start_store(Path(shutil.copytree(DATASET, tmp_path_factory.mktemp("synced") / "shopify")))
	name = connect_store(store.emulator.url)
	first_log = run_integration(name, "Manual")
	yield Synced(name, store, frappe.get_doc("Kraal Sync Log", first_log))
	store.emulator.stop()
	purge_integration(name)


def order_docs(integration: str, order: dict) -> dict[str, frappe.model.document.Document]:
	"""What the order's record wrote, by external type."""
	rows = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration, "external_id": order["id"]},
		fields=["external_type", "reference_doctype", "reference_name"],
	)
	return {r.external_type: frappe.get_doc(r.reference_doctype, r.reference_name) for r in rows}


def test_the_whole_store_syncs(synced):
	log = synced.first_log
	assert log.status == "Success", [(f.external_id, f.message) for f in log.failures]
	# the deleted Vintage Cap has nothing to disable; #1007 was cancelled unpaid and is never booked
	assert counts(log) == {
		"product": (5, 4, 0, 0, 1, 0),
		"customer": (3, 3, 0, 0, 0, 0),
		"order": (7, 6, 0, 0, 1, 0),
		"inventory_level": (13, 12, 0, 0, 1, 0),
	}


def test_orders_invoices_payments_deliveries_and_credit_notes_equal_shopifys_to_the_cent(synced):
	integration = synced.integration
	store = synced.store
	booked = {"Sales Order": 0, "Sales Invoice": 0, "Payment Entry": 0, "Delivery Note": 0}
	for order in store.records("orders"):
		docs = order_docs(integration, order)
		totals = mapping.shopify_totals(order)
		shop_totals = mapping.shopify_totals(order, "shopMoney")
		paid = successful(order.get("transactions"), PAID)
		if order.get("cancelledAt") and not paid:
			assert "order" not in docs, order["name"]
			continue
		sales_order = docs["order"]
		assert sales_order.docstatus == 1
		assert (sales_order.currency, money(sales_order.grand_total)) == (
			order["presentmentCurrencyCode"],
			totals.total,
		), order["name"]
		assert money(sales_order.base_grand_total) == shop_totals.total, order["name"]
		assert money(sales_order.total_taxes_and_charges) == totals.tax + (
			Decimal(0) if sales_order.items[-1].item_code.startswith("SHOPIFY-SHIPPING") else totals.shipping
		)
		booked["Sales Order"] += 1
		if paid:
			invoice = docs["order:invoice"]
			assert (invoice.docstatus, money(invoice.grand_total), money(invoice.base_grand_total)) == (
				1,
				totals.total,
				shop_totals.total,
			), order["name"]
			if order.get("cancelledAt"):  # closed: its stock is free, and nothing new names it
				assert (sales_order.status, {row.sales_order for row in invoice.items}) == ("Closed", {None})
			else:
				assert {row.sales_order for row in invoice.items} == {sales_order.name}
				assert sales_order.per_billed == 100
			booked["Sales Invoice"] += 1
		for transaction in paid:
			payment = docs[f"order:payment:{legacy_id(transaction['id'])}"]
			assert money(payment.paid_amount) == money(transaction["amountSet"]["shopMoney"]["amount"])
			assert payment.paid_to == f"{GATEWAYS[transaction['gateway']]} - {ABBR}"
			assert payment.references[0].reference_name == docs["order:invoice"].name
			booked["Payment Entry"] += 1
		for fulfillment in order.get("fulfillments") or []:
			delivery = docs[f"order:delivery:{legacy_id(fulfillment['id'])}"]
			warehouse = f"{LOCATIONS[fulfillment['location']['id']]} - {ABBR}"
			shipped = sum(r["quantity"] for r in fulfillment["fulfillmentLineItems"]["nodes"])
			assert (delivery.docstatus, sum(r.qty for r in delivery.items)) == (1, shipped)
			assert {(r.warehouse, r.against_sales_order) for r in delivery.items} == {
				(warehouse, sales_order.name)
			}
			booked["Delivery Note"] += 1
		for refund in order.get("refunds") or []:
			rid = legacy_id(refund["id"])
			refunded = money(refund["totalRefundedSet"]["presentmentMoney"]["amount"])
			credit_note = docs[f"order:refund:{rid}"]
			assert (credit_note.is_return, money(credit_note.grand_total)) == (1, -refunded), order["name"]
			assert credit_note.return_against == docs["order:invoice"].name
			for transaction in successful(refund["transactions"]["nodes"], ("REFUND",)):
				payment = docs[f"order:refund_payment:{legacy_id(transaction['id'])}"]
				assert (payment.payment_type, money(payment.paid_amount)) == (
					"Pay",
					money(transaction["amountSet"]["shopMoney"]["amount"]),
				)
	assert booked == {"Sales Order": 6, "Sales Invoice": 5, "Payment Entry": 5, "Delivery Note": 4}


def test_the_books_hold_what_shopify_settled(synced):
	"""Each gateway's clearing account holds the payments less the refunds; the receivable is settled."""
	integration = synced.integration
	expected = settled_by_gateway(synced.store)
	assert expected["shopify_payments"] == Decimal("196.18")  # 63.98 + 84.63 + 67.10 + 44.49 - 19.53 - 44.49
	vouchers = [d.name for d in linked_docs(integration, "Payment Entry")]
	for gateway, amount in expected.items():
		assert gl_balance(f"{GATEWAYS[gateway]} - {ABBR}", vouchers) == amount, gateway
	invoices = linked_docs(integration, "Sales Invoice")
	assert {(i.name, money(i.outstanding_amount)) for i in invoices} == {
		(i.name, Decimal("0.00")) for i in invoices
	}


def test_stock_equals_shopifys_on_hand_at_every_mapped_location(synced):
	expected, held = stock_at_shopify_and_held(synced.store)
	assert held == expected
	assert expected[("TEE-S-BLK", f"Main Warehouse - {ABBR}")] == 40


def test_products_become_templates_variants_and_prices(synced):
	integration = synced.integration
	store = synced.store
	tee = frappe.get_doc("Item", linked(integration, "product", "gid://shopify/Product/8001"))
	assert (tee.item_code, tee.has_variants, [a.attribute for a in tee.attributes]) == (
		"SHOPIFY-P8001",
		1,
		["Size", "Colour"],
	)
	variant = frappe.get_doc("Item", "TEE-M-WHT")
	assert variant.variant_of == "SHOPIFY-P8001"
	assert {(a.attribute, a.attribute_value) for a in variant.attributes} == {
		("Size", "M"),
		("Colour", "White"),
	}
	assert [b.barcode for b in variant.barcodes] == ["0860001180141"]
	assert (variant.weight_per_unit, variant.weight_uom, variant.valuation_rate) == (0.22, "Kg", 8.0)
	prices = {
		p.item_code: money(p.price_list_rate)
		for p in frappe.get_all(
			"Item Price", filters={"price_list": PRICE_LIST}, fields=["item_code", "price_list_rate"]
		)
	}
	for product in store.records("products"):
		for node in product["variants"]["nodes"]:
			assert prices[variant_item_code(node)] == money(node["price"])
	assert frappe.db.get_value("Item", "SHOPIFY-V18022", "item_name") == "Wool Socks - L"  # no SKU
	assert frappe.db.get_value("Item", "JACKET-1", "disabled") == 1  # archived at Shopify


def test_customers_with_addresses_and_contacts_and_one_guest_customer_per_store(synced):
	integration = synced.integration
	store = synced.store
	alice = linked(integration, "customer", "gid://shopify/Customer/9001")
	addresses = frappe.get_all(
		"Dynamic Link", filters={"link_doctype": "Customer", "link_name": alice, "parenttype": "Address"}
	)
	assert len(addresses) == 2
	contact = frappe.get_doc(
		"Contact", linked(integration, "customer:contact", "gid://shopify/Customer/9001")
	)
	assert contact.email_id == "alice@example.com"
	guest = frappe.db.get_value("Kraal Integration", integration, "guest_customer")
	assert guest == "Shopify guest (Kraal Outfitters)"
	guest_order = next(o for o in store.records("orders") if not o.get("customer"))
	assert order_docs(integration, guest_order)["order"].customer == guest


def test_an_order_with_a_deleted_product_books_the_fallback_item_and_the_log_says_so(synced):
	integration = synced.integration
	store = synced.store
	log = synced.first_log
	order = store.load("orders", "5001")
	sales_order = order_docs(integration, order)["order"]
	fallback = frappe.db.get_value("Kraal Integration", integration, "fallback_item")
	row = next(r for r in sales_order.items if r.item_code == fallback)
	assert (row.item_name, row.qty, money(row.rate)) == ("Vintage Cap", 1, Decimal("30.00"))
	assert frappe.db.get_value("Item", fallback, "is_stock_item") == 0
	notes = frappe.get_all(
		"Comment",
		filters={"reference_doctype": "Kraal Sync Log", "reference_name": log.name},
		pluck="content",
	)
	assert notes == [
		f"Shopify order #1001: booked with the fallback item {fallback} for Vintage Cap, SKU CAP-VIN x 1"
	]
	assert money(sales_order.grand_total) == mapping.shopify_totals(order).total


def test_a_second_sync_writes_nothing_even_from_the_beginning(synced):
	integration = synced.integration
	written = frappe.db.count("Kraal External Link", {"integration": integration})
	run_integration(integration, "Manual")
	log = latest_log(integration)
	assert log.status == "Success"
	assert all(c[1:4] == (0, 0, 0) for c in counts(log).values()), counts(log)
	frappe.db.set_value("Kraal Integration Entity", {"parent": integration}, "cursor", "")
	frappe.db.commit()
	run_integration(integration, "Manual")
	log = latest_log(integration)
	assert counts(log)["order"] == (7, 0, 0, 0, 7, 0)
	assert all(c[1:4] == (0, 0, 0) for c in counts(log).values()), counts(log)
	assert frappe.db.count("Kraal External Link", {"integration": integration}) == written


def test_a_sync_with_nothing_new_asks_shopify_once_a_read(synced):
	"""A run that finds nothing new asks once for the store and its locations, once for each entity
	(products, the events of deleted products, customers, orders) and once for each mapped location's
	inventory levels."""
	store = synced.store
	store.emulator.requests.clear()
	run_integration(synced.integration, "Manual")
	log = latest_log(synced.integration)
	assert log.status == "Success"
	assert all(c[1:4] == (0, 0, 0) for c in counts(log).values()), counts(log)
	assert Counter(r.get("operation") for r in store.emulator.requests) == {
		"ShopAndLocations": 1,
		"Products": 1,
		"ProductDeletions": 1,
		"Customers": 1,
		"Orders": 1,
		"InventoryLevels": len(LOCATIONS),
	}
