"""Shopify mappers on the fixture store: every order's ERPNext totals equal Shopify's to the cent."""

import copy
import json
from decimal import Decimal

import pytest

from kraal_connect.connectors.shopify import mapping
from kraal_connect.engine.errors import MissingMappingError, RecordError
from kraal_connect.engine.records import Ref
from tests.standalone.shopify_support import BROOKLYN, MAIN, context, load, order_files

CTX = context()
ORDER_FILES = order_files()


def order(number: int) -> dict:
	return load("orders", str(number + 4000))  # #1001 is orders/5001.json


def targets(record: dict, ctx=CTX) -> dict:
	return {t.key: t.doc for t in mapping.order_targets(record, ctx)}


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


def doc_total(doc: dict, ctx=CTX) -> Decimal:
	return mapping.erpnext_totals(doc, ctx).total


@pytest.mark.parametrize("path", ORDER_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("shipping", ["account", "item"])
def test_every_order_books_shopifys_totals_to_the_cent(path, shipping):
	record = json.loads(path.read_text())
	ctx = CTX if shipping == "account" else context(shipping_account=None, shipping_item="SHIPPING")
	docs = targets(record, ctx)
	expected = mapping.shopify_totals(record)
	assert mapping.erpnext_totals(docs[""], ctx) == expected
	if "invoice" in docs:
		assert mapping.erpnext_totals(docs["invoice"], ctx) == expected
		# the invoice in the store's currency is what Shopify settled
		shop_total = mapping.shopify_totals(record, "shopMoney").total
		assert money(float(expected.total) * docs["invoice"]["conversion_rate"]) == shop_total
		paid = sum(money(d["paid_amount"]) for k, d in docs.items() if k.startswith("payment:"))
		assert paid == shop_total
	# what is refunded is what the credit notes take back
	refunded = sum(
		(money(r["totalRefundedSet"]["presentmentMoney"]["amount"]) for r in record["refunds"]), Decimal(0)
	)
	credited = sum((doc_total(d, ctx) for k, d in docs.items() if k.startswith("refund:")), Decimal(0))
	assert credited == -refunded


def test_shopifys_own_totals_add_up_in_every_fixture():
	for path in ORDER_FILES:
		t = mapping.shopify_totals(json.loads(path.read_text()))
		assert t.subtotal + t.shipping + t.tax == t.total, path.name


def test_a_fulfilled_order_with_a_deleted_product_uses_the_fallback_item():
	record = order(1001)
	docs = targets(record)
	first_line = docs[""]["items"][0]
	assert first_line["item_code"] == "SHOPIFY-DELETED"
	assert first_line["item_name"] == "Vintage Cap"
	assert "deleted at Shopify" in first_line["additional_notes"]
	assert docs[""]["items"][1]["item_code"] == Ref("product:variant:18013", "gid://shopify/Product/8001")
	assert mapping.fallback_lines(record) == ["Vintage Cap, SKU CAP-VIN x 1"]
	assert "products deleted at Shopify: Vintage Cap, SKU CAP-VIN x 1" in docs["invoice"]["remarks"]
	assert docs["delivery:6001"]["items"][0]["item_code"] == "SHOPIFY-DELETED"
	assert mapping.fallback_lines(order(1002)) == []


def test_two_tax_lines_go_to_their_accounts_and_shipping_to_its_own():
	so = targets(order(1002))[""]
	assert [(r["account_head"], r["tax_amount"]) for r in so["taxes"]] == [
		("Shipping Income - KTC", 10.0),
		("NY Sales Tax - KTC", 3.12),
		("NYC Sales Tax - KTC", 3.51),
	]
	assert all(r["charge_type"] == "Actual" for r in so["taxes"])
	assert (so["transaction_date"], so["delivery_date"]) == (
		"2026-10-02",
		"2026-10-02",
	)  # 02:30 UTC is the evening before in New York
	assert so["po_no"] == "#1002"
	assert so["customer"] == Ref("customer", "gid://shopify/Customer/9002")


def test_a_second_stores_order_references_carry_its_prefix():
	"""Each store numbers its orders from #1001; ERPNext refuses a customer's second Sales Order with
	the same reference, so a second store's references are told apart."""
	docs = targets(order(1002), context(order_prefix="Outlet "))
	assert docs[""]["po_no"] == docs["invoice"]["po_no"] == "Outlet #1002"


def test_fulfillments_leave_from_their_locations_warehouse():
	docs = targets(order(1002))
	tees, tote = docs["delivery:6002"], docs["delivery:6003"]
	assert [(r["qty"], r["warehouse"]) for r in tees["items"]] == [(2, "Main Warehouse - KTC")]
	assert [(r["qty"], r["warehouse"]) for r in tote["items"]] == [(1, "Brooklyn Store - KTC")]
	assert tote["items"][0]["against_sales_order"] == Ref("order", "gid://shopify/Order/5002")
	assert (tote["posting_date"], tote["posting_time"], tote["docstatus"]) == ("2026-10-04", "14:00:00", 1)


def test_a_partial_refund_with_restock_is_a_credit_note_a_payment_and_a_return():
	docs = targets(order(1002))
	credit = docs["refund:7001"]
	assert (credit["is_return"], credit["return_against"]) == (
		1,
		Ref("order:invoice", "gid://shopify/Order/5002"),
	)
	assert [(r["qty"], r["rate"]) for r in credit["items"]] == [(-1, 18.0)]
	assert [(r["description"], r["tax_amount"]) for r in credit["taxes"]] == [
		("NY State Tax", -0.72),
		("New York City Tax", -0.81),
	]
	assert doc_total(credit) == Decimal("-19.53")
	payment = docs["refund_payment:60022"]
	assert (payment["payment_type"], payment["paid_from"], payment["paid_to"], payment["paid_amount"]) == (
		"Pay",
		"Shopify Payments Clearing - KTC",
		"Debtors - KTC",
		19.53,
	)
	assert payment["references"] == [
		{
			"reference_doctype": "Sales Invoice",
			"reference_name": Ref("order:refund:7001", "gid://shopify/Order/5002"),
			"allocated_amount": -19.53,
		}
	]
	restock = docs["restock:7001:6003"]
	assert (restock["doctype"], restock["is_return"]) == ("Delivery Note", 1)
	assert restock["return_against"] == Ref("order:delivery:6003", "gid://shopify/Order/5002")
	assert [(r["qty"], r["warehouse"]) for r in restock["items"]] == [(-1, "Brooklyn Store - KTC")]


def test_code_and_automatic_discounts_become_the_additional_discount():
	docs = targets(order(1003))
	so = docs[""]
	assert (so["apply_discount_on"], so["discount_amount"]) == ("Net Total", 7.7)
	assert [(r["qty"], r["rate"]) for r in so["items"]] == [(2, 12.5), (1, 25.0)]
	assert so["items"][0]["additional_notes"] == "Shopify discounts on this line: 5.20"
	assert docs["invoice"]["remarks"] == (
		"Shopify order #1003; discounts: Socks $3 off (3.00 USD), WELCOME10 (10%)"
	)
	payment = docs["payment:60031"]
	assert (payment["paid_to"], payment["paid_amount"], payment["party"]) == (
		"PayPal Clearing - KTC",
		50.43,
		Ref("customer", "gid://shopify/Customer/9001"),
	)


def test_a_multi_currency_order_is_booked_in_the_customers_currency():
	docs = targets(order(1004))
	so = docs[""]
	assert (so["currency"], so["conversion_rate"]) == ("EUR", 1.1)
	assert [(r["rate"], r["qty"]) for r in so["items"]] == [(23.0, 2)]
	assert doc_total(so) == Decimal("61.00")
	payment = docs["payment:60041"]
	assert (payment["paid_amount"], payment["received_amount"], payment["paid_to_account_currency"]) == (
		67.1,
		67.1,
		"USD",
	)


def test_a_paid_then_cancelled_order_is_returned_in_full():
	docs = targets(order(1005))
	assert docs[""]["docstatus"] == 1  # billed: the credit note undoes it, ERPNext keeps billed orders
	credit = docs["refund:7002"]
	assert [(r["qty"], r["rate"]) for r in credit["items"]] == [(-2, 18.0)]
	assert [(r["description"], r["tax_amount"]) for r in credit["taxes"]] == [
		("Shipping: Standard", -5.0),
		("NY State Tax", -1.64),
		("New York City Tax", -1.85),
	]
	assert doc_total(credit) == Decimal("-44.49")
	assert not [
		k for k in docs if k.startswith("restock:")
	]  # cancelled before it shipped: nothing to restock


def test_a_cancelled_unpaid_order_cancels_its_sales_order_and_books_nothing_else():
	docs = targets(order(1007))
	assert list(docs) == [""]
	assert docs[""]["docstatus"] == 2


def test_an_unpaid_guest_order_is_a_sales_order_for_the_stores_guest_customer():
	docs = targets(order(1006))
	assert list(docs) == [""]
	assert docs[""]["customer"] == "Shopify guest (Kraal Outfitters)"
	assert docs[""]["items"][0]["item_code"] == Ref("product:variant:18022", "gid://shopify/Product/8002")


def test_goods_shipped_before_payment_leave_stock_without_an_invoice():
	record = order(1006)
	fulfillment = copy.deepcopy(order(1002)["fulfillments"][0])
	fulfillment["fulfillmentLineItems"]["nodes"][0]["lineItem"] = {
		"id": record["lineItems"]["nodes"][0]["id"]
	}
	record["fulfillments"] = [fulfillment]
	docs = targets(record)
	assert list(docs) == ["", "delivery:6002"]
	assert [(r["qty"], r["warehouse"]) for r in docs["delivery:6002"]["items"]] == [
		(2, "Main Warehouse - KTC")
	]


def test_guest_orders_can_get_a_customer_each():
	written = mapping.order_targets(order(1006), context(guest_customer=None))
	assert [t.key for t in written] == ["customer", ""]
	assert written[0].doc["customer_name"] == "Gale Guest"
	assert written[1].doc["customer"] == Ref("order:customer", "gid://shopify/Order/5006")


def test_shipping_as_an_item_line():
	so = targets(order(1002), context(shipping_account=None, shipping_item="SHIPPING"))[""]
	assert so["items"][-1] == {
		"item_code": "SHIPPING",
		"qty": 1,
		"rate": 10.0,
		"price_list_rate": 10.0,
		"description": "Shipping: Express",
		"delivery_date": "2026-10-02",
	}
	assert [r["account_head"] for r in so["taxes"]] == ["NY Sales Tax - KTC", "NYC Sales Tax - KTC"]


@pytest.mark.parametrize(
	("ctx", "mapping_type", "key"),
	[
		(context(tax_accounts={"NY State Tax": "NY Sales Tax - KTC"}), "Shopify Tax", "New York City Tax"),
		(context(gateway_accounts={}), "Shopify Payment Gateway", "shopify_payments"),
		(context(warehouses={MAIN: "Main Warehouse - KTC"}), "Shopify Location", BROOKLYN),
	],
)
def test_missing_mappings_name_the_order_and_the_key(ctx, mapping_type, key):
	with pytest.raises(MissingMappingError) as raised:
		mapping.order_targets(order(1002), ctx)
	assert (raised.value.mapping_type, raised.value.key) == (mapping_type, key)
	assert str(raised.value).startswith("Shopify order #1002")


def test_orders_that_cannot_be_booked_faithfully_are_refused():
	record = order(1002)
	record["currencyCode"] = "CAD"
	with pytest.raises(
		RecordError, match=r"#1002: field 'currencyCode' is CAD, not the company's currency USD"
	):
		mapping.order_targets(record, CTX)
	record = order(1002)
	record["lineItems"]["pageInfo"] = {"hasNextPage": True}
	with pytest.raises(RecordError, match="field 'lineItems' has more rows than one query returns"):
		mapping.order_targets(record, CTX)
	record = order(1003)
	record["totalDiscountsSet"]["presentmentMoney"]["amount"] = "2.70"
	with pytest.raises(
		RecordError, match=r"would not match Shopify's totals: discounts 7\.70 instead of 2\.70"
	):
		mapping.order_targets(record, CTX)


def test_a_refund_short_of_its_lines_needs_a_discrepancy_account():
	record = order(1002)
	refund = record["refunds"][0]
	refund["totalRefundedSet"]["presentmentMoney"]["amount"] = "15.00"
	with pytest.raises(RecordError, match=r"refund 7001: Shopify refunded 15.00 for rows worth 19.53"):
		mapping.order_targets(record, CTX)
	credit = targets(record, context(refund_discrepancy_account="Refund Differences - KTC"))["refund:7001"]
	assert credit["taxes"][-1] == {
		"charge_type": "Actual",
		"account_head": "Refund Differences - KTC",
		"description": "Refund discrepancy",
		"tax_amount": 4.53,
	}
	assert doc_total(credit) == Decimal("-15.00")


def test_a_refund_of_an_amount_alone_is_refused():
	record = order(1002)
	refund = record["refunds"][0]
	refund["refundLineItems"]["nodes"] = []
	with pytest.raises(RecordError, match=r"refund 7001: refunds 19\.53 without lines or shipping"):
		mapping.order_targets(record, CTX)


# -- products, customers, inventory ------------------------------------------------------------


def test_a_product_with_options_is_a_template_with_variants_and_prices():
	product = load("products", "8001")
	written = {t.key: t.doc for t in mapping.product_targets(product, CTX)}
	template = written[""]
	assert (template["item_code"], template["item_name"], template["has_variants"]) == (
		"SHOPIFY-P8001",
		"Classic Tee",
		1,
	)
	assert template["attributes"] == [{"attribute": "Size"}, {"attribute": "Colour"}]
	variant = written["variant:18014"]
	assert variant["item_code"] == "TEE-M-WHT"
	assert variant["item_name"] == "Classic Tee - M / White"
	assert variant["variant_of"] == Ref("product", "gid://shopify/Product/8001")
	assert variant["attributes"] == [
		{"attribute": "Size", "attribute_value": "M"},
		{"attribute": "Colour", "attribute_value": "White"},
	]
	assert variant["barcodes"] == [{"barcode": "0860001180141"}]
	assert (
		variant["weight_per_unit"],
		variant["weight_uom"],
		variant["is_stock_item"],
		variant["disabled"],
	) == (
		0.22,
		"Kg",
		1,
		0,
	)
	assert (variant["valuation_rate"], variant["allow_negative_stock"]) == (8.0, 0)
	holding = {t.key: t.doc for t in mapping.product_targets(product, context(shopify_holds_stock=True))}
	assert holding["variant:18014"]["allow_negative_stock"] == 1
	price = written["price:18014"]
	assert price == {
		"doctype": "Item Price",
		"item_code": Ref("product:variant:18014", "gid://shopify/Product/8001"),
		"price_list": "Shopify Retail",
		"selling": 1,
		"price_list_rate": 25.0,
	}
	assert mapping.required_attributes(product) == {"Size": ["S", "M"], "Colour": ["Black", "White"]}


def test_variants_without_sku_get_a_stable_code_and_simple_products_one_item():
	socks = {t.key: t.doc for t in mapping.product_targets(load("products", "8002"), CTX)}
	assert socks["variant:18022"]["item_code"] == "SHOPIFY-V18022"
	assert (socks["variant:18022"]["weight_per_unit"], socks["variant:18022"]["weight_uom"]) == (
		100.0,
		"Gram",
	)
	tote = mapping.product_targets(load("products", "8003"), CTX)
	assert [t.key for t in tote] == ["variant:18031", "price:18031"]
	assert "variant_of" not in tote[0].doc
	assert (tote[0].doc["item_name"], tote[0].doc["weight_uom"]) == ("Canvas Tote", "Pound")
	assert mapping.required_attributes(load("products", "8003")) == {}


def test_an_archived_product_disables_its_items():
	jacket = mapping.product_targets(load("products", "8005"), CTX)
	assert jacket[0].doc["disabled"] == 1


def test_a_variant_without_a_value_for_an_option_is_refused():
	product = load("products", "8001")
	product["variants"]["nodes"][0]["selectedOptions"] = [{"name": "Size", "value": "S"}]
	with pytest.raises(
		RecordError, match="variant S / Black: field 'selectedOptions' has no value for Colour"
	):
		mapping.product_targets(product, CTX)


def test_a_customer_with_addresses_and_contact():
	written = {t.key: t.doc for t in mapping.customer_targets(load("customers", "9001"), CTX)}
	assert list(written) == ["", "address:19001", "address:19002", "contact"]
	assert written[""]["customer_name"] == "Alice Nguyen"
	home, work = written["address:19001"], written["address:19002"]
	assert (home["address_line1"], home["city"], home["state"], home["pincode"], home["country"]) == (
		"41 Maple Avenue",
		"Hoboken",
		"New Jersey",
		"07030",
		"United States",
	)
	assert (home["is_primary_address"], work["is_primary_address"]) == (1, 0)
	assert home["links"] == [
		{"link_doctype": "Customer", "link_name": Ref("customer", "gid://shopify/Customer/9001")}
	]
	contact = written["contact"]
	assert contact["email_ids"] == [{"email_id": "alice@example.com", "is_primary": 1}]
	assert contact["phone_nos"] == [
		{"phone": "+12015550101", "is_primary_phone": 1, "is_primary_mobile_no": 1}
	]
	bob = {t.key: t.doc for t in mapping.customer_targets(load("customers", "9002"), CTX)}
	assert bob["contact"]["phone_nos"] == []
	chloe = {t.key: t.doc for t in mapping.customer_targets(load("customers", "9003"), CTX)}
	assert chloe["address:19004"]["country"] == "France"


def test_an_address_erpnext_cannot_hold_is_left_out():
	customer = load("customers", "9002")
	customer["addresses"][0]["address1"] = None
	assert [t.key for t in mapping.customer_targets(customer, CTX)] == ["", "contact"]


def test_an_inventory_level_is_a_stock_reconciliation_of_on_hand():
	level = load("inventory_levels", "70001-48014")
	doc = mapping.stock_reconciliation(level, CTX)
	assert doc["items"] == [
		{
			"item_code": Ref("product:variant:18014", "gid://shopify/Product/8001"),
			"warehouse": "Main Warehouse - KTC",
			"qty": 24,
		}
	]
	assert (doc["purpose"], doc["docstatus"], doc["set_posting_time"]) == ("Stock Reconciliation", 1, 1)
	untracked = copy.deepcopy(level)
	untracked["item"]["tracked"] = False
	assert mapping.stock_reconciliation(untracked, CTX) is None
	with pytest.raises(MissingMappingError) as raised:
		mapping.stock_reconciliation(level, context(warehouses={}))
	assert raised.value.key == MAIN


def test_erpnext_quantities_become_shopify_inputs_for_mapped_locations():
	items = {"TEE-S-BLK": "gid://shopify/InventoryItem/48011", "TOTE-1": "gid://shopify/InventoryItem/48031"}
	stock = [
		("TEE-S-BLK", "Main Warehouse - KTC", 12.0),
		("TOTE-1", "Brooklyn Store - KTC", 3.7),
		("TOTE-1", "Returns - KTC", 5.0),  # not a Shopify location
		("LOCAL-ONLY", "Main Warehouse - KTC", 9.0),  # not a Shopify item
	]
	assert mapping.inventory_quantities(stock, items, CTX.warehouses) == [
		{"inventoryItemId": "gid://shopify/InventoryItem/48011", "locationId": MAIN, "quantity": 12},
		{"inventoryItemId": "gid://shopify/InventoryItem/48031", "locationId": BROOKLYN, "quantity": 3},
	]
	with pytest.raises(ValueError, match="two Shopify locations"):
		mapping.inventory_quantities(stock, items, {MAIN: "Stores - KTC", BROOKLYN: "Stores - KTC"})


def test_the_context_needs_one_way_to_book_shipping():
	with pytest.raises(ValueError):
		context(shipping_item="SHIPPING")
	with pytest.raises(ValueError):
		context(shipping_account=None)
