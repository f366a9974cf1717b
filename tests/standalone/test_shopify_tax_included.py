"""Shopify orders whose prices include tax (#1008: EU VAT, presentment EUR on the USD store): booked with
ERPNext's taxes included in the basic rate, to Shopify's tax, revenue and total, converted at a rate
that leaves nothing to round off."""

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from kraal_connect.connectors.shopify import mapping
from kraal_connect.connectors.shopify.mapping import orders as mapping_orders
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.selling_totals import booked
from tests.standalone.shopify_support import context

ORDERS = Path(__file__).resolve().parents[2] / "fixtures" / "shopify" / "orders_tax_included"
VAT, ROUND_OFF = "FR VAT - KTC", "Round Off - KTC"
CENT = Decimal("0.01")


def order() -> dict:
	return json.loads((ORDERS / "5008.json").read_text())


def ctx(**overrides):
	return context(**{"tax_accounts": {"FR TVA": VAT}, "round_off_account": ROUND_OFF, **overrides})


def documents(record: dict, **overrides) -> dict:
	return {t.key: t.doc for t in mapping.order_targets(record, ctx(**overrides))}


def money(bag: dict, side: str = "presentmentMoney") -> Decimal:
	return Decimal(bag[side]["amount"])


def erpnext_books(doc: dict) -> tuple[dict[str, Decimal], Decimal, Decimal]:
	"""Tax per account, revenue and total as ERPNext books this document, worked out here in Decimal: a
	row's net is its amount over 1 + the included rates (each rounded), an included tax is its rate of
	the summed nets, Actual rows are what they say (shipping to its income account)."""
	rates = {
		t["account_head"]: Decimal(str(t["rate"])) for t in doc["taxes"] if t.get("included_in_print_rate")
	}
	fraction = sum(rates.values(), Decimal(0)) / 100
	amounts = [Decimal(str(r["rate"])) * r["qty"] for r in doc["items"]]
	nets = [(a / (1 + fraction)).quantize(CENT, ROUND_HALF_UP) for a in amounts]
	taxes = {a: (sum(nets, Decimal(0)) * r / 100).quantize(CENT, ROUND_HALF_UP) for a, r in rates.items()}
	revenue = sum(nets, Decimal(0))
	actual = Decimal(0)
	for row in doc["taxes"]:
		if row["charge_type"] == "Actual":
			amount = Decimal(str(row["tax_amount"]))
			actual += amount
			if row["account_head"] == "Shipping Income - KTC":
				revenue += amount
			else:
				taxes[row["account_head"]] = taxes.get(row["account_head"], Decimal(0)) + amount
	# The total: the prices with their tax, and the Actual rows (ERPNext puts the included tax's
	# rounding difference, up to 5 cents, back into the total).
	return taxes, revenue, sum(amounts, Decimal(0)) + actual


@pytest.mark.parametrize("shipping", ["account", "item"])
def test_a_tax_inclusive_order_books_shopifys_tax_revenue_and_total(shipping):
	record = order()
	overrides = {} if shipping == "account" else {"shipping_account": None, "shipping_item": "SHIPPING"}
	docs = documents(record, **overrides)
	sales_order, invoice = docs[""], docs["invoice"]
	assert invoice["taxes"][0] == {
		"charge_type": "On Net Total",
		"account_head": VAT,
		"description": "FR TVA",
		"rate": 20.0,
		"included_in_print_rate": 1,
	}
	# The socks' discounted 32.45 for three is not whole cents a unit: 10.81 + 2 x 10.82.
	goods = [(r["qty"], r["rate"], r["price_list_rate"]) for r in sales_order["items"][:3]]
	assert goods == [(1, 22.9, 22.9), (1, 10.81, 12.0), (2, 10.82, 12.0)]
	assert "discount_amount" not in invoice
	for doc in (sales_order, invoice):
		taxes, revenue, total = erpnext_books(doc)
		assert total == money(record["totalPriceSet"]) == Decimal("60.25")
		assert taxes[VAT] == money(record["totalTaxSet"]) == Decimal("10.05")
		assert revenue == Decimal("60.25") - Decimal("10.05")
		# The ledger balances without Round Off: receivable = revenue + VAT; the row taken back off Round
		# Off is the one ERPNext's own round-off entry would have made, and it drops both.
		assert revenue + taxes[VAT] == total
		assert taxes[ROUND_OFF] == Decimal("-0.01")


def test_erpnexts_own_rounding_of_the_vat_would_lose_a_cent():
	"""Without the adjustment the fixture is the case the module is for: ERPNext's VAT is 10.04."""
	docs = documents(order(), shipping_account=None, shipping_item="SHIPPING")
	adjustments = [t for t in docs["invoice"]["taxes"] if t["charge_type"] == "Actual"]
	assert [(t["account_head"], t["tax_amount"]) for t in adjustments] == [(VAT, 0.01), (ROUND_OFF, -0.01)]
	amounts = [r["qty"] * r["rate"] for r in docs["invoice"]["items"]]
	assert booked(amounts, [20.0]).taxes == (10.04,)


def test_the_conversion_rate_leaves_no_cent_between_rows_and_taxes():
	record = order()
	# Shipping as the shipping Item's row: then Shopify's own rate would leave a cent to Round Off.
	invoice = documents(record, shipping_account=None, shipping_item="SHIPPING")["invoice"]
	shop_total = money(record["totalPriceSet"], "shopMoney")
	assert shop_total == Decimal("64.81")
	rate = Decimal(str(invoice["conversion_rate"]))
	plain = (shop_total / Decimal("60.25")).quantize(Decimal("0.000000001"))
	assert rate != plain and abs(rate - plain) < Decimal("0.0001")
	# What ERPNext converts: each row's net and each tax row but Round Off's (which its ledger drops).
	result = booked(
		[r["qty"] * r["rate"] for r in invoice["items"]],
		[t["rate"] for t in invoice["taxes"] if t.get("included_in_print_rate")],
		[t["tax_amount"] for t in invoice["taxes"] if not t.get("included_in_print_rate")],
	)
	parts = list(result.nets) + [
		a for a, t in zip(result.taxes, invoice["taxes"], strict=True) if t["account_head"] != ROUND_OFF
	]

	def converted(at: Decimal) -> Decimal:
		return sum(((Decimal(str(p)) * at).quantize(CENT, ROUND_HALF_UP) for p in parts), Decimal(0))

	assert (Decimal("60.25") * rate).quantize(CENT, ROUND_HALF_UP) == shop_total
	assert converted(rate) == shop_total
	assert converted(plain) != shop_total  # Shopify's own rate would leave a cent to Round Off


def test_what_tax_inclusive_orders_cannot_yet_book_is_refused_by_name():
	record = order()
	record["lineItems"]["nodes"][1]["taxLines"][0]["rate"] = 0.055
	with pytest.raises(RecordError, match=r"#1008 line Wool Socks - M: taxed at 5.5% under FR TVA"):
		mapping.order_targets(record, ctx())
	record = order()
	record["lineItems"]["nodes"][0]["taxLines"] = []
	with pytest.raises(RecordError, match="Classic Tee - M / Black carries no FR TVA"):
		mapping.order_targets(record, ctx())
	with pytest.raises(RecordError, match="no Round Off account"):
		mapping.order_targets(order(), ctx(round_off_account=None))
	record = order()
	record["totalTaxSet"]["presentmentMoney"]["amount"] = "10.04"
	with pytest.raises(RecordError, match=r"would not match Shopify's totals: tax 10\.05 instead of 10\.04"):
		mapping.order_targets(record, ctx())


def test_deliveries_are_shared_over_a_lines_sales_order_rows():
	record = order()
	rows = mapping_orders.sales_order_row_lines(record, ctx())
	tee, socks = (n["id"] for n in record["lineItems"]["nodes"])
	assert rows == [tee, socks, socks]  # the socks' two rows (shipping goes to its account here)
	so_rows = [(line, f"SOI-{i}", qty) for i, (line, qty) in enumerate(zip(rows, [1, 1, 2], strict=True))]
	remaining = {name: qty for _, name, qty in so_rows}
	# Two socks first, then the third: the first delivery takes SOI-1's one and one of SOI-2's two.
	first = mapping_orders.delivered_rows([({"item_code": "SOCK-M", "qty": 2}, socks)], so_rows, remaining)
	assert [(r["so_detail"], r["qty"]) for r in first] == [("SOI-1", 1), ("SOI-2", 1)]
	second = mapping_orders.delivered_rows(
		[({"item_code": "TEE", "qty": 1}, tee), ({"item_code": "SOCK-M", "qty": 1}, socks)],
		so_rows,
		remaining,
	)
	assert [(r["so_detail"], r["qty"]) for r in second] == [("SOI-0", 1), ("SOI-2", 1)]
	assert remaining == {"SOI-0": 1, "SOI-1": 0, "SOI-2": 0}  # the tee's single row is pointed as it is
