"""Amazon orders in marketplaces whose prices include VAT (fixtures/amazon_eu: Amazon.de), booked with
ERPNext's taxes included in the basic rate to Amazon's tax, revenue and total to the cent, and converted
to the company currency without a cent left to round off."""

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from kraal_connect.connectors.amazon import mapping
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.selling_totals import booked
from tests.standalone.amazon_support import context

EU = Path(__file__).resolve().parents[2] / "fixtures" / "amazon_eu"
ORDER_ID = "302-7700101-0030001"
DE, FR = "A1PA6795UKMFR9", "A13V1IB3VIYZZH"
VAT, SHIPPING, PROMOTIONS, ROUND_OFF = (
	"VAT - KTC",
	"Shipping Income - KTC",
	"Promotions - KTC",
	"Round Off - KTC",
)
EUR_RATE = 1.0812
CENT = Decimal("0.01")


def order() -> dict:
	orders = json.loads((EU / "orders" / "0001.json").read_text())["payload"]["Orders"]
	items = json.loads((EU / "order_items" / f"{ORDER_ID}.json").read_text())["payload"]["OrderItems"]
	return {**orders[0], "OrderItems": items}


def ctx(**overrides):
	values = {
		"customers": {"Amazon.de": "Amazon.de", "Amazon.fr": "Amazon.fr"},
		"charge_accounts": {
			"ItemTax": VAT,
			"ShippingTax": VAT,
			"ShippingPrice": SHIPPING,
			"PromotionDiscount": PROMOTIONS,
		},
		"fba_warehouses": {DE: "Amazon FBA - KTC", FR: "Amazon FBA - KTC"},
		"round_off_account": ROUND_OFF,
		"exchange_rate": lambda currency, day: EUR_RATE if currency == "EUR" else None,
		**overrides,
	}
	return context(**values)


def documents(record: dict, **overrides) -> list[dict]:
	return [t.doc for t in mapping.order_documents(record, ctx(**overrides)) if not t.create_only]


def amount(item: dict, fieldname: str) -> Decimal:
	return Decimal(item[fieldname]["Amount"])


def test_a_vat_inclusive_order_books_amazons_tax_revenue_and_total():
	record = order()
	items = record["OrderItems"]
	vat = sum(
		amount(i, "ItemTax") + amount(i, "ShippingTax") - amount(i, "PromotionDiscountTax") for i in items
	)
	total = Decimal(record["OrderTotal"]["Amount"])
	assert (vat, total) == (Decimal("11.80"), Decimal("73.87"))
	for doc in documents(record):
		assert doc["taxes"][0] == {
			"charge_type": "On Net Total",
			"account_head": VAT,
			"description": "VAT 19% (included)",
			"rate": 19.0,
			"included_in_print_rate": 1,
		}
		# Items at the prices customers paid, VAT in them; charges at their net, their VAT apart.
		assert [(i["item_code"], i["qty"], i["rate"]) for i in doc["items"]] == [
			("KR-MUG-001", 2, 14.99),
			("KR-TOTE-002", 1, 44.9),
		]
		actual = {}
		for row in doc["taxes"][1:]:
			actual[row["account_head"]] = actual.get(row["account_head"], Decimal(0)) + Decimal(
				str(row["tax_amount"])
			)
		assert actual == {
			VAT: Decimal("0.01") - Decimal("0.80") + Decimal("0.64"),  # rounding, promotion's VAT, shipping's
			ROUND_OFF: Decimal("-0.01"),
			SHIPPING: Decimal("3.35"),
			PROMOTIONS: Decimal("-4.20"),
		}
		# What ERPNext books, worked out here: nets 29.98 / 1.19 = 25.19 and 44.90 / 1.19 = 37.73, VAT
		# 19 % of 62.92 = 11.95 (Amazon's item by item: 4.79 + 7.17 = 11.96).
		nets = [
			(Decimal(str(i["rate"])) * i["qty"] / Decimal("1.19")).quantize(CENT, ROUND_HALF_UP)
			for i in doc["items"]
		]
		included = (sum(nets) * Decimal("0.19")).quantize(CENT, ROUND_HALF_UP)
		assert included == Decimal("11.95")
		assert included + actual[VAT] == vat
		revenue = sum(nets) + actual[SHIPPING] + actual[PROMOTIONS]
		assert revenue == total - vat
		assert revenue + included + actual[VAT] == total  # the ledger balances without Round Off
		assert doc["set_warehouse"] == "Amazon FBA - KTC"


def test_the_conversion_rate_leaves_no_cent_between_rows_and_taxes():
	sales_order = documents(order())[0]
	rate = Decimal(str(sales_order["conversion_rate"]))
	plain = Decimal(str(EUR_RATE))
	converted_total = (Decimal("73.87") * plain).quantize(CENT, ROUND_HALF_UP)
	assert (Decimal("73.87") * rate).quantize(CENT, ROUND_HALF_UP) == converted_total
	result = booked(
		[i["qty"] * i["rate"] for i in sales_order["items"]],
		[t["rate"] for t in sales_order["taxes"] if t.get("included_in_print_rate")],
		[t["tax_amount"] for t in sales_order["taxes"] if not t.get("included_in_print_rate")],
	)
	parts = list(result.nets) + [
		a for a, t in zip(result.taxes, sales_order["taxes"], strict=True) if t["account_head"] != ROUND_OFF
	]
	assert sum((Decimal(str(p)) * rate).quantize(CENT, ROUND_HALF_UP) for p in parts) == converted_total
	assert abs(rate - plain) < Decimal("0.0001")


def test_orders_elsewhere_keep_their_tax_on_top():
	record = order()
	record["MarketplaceId"] = "ATVPDKIKX0DER"
	record["OrderTotal"]["Amount"] = "85.67"  # 73.87 + the 11.80 of tax, charged on top
	so = documents(record)[0]
	assert all(t["charge_type"] == "Actual" for t in so["taxes"])


def test_items_at_several_vat_rates_are_refused_by_name():
	record = order()
	record["OrderItems"][0]["ItemTax"]["Amount"] = "1.96"  # 7 % on the mugs
	record["OrderTotal"]["Amount"] = "73.87"
	with pytest.raises(RecordError, match=r"ItemTax 1\.96 is not .*% of the price"):
		documents(record)
	with pytest.raises(RecordError, match="no Round Off account"):
		documents(order(), round_off_account=None)
