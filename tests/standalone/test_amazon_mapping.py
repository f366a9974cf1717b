"""Orders, catalog items and FBA inventory -> ERPNext documents, from the fixture's own records."""

import json
from decimal import Decimal

import pytest

from kraal_connect.connectors.amazon import mapping
from kraal_connect.engine.errors import MissingMappingError, RecordError
from kraal_connect.engine.records import Ref
from tests.standalone.amazon_support import CA, FIXTURES, US, context

ORDERS = {
	o["AmazonOrderId"]: o
	for o in json.loads((FIXTURES / "orders/0001.json").read_text())["payload"]["Orders"]
}


def order(order_id, **overrides):
	"""An order record as the orders stream hands it to the mapper: the order with its OrderItems."""
	items_file = FIXTURES / "order_items" / f"{order_id}.json"
	items = json.loads(items_file.read_text())["payload"]["OrderItems"] if items_file.exists() else []
	return {**json.loads(json.dumps(ORDERS[order_id])), "OrderItems": items, **overrides}


def booked(targets):
	"""The documents an order books, without the Items it makes sure exist."""
	return None if targets is None else [t for t in targets if not t.create_only]


def reconciliation(summary, ctx):
	targets = mapping.stock_reconciliation(summary, ctx)
	return None if targets is None else booked(targets)[0].doc


def total(doc) -> Decimal:
	items = sum(Decimal(str(i["rate"])) * i["qty"] for i in doc["items"])
	return items + sum(Decimal(str(t["tax_amount"])) for t in doc["taxes"])


def test_a_shipped_fba_order_books_a_sales_order_and_an_invoice_matching_amazons_total():
	targets = booked(mapping.order_documents(order("111-4827361-0012002"), context()))
	assert [t.key for t in targets] == ["", "invoice"]
	so, si = (t.doc for t in targets)
	assert (so["doctype"], so["docstatus"], si["doctype"], si["docstatus"]) == (
		"Sales Order",
		1,
		"Sales Invoice",
		1,
	)
	assert (
		total(so)
		== total(si)
		== Decimal(ORDERS["111-4827361-0012002"]["OrderTotal"]["Amount"])
		== Decimal("53.98")
	)
	assert [(i["item_code"], i["qty"], i["rate"]) for i in so["items"]] == [
		("KR-TOTE-002", 1, 39.99),
		("KR-MUG-001", 1, 14.99),
	]
	assert [(t["description"], t["account_head"], t["tax_amount"]) for t in so["taxes"]] == [
		("Shipping", "Shipping Income - KTC", 4.99),
		("Shipping promotion PLM-TOTE5 FREESHIP-25", "Amazon Promotions - KTC", -4.99),
		("Promotion PLM-TOTE5 FREESHIP-25", "Amazon Promotions - KTC", -5.0),
		("Tax", "Marketplace Facilitator Tax - KTC", 4.0),
	]
	assert all(t["charge_type"] == "Actual" for t in so["taxes"])
	assert (so["customer"], so["currency"], so["po_no"]) == (
		"Amazon.com Customer",
		"USD",
		"111-4827361-0012002",
	)
	assert (so["transaction_date"], so["delivery_date"]) == ("2026-10-04", "2026-10-09")
	assert so["set_warehouse"] == "Amazon FBA - KTC"
	assert so["items"][0]["additional_notes"] == "Amazon order item 68529147202612, Fulfilled by Amazon (AFN)"
	assert si["items"][0]["sales_order"] == Ref("order", "111-4827361-0012002")
	# Amazon's count sets the FBA warehouse; the invoice does not move it.
	assert (si["posting_date"], si["update_stock"], si["set_posting_time"]) == ("2026-10-04", 0, 1)
	assert so["disable_rounded_total"] == si["disable_rounded_total"] == 1
	assert "Fulfilled by Amazon (AFN)" in si["remarks"]


def test_a_merchant_fulfilled_order_ships_from_the_merchants_warehouse_with_shipping_and_its_tax():
	so, si = (t.doc for t in booked(mapping.order_documents(order("111-4827361-0012003"), context())))
	assert so["set_warehouse"] == si["set_warehouse"] == "Stores - KTC"
	assert {i["warehouse"] for i in si["items"]} == {"Stores - KTC"}
	assert si["update_stock"] == 1
	assert "Fulfilled by the merchant (MFN)" in si["remarks"]
	assert [(t["description"], t["tax_amount"]) for t in so["taxes"]] == [
		("Shipping", 5.99),
		("Tax", 1.96),
		("Shipping tax", 0.48),
	]
	assert total(si) == Decimal("32.93")


def test_an_unshipped_order_books_only_its_sales_order():
	targets = booked(mapping.order_documents(order("111-4827361-0012004"), context()))
	assert [(t.key, t.doc["doctype"]) for t in targets] == [("", "Sales Order")]


def test_a_quantity_price_that_is_not_whole_cents_a_unit_is_split_to_the_cent():
	so = booked(mapping.order_documents(order("702-5550101-0020001"), context()))[0].doc
	mugs = [(i["qty"], i["rate"]) for i in so["items"] if i["item_code"] == "KR-MUG-001"]
	assert mugs == [(1, 16.66), (2, 16.67)]  # three mugs for 50.00
	assert sum(Decimal(str(rate)) * qty for qty, rate in mugs) == Decimal("50.00")
	assert (so["customer"], so["currency"], total(so)) == ("Amazon.ca Customer", "CAD", Decimal("92.66"))


@pytest.mark.parametrize("order_id", ["702-5550101-0020002", "111-4827361-0012005"])
def test_pending_and_cancelled_orders_book_nothing(order_id):
	assert booked(mapping.order_documents(order(order_id), context())) is None


def test_an_order_whose_items_do_not_add_up_to_its_total_is_refused():
	record = order("111-4827361-0012001", OrderTotal={"CurrencyCode": "USD", "Amount": "32.39"})
	with pytest.raises(RecordError) as raised:
		mapping.order_documents(record, context())
	assert str(raised.value) == (
		"Amazon order 111-4827361-0012001: items, tax, shipping and promotions add up to 32.38, "
		"not the OrderTotal 32.39 USD"
	)


def test_unmapped_marketplace_fulfilment_network_and_charge_are_named():
	with pytest.raises(MissingMappingError, match=r"no Amazon Marketplace mapping for 'Amazon\.ca'"):
		booked(mapping.order_documents(order("702-5550101-0020001"), context(customers={})))
	with pytest.raises(MissingMappingError, match="no Amazon Fulfilment Network mapping for 'MFN'"):
		booked(
			mapping.order_documents(
				order("111-4827361-0012003"), context(warehouses={"AFN": "Amazon FBA - KTC"})
			)
		)
	with pytest.raises(MissingMappingError) as raised:
		mapping.order_documents(
			order("111-4827361-0012003"), context(charge_accounts={"ItemTax": "Tax - KTC"})
		)
	assert raised.value.key == "ShippingPrice"


def test_malformed_items_name_the_order_item_and_field():
	record = order("111-4827361-0012001")
	record["OrderItems"][0]["ItemPrice"]["Amount"] = "29,98x"
	with pytest.raises(
		RecordError,
		match="Amazon order 111-4827361-0012001 item 68529147202611: field 'ItemPrice' is not a number",
	):
		mapping.order_documents(record, context())
	record = order("111-4827361-0012001")
	record["OrderItems"][0]["QuantityOrdered"] = "2"
	with pytest.raises(RecordError, match="field 'QuantityOrdered' is not a whole number: '2'"):
		mapping.order_documents(record, context())
	with pytest.raises(RecordError, match="Amazon order 111-4827361-0012001: field 'OrderItems' is missing"):
		booked(mapping.order_documents(order("111-4827361-0012001", OrderItems=[]), context()))


def test_a_line_cancelled_out_of_an_order_is_left_out():
	record = order("111-4827361-0012002", OrderTotal={"CurrencyCode": "USD", "Amount": "37.79"})
	mug = record["OrderItems"][1]
	mug.update(QuantityOrdered=0, ItemPrice={"CurrencyCode": "USD", "Amount": "0.00"})
	mug.update(ItemTax={"CurrencyCode": "USD", "Amount": "0.00"})
	so = booked(mapping.order_documents(record, context()))[0].doc
	assert [i["item_code"] for i in so["items"]] == ["KR-TOTE-002"]
	assert total(so) == Decimal("37.79")


def catalog_record(asin, sku, **overrides):
	return {
		"sellerSku": sku,
		"asin": asin,
		"title": "",
		"marketplaceId": US,
		"catalogItem": json.loads((FIXTURES / "catalog" / f"{asin}.json").read_text()),
		**overrides,
	}


def test_a_catalog_item_becomes_an_item_keyed_by_seller_sku_with_its_asin():
	item = mapping.item(catalog_record("B0KRAAL002", "KR-TOTE-002"), context(item_group="Amazon Products"))
	assert (item["doctype"], item["item_code"], item["item_group"], item["stock_uom"]) == (
		"Item",
		"KR-TOTE-002",
		"Amazon Products",
		"Nos",
	)
	assert item["item_name"] == "Kraal Waxed Canvas Tote Bag, 22 L, Olive"
	assert item["description"] == (
		"Kraal Waxed Canvas Tote Bag, 22 L, Olive<br>ASIN: B0KRAAL002<br>Brand: Kraal Outfitters<br>Model: KR-TOTE-22"
	)
	assert item["is_stock_item"] == 1


def test_an_asin_amazon_no_longer_knows_keeps_the_listing_title():
	item = mapping.item(
		catalog_record("B0KRAAL002", "KR-OLD-9", title="Old tote", catalogItem=None), context()
	)
	assert (item["item_code"], item["item_name"], item["description"]) == (
		"KR-OLD-9",
		"Old tote",
		"Old tote<br>ASIN: B0KRAAL002",
	)


def inventory(marketplace_id: str) -> list[dict]:
	"""A marketplace's summaries as the stream hands them to the mapper: with their marketplaceId."""
	summaries = json.loads((FIXTURES / "inventory" / f"{marketplace_id}.json").read_text())["payload"]
	return [{**s, "marketplaceId": marketplace_id} for s in summaries["inventorySummaries"]]


INVENTORY = inventory(US)
FBA, FBA_CA = "Amazon FBA - KTC", "Amazon FBA CA - KTC"


def test_fba_stock_on_hand_is_fulfillable_and_reserved_not_inbound_damaged_or_missing():
	mug, tote, hat = INVENTORY
	# The mug: 210 in all: 140 fulfillable, 6 reserved (4 for customers' orders, 2 between fulfilment
	# centres), 1 being researched, 3 damaged, and 60 inbound (48 shipped, 12 being received).
	assert [mapping.on_hand_quantity(s) for s in (mug, tote, hat)] == [146, 37, 0]
	counted = reconciliation(mug, context())
	assert (counted["doctype"], counted["purpose"], counted["docstatus"]) == (
		"Stock Reconciliation",
		"Stock Reconciliation",
		1,
	)
	assert counted["items"] == [
		{
			"item_code": "KR-MUG-001",
			"warehouse": "Amazon FBA - KTC",
			"qty": 146,
			"allow_zero_valuation_rate": 1,
		}
	]


def test_each_marketplaces_fba_stock_goes_to_its_own_warehouse():
	mug_ca, tote_ca = inventory(CA)
	assert [mapping.on_hand_quantity(s) for s in (mug_ca, tote_ca)] == [32, 9]
	held = {FBA: {"KR-MUG-001": 146}}
	assert reconciliation(INVENTORY[0], context(fba_stock=held)) is None
	counted = reconciliation(mug_ca, context(fba_stock=held))
	assert counted["items"][0] | {"qty": 0} == {
		"item_code": "KR-MUG-001",
		"warehouse": FBA_CA,
		"qty": 0,
		"allow_zero_valuation_rate": 1,
	}
	assert counted["items"][0]["qty"] == 32
	with pytest.raises(MissingMappingError) as raised:
		reconciliation(mug_ca, context(fba_warehouses={US: FBA}))
	assert (raised.value.mapping_type, raised.value.key) == (mapping.FBA_MARKETPLACE, CA)


def test_marketplaces_sharing_a_warehouse_are_one_pool_read_once():
	de, fr, it, uk = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1F83G8C2ARO7P"
	assert {de, fr, it} <= mapping.PAN_EUROPEAN and uk not in mapping.PAN_EUROPEAN
	warehouses = {de: "FBA EU", fr: "FBA EU", it: "FBA EU", uk: "FBA UK"}
	assert mapping.fba_networks([de, fr, uk, it], warehouses) == [de, uk]
	assert mapping.fba_networks([US, CA], {US: FBA, CA: FBA_CA}) == [US, CA]
	# Unmapped, it is read all the same: its counts then name the mapping they wait for.
	assert mapping.fba_networks([US, CA], {US: FBA}) == [US, CA]


def test_an_afn_order_reserves_its_marketplaces_fba_stock():
	ca_order = order("702-5550101-0020001")
	assert ca_order["FulfillmentChannel"] == "AFN"
	so = booked(mapping.order_documents(ca_order, context()))[0].doc
	assert so["set_warehouse"] == FBA_CA
	assert (
		booked(mapping.order_documents(order("111-4827361-0012001"), context()))[0].doc["set_warehouse"]
		== FBA
	)


def test_a_count_the_warehouse_already_holds_books_nothing():
	mug, _, hat = INVENTORY
	assert reconciliation(mug, context(fba_stock={FBA: {"KR-MUG-001": 146}})) is None
	assert reconciliation(mug, context(fba_stock={FBA: {"KR-MUG-001": 149}}))["items"][0]["qty"] == 146
	assert reconciliation(mug, context(fba_stock={FBA_CA: {"KR-MUG-001": 146}}))["items"][0]["qty"] == 146
	assert reconciliation(hat, context()) is None  # none at Amazon, none in the warehouse
	assert reconciliation(hat, context(fba_stock={FBA: {"KR-HAT-004": 2}}))["items"][0]["qty"] == 0


def test_each_count_that_changes_the_warehouse_is_a_reconciliation_of_its_own():
	mug = INVENTORY[0]
	first = mapping.stock_reconciliation(mug, context())[-1]
	recounted = dict(mug, lastUpdatedTime="2026-11-21T08:00:00Z")
	later = mapping.stock_reconciliation(recounted, context(fba_stock={FBA: {"KR-MUG-001": 148}}))[-1]
	assert first.key == "2026-11-19T18:20:11Z from 0"
	assert later.key == "2026-11-21T08:00:00Z from 148"


def test_a_summary_without_details_is_refused():
	summary = {k: v for k, v in INVENTORY[0].items() if k != "inventoryDetails"}
	with pytest.raises(RecordError, match="FBA inventory KR-MUG-001: field 'inventoryDetails' is missing"):
		reconciliation(summary, context())


def test_items_an_order_or_the_inventory_meets_first_are_created_under_their_catalog_sku():
	targets = mapping.order_documents(order("111-4827361-0012002"), context())
	listed = [t for t in targets if t.create_only]
	assert [t.link for t in listed] == [
		(mapping.CATALOG_ITEMS, line["SellerSKU"]) for line in order("111-4827361-0012002")["OrderItems"]
	]
	assert all(t.doc["doctype"] == "Item" and t.doc["item_code"] == t.link[1] for t in listed)
	mug = INVENTORY[0]
	first, counted = mapping.stock_reconciliation(mug, context())
	assert (first.create_only, first.link, first.doc["item_code"]) == (
		True,
		(mapping.CATALOG_ITEMS, "KR-MUG-001"),
		"KR-MUG-001",
	)
	assert counted.doc["doctype"] == "Stock Reconciliation"
