"""The parts of a Shopify order every document of it is made from: its lines, taxes, shipping,
customer and payments."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import as_float, mapped, required
from kraal_connect.connectors.shopify.mapping.customers import customer_doc
from kraal_connect.connectors.shopify.mapping.records import (
	CUSTOMERS,
	LOCATION_MAPPING,
	ORDERS,
	TAX_MAPPING,
	ZERO,
	ShopifyContext,
	connection_nodes,
	legacy_id,
	money_bag_amount,
	variant_type,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref, Target


@dataclass(frozen=True)
class Line:
	"""A Shopify line item as it is booked: the Item, the quantity, the original unit price, the
	discounts allocated to it and its taxes by title, all in the presentment currency."""

	id: str
	title: str
	item_code: Any
	quantity: int
	rate: Decimal
	discount: Decimal
	taxes: Mapping[str, Decimal]
	fallback: bool


@dataclass(frozen=True)
class Totals:
	subtotal: Decimal
	discounts: Decimal
	shipping: Decimal
	tax: Decimal
	total: Decimal


def order_label(order: Mapping[str, Any]) -> str:
	return f"Shopify order {order.get('name') or order.get('id') or '(no id)'}"


def taxes_by_title(rows: Iterable[Mapping[str, Any]], label: str) -> dict[str, Decimal]:
	taxes: dict[str, Decimal] = {}
	for row in rows or []:
		taxes[row["title"]] = taxes.get(row["title"], ZERO) + money_bag_amount(row, "priceSet", label)
	return taxes


def order_lines(order: Mapping[str, Any], ctx: ShopifyContext) -> dict[str, Line]:
	"""The order's line items by id; a line whose product or variant was deleted uses the fallback Item."""
	label = order_label(order)
	lines = {}
	for node in connection_nodes(order, "lineItems", label):
		line_label = f"{label} line {node.get('title') or node.get('id')}"
		variant, product = node.get("variant"), node.get("product")
		fallback = not (variant and product)
		quantity = required(node, "quantity", line_label)
		lines[node["id"]] = Line(
			id=node["id"],
			title=node.get("name") or node.get("title") or "",
			item_code=ctx.fallback_item if fallback else Ref(variant_type(variant["id"]), product["id"]),
			quantity=int(quantity),
			rate=money_bag_amount(node, "originalUnitPriceSet", line_label),
			discount=sum(
				(
					money_bag_amount(a, "allocatedAmountSet", line_label)
					for a in node.get("discountAllocations") or []
				),
				ZERO,
			),
			taxes=taxes_by_title(node.get("taxLines"), line_label),
			fallback=fallback,
		)
	return lines


def fallback_lines(order: Mapping[str, Any]) -> list[str]:
	"""The lines booked against the fallback Item because their product is gone at Shopify, for the log."""
	result = []
	for node in connection_nodes(order, "lineItems", order_label(order)):
		if not (node.get("variant") and node.get("product")):
			sku = f", SKU {node['sku']}" if node.get("sku") else ""
			result.append(f"{node.get('name') or node.get('title')}{sku} x {node.get('quantity')}")
	return result


def item_row(line: Line, quantity: int, **extra) -> dict:
	row = {
		"item_code": line.item_code,
		"qty": quantity,
		"rate": as_float(line.rate),
		"price_list_rate": as_float(line.rate),
		**extra,
	}
	if line.fallback:
		row["item_name"] = line.title[:140]
		row["description"] = f"{line.title} (product deleted at Shopify)"
	return row


def discount_note(order: Mapping[str, Any]) -> str:
	parts = []
	for application in connection_nodes(order, "discountApplications", order_label(order)):
		name = application.get("code") or application.get("title") or application.get("__typename")
		value = application.get("value") or {}
		if "percentage" in value:
			parts.append(f"{name} ({value['percentage']:g}%)")
		elif value.get("amount") is not None:
			parts.append(f"{name} ({value['amount']} {value.get('currencyCode', '')})".replace(" )", ")"))
		else:
			parts.append(str(name))
	return ", ".join(parts)


def shipping_lines(order: Mapping[str, Any], label: str) -> list[dict]:
	return [s for s in connection_nodes(order, "shippingLines", label) if not s.get("isRemoved")]


def shipping_rows(title: str, amount: Decimal, ctx: ShopifyContext) -> tuple[list[dict], list[dict]]:
	"""Shipping as (item rows, charge rows): a line of the shipping Item, or a charge to its account."""
	if not amount:
		return [], []
	if ctx.shipping_item:
		row = {
			"item_code": ctx.shipping_item,
			"qty": 1 if amount > 0 else -1,
			"rate": as_float(abs(amount)),
			"price_list_rate": as_float(abs(amount)),
			"description": f"Shipping: {title}",
		}
		return [row], []
	charge = {
		"charge_type": "Actual",
		"account_head": ctx.shipping_account,
		"description": f"Shipping: {title}",
		"tax_amount": as_float(amount),
	}
	return [], [charge]


def tax_rows(taxes: Mapping[str, Decimal], ctx: ShopifyContext, label: str, sign: int = 1) -> list[dict]:
	return [
		{
			"charge_type": "Actual",
			"account_head": mapped(ctx.tax_accounts, TAX_MAPPING, title, label),
			"description": title,
			"tax_amount": as_float(sign * amount),
		}
		for title, amount in taxes.items()
		if amount
	]


def conversion_rate_of(order: Mapping[str, Any], label: str) -> float:
	"""Shop currency per presentment unit, as Shopify converted this order."""
	if order.get("presentmentCurrencyCode") == order.get("currencyCode"):
		return 1.0
	presentment = money_bag_amount(order, "totalPriceSet", label)
	shop = money_bag_amount(order, "totalPriceSet", label, "shopMoney")
	if not presentment:
		raise RecordError(f"{label}: field 'totalPriceSet' is zero; no exchange rate can be derived")
	return float((shop / presentment).quantize(Decimal("0.000000001")))


def successful_transactions(transactions: Iterable[Mapping[str, Any]], kinds: tuple[str, ...]) -> list[dict]:
	return [t for t in transactions or [] if t.get("kind") in kinds and t.get("status") == "SUCCESS"]


def order_customer(order: Mapping[str, Any], ctx: ShopifyContext) -> tuple[Any, list[Target]]:
	"""The party of the order's documents, and the Customer to write first for a guest checkout."""
	if order.get("customer"):
		return Ref(CUSTOMERS, order["customer"]["id"]), []
	if ctx.guest_customer:
		return ctx.guest_customer, []
	billing = order.get("billingAddress") or {}
	name = billing.get("name") or order.get("email") or f"Shopify guest {order.get('name')}"
	return Ref(f"{ORDERS}:customer", order["id"]), [Target("customer", customer_doc(name, ctx))]


def payment_fields(transaction, customer, ctx: ShopifyContext, date: str, amount: Decimal) -> dict:
	return {
		"doctype": "Payment Entry",
		"company": ctx.company,
		"posting_date": date,
		"party_type": "Customer",
		"party": customer,
		"paid_from_account_currency": ctx.company_currency,
		"paid_to_account_currency": ctx.company_currency,
		"paid_amount": as_float(amount),
		"received_amount": as_float(amount),
		"source_exchange_rate": 1,
		"target_exchange_rate": 1,
		"reference_no": transaction.get("authorizationCode") or legacy_id(transaction["id"]),
		"reference_date": date,
		# ERPNext writes its own remarks over a Payment Entry's unless told they are the user's: without
		# this the mapped remark is lost, and the next version of the order would differ from the
		# document in its remarks alone and amend every payment.
		"custom_remarks": 1,
		"docstatus": 1,
	}


def location_warehouse(location: Mapping[str, Any] | None, ctx: ShopifyContext, label: str) -> str:
	if not location:
		raise RecordError(f"{label}: field 'location' is missing")
	return mapped(ctx.warehouses, LOCATION_MAPPING, location["id"], label)
