"""An order's totals as Shopify and as ERPNext count them, to compare to the cent."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import CENT
from kraal_connect.connectors.shopify.mapping.order_parts import Totals, order_label
from kraal_connect.connectors.shopify.mapping.records import ZERO, ShopifyContext, money_bag_amount


def shopify_totals(order: Mapping[str, Any], side: str = "presentmentMoney") -> Totals:
	"""The order's totals as Shopify states them."""
	label = order_label(order)

	def amount(fieldname: str) -> Decimal:
		return money_bag_amount(order, fieldname, label, side) if order.get(fieldname) else ZERO

	return Totals(
		subtotal=amount("subtotalPriceSet"),
		discounts=amount("totalDiscountsSet"),
		shipping=amount("totalShippingPriceSet"),
		tax=amount("totalTaxSet"),
		total=amount("totalPriceSet"),
	)


def erpnext_totals(doc: Mapping[str, Any], ctx: ShopifyContext) -> Totals:
	"""The totals ERPNext will compute for a mapped selling document, in Shopify's terms."""

	def cents(value: Any) -> Decimal:
		return Decimal(str(value or 0)).quantize(CENT)

	goods = shipping = tax = ZERO
	for row in doc.get("items") or []:
		amount = cents(Decimal(str(row["qty"])) * cents(row["rate"]))
		if ctx.shipping_item and row["item_code"] == ctx.shipping_item:
			shipping += amount
		else:
			goods += amount
	for row in doc.get("taxes") or []:
		if ctx.shipping_account and row["account_head"] == ctx.shipping_account:
			shipping += cents(row["tax_amount"])
		else:
			tax += cents(row["tax_amount"])
	discounts = cents(doc.get("discount_amount"))
	subtotal = goods - discounts
	return Totals(subtotal, discounts, shipping, tax, subtotal + shipping + tax)
