"""Shopify orders -> Sales Order; when paid, Sales Invoice and Payment Entries; when fulfilled,
Delivery Notes; refunds through refunds.py."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import as_float, mapped, required
from kraal_connect.connectors.shopify.mapping.order_parts import (
	Line,
	Totals,
	conversion_rate_of,
	discount_note,
	fallback_lines,
	item_row,
	location_warehouse,
	order_customer,
	order_label,
	order_lines,
	payment_fields,
	shipping_lines,
	shipping_rows,
	successful_transactions,
	tax_rows,
	taxes_by_title,
)
from kraal_connect.connectors.shopify.mapping.records import (
	GATEWAY_MAPPING,
	ORDERS,
	PAID_KINDS,
	STOCK_AT_ZERO,
	ZERO,
	ShopifyContext,
	connection_nodes,
	legacy_id,
	local_date_time,
	money_bag_amount,
)
from kraal_connect.connectors.shopify.mapping.refunds import refund_targets
from kraal_connect.connectors.shopify.mapping.tax_included import included_sale
from kraal_connect.connectors.shopify.mapping.totals import erpnext_totals, shopify_totals
from kraal_connect.engine import selling_totals
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref, Target


def order_targets(order: Mapping[str, Any], ctx: ShopifyContext) -> list[Target]:
	"""An order as Sales Order; once paid a Sales Invoice and a Payment Entry per settled transaction;
	a Delivery Note per fulfillment; per refund a credit note, its payments and the restocked goods.

	A cancelled order that was never paid cancels its Sales Order. Paid ones are undone by their refunds.
	"""
	label = order_label(order)
	order_id = required(order, "id", label)
	if order.get("currencyCode") != ctx.company_currency:
		raise RecordError(
			f"{label}: field 'currencyCode' is {order.get('currencyCode')}, not the company's currency "
			f"{ctx.company_currency}"
		)
	lines = order_lines(order, ctx)
	customer, targets = order_customer(order, ctx)
	sale = _Sale.of(order, lines, ctx, label)
	common = {
		"company": ctx.company,
		"customer": customer,
		"currency": required(order, "presentmentCurrencyCode", label),
		"conversion_rate": sale.conversion_rate(order, ctx, label),
		"selling_price_list": ctx.price_list,
		"ignore_pricing_rule": 1,
		"disable_rounded_total": 1,
		"po_no": ctx.order_prefix + (order.get("name") or legacy_id(order_id)),
	}
	paid = successful_transactions(order.get("transactions"), PAID_KINDS)
	targets.append(Target("", _sales_order(order, lines, sale, common, bool(paid), ctx, label)))
	if paid:
		targets.append(Target("invoice", _sales_invoice(order, sale, common, paid[0], ctx, label)))
		for transaction in paid:
			payment = _payment(transaction, order, customer, ctx, label)
			targets.append(Target(f"payment:{legacy_id(transaction['id'])}", payment))
	deliveries = {}
	for fulfillment in order.get("fulfillments") or []:
		delivery = _delivery_note(fulfillment, lines, common, order_id, ctx, label)
		if delivery:
			deliveries[fulfillment["id"]] = fulfillment
			targets.append(Target(f"delivery:{legacy_id(fulfillment['id'])}", delivery))
	for refund in order.get("refunds") or []:
		targets += refund_targets(refund, order, lines, common, customer, deliveries, bool(paid), ctx, label)
	return targets


@dataclass(frozen=True)
class _Sale:
	"""The rows an order's Sales Order and Sales Invoice share: goods (each with its Shopify line),
	shipping, charges (taxes first), discount; a tax-inclusive order's totals as booked."""

	items: list[dict]
	item_lines: list[Line]
	shipping_items: list[dict]
	charges: list[dict]
	discount: Decimal
	included_totals: Totals | None = None

	@classmethod
	def of(
		cls, order: Mapping[str, Any], lines: Mapping[str, Line], ctx: ShopifyContext, label: str
	) -> "_Sale":
		if order.get("taxesIncluded"):
			sale = included_sale(order, lines, ctx, label)
			return cls(
				items=[row for row, _ in sale.items],
				item_lines=[line for _, line in sale.items],
				shipping_items=sale.shipping_items,
				charges=sale.charges,
				discount=ZERO,
				included_totals=sale.totals,
			)
		shipping_items, charges = [], []
		for shipping in shipping_lines(order, label):
			amount = money_bag_amount(shipping, "discountedPriceSet", label)
			rows, extra = shipping_rows(shipping.get("title") or "", amount, ctx)
			shipping_items += rows
			charges += extra
		taxes = tax_rows(taxes_by_title(order.get("taxLines"), label), ctx, label)
		return cls(
			items=[item_row(line, line.quantity) for line in lines.values()],
			item_lines=list(lines.values()),
			shipping_items=shipping_items,
			charges=charges + taxes,
			discount=sum((line.discount for line in lines.values()), ZERO),
		)

	def totals(self) -> dict:
		"""Taxes and charges, and every discount as the document's additional discount on the net total."""
		discount = {"apply_discount_on": "Net Total", "discount_amount": as_float(self.discount)}
		return {"taxes": self.charges, **(discount if self.discount else {})}

	def conversion_rate(self, order: Mapping[str, Any], ctx: ShopifyContext, label: str) -> float:
		"""Shop currency per presentment unit: Shopify's rate, moved within its last digits where that
		lets the converted rows and taxes add up to Shopify's converted total (engine/selling_totals)."""
		plain = conversion_rate_of(order, label)
		if order.get("presentmentCurrencyCode") == order.get("currencyCode"):
			return plain
		charges = self.charges
		result = selling_totals.booked(
			[row["qty"] * row["rate"] for row in self.items + self.shipping_items],
			[row["rate"] for row in charges if row.get("included_in_print_rate")],
			[row["tax_amount"] for row in charges if not row.get("included_in_print_rate")],
			as_float(self.discount),
			ctx.rounding_method,
		)
		taxes = [
			amount
			for amount, row in zip(result.taxes, charges, strict=True)
			if row["account_head"] != ctx.round_off_account
		]
		shop_total = money_bag_amount(order, "totalPriceSet", label, "shopMoney")
		rate, _ = selling_totals.conversion_rate(
			result.nets, taxes, result.grand_total, as_float(shop_total), ctx.rounding_method
		)
		return rate


def _sales_order(order, lines: Mapping[str, Line], sale: _Sale, common: dict, paid: bool, ctx, label) -> dict:
	"""The Sales Order; cancelled (docstatus 2) when Shopify cancelled the order before it was paid."""
	date, _ = local_date_time(required(order, "processedAt", label), ctx, label, "processedAt")
	items = [
		{**row, "delivery_date": date, "warehouse": ctx.default_warehouse, **_notes(line)}
		for row, line in zip(sale.items, sale.item_lines, strict=True)
	]
	sales_order = {
		**common,
		**sale.totals(),
		"doctype": "Sales Order",
		"order_type": "Sales",
		"transaction_date": date,
		"delivery_date": date,
		"items": items + [{**row, "delivery_date": date} for row in sale.shipping_items],
		"docstatus": 2 if order.get("cancelledAt") and not paid else 1,
	}
	_check_totals(order, sales_order, sale, ctx, label)
	return sales_order


def _sales_invoice(order, sale: _Sale, common: dict, first_payment: Mapping[str, Any], ctx, label) -> dict:
	"""The Sales Invoice, dated when Shopify first settled money for the order."""
	date, time = local_date_time(
		first_payment.get("processedAt") or first_payment["createdAt"], ctx, label, "processedAt"
	)
	return {
		**common,
		**sale.totals(),
		"doctype": "Sales Invoice",
		"posting_date": date,
		"posting_time": time,
		"set_posting_time": 1,
		"due_date": date,
		"update_stock": 0,
		"items": [{**row, "sales_order": Ref(ORDERS, order["id"])} for row in sale.items]
		+ sale.shipping_items,
		"remarks": _remarks(order),
		"docstatus": 1,
	}


def _notes(line: Line) -> dict:
	if line.fallback:
		return {
			"additional_notes": f"{line.title}: the product was deleted at Shopify; booked as the fallback item"
		}
	if line.discount:
		return {"additional_notes": f"Shopify discounts on this line: {line.discount}"}
	return {}


def _remarks(order: Mapping[str, Any]) -> str:
	parts = [f"Shopify order {order.get('name')}"]
	note = discount_note(order)
	if note:
		parts.append(f"discounts: {note}")
	fallbacks = fallback_lines(order)
	if fallbacks:
		parts.append(f"products deleted at Shopify: {'; '.join(fallbacks)}")
	return "; ".join(parts)


def _check_totals(order: Mapping[str, Any], doc: dict, sale: _Sale, ctx: ShopifyContext, label: str) -> None:
	ours, theirs = sale.included_totals or erpnext_totals(doc, ctx), shopify_totals(order)
	if ours != theirs:
		differences = ", ".join(
			f"{name} {getattr(ours, name)} instead of {getattr(theirs, name)}"
			for name in Totals.__dataclass_fields__
			if getattr(ours, name) != getattr(theirs, name)
		)
		raise RecordError(f"{label}: the Sales Order would not match Shopify's totals: {differences}")


def _payment(transaction: Mapping[str, Any], order, customer, ctx: ShopifyContext, label: str) -> dict:
	"""Money Shopify settled for the order: from the customer's receivable into the gateway's account."""
	tlabel = f"{label} transaction {legacy_id(transaction['id'])}"
	amount = money_bag_amount(transaction, "amountSet", tlabel, "shopMoney")
	date, _ = local_date_time(
		transaction.get("processedAt") or transaction["createdAt"], ctx, tlabel, "processedAt"
	)
	account = mapped(ctx.gateway_accounts, GATEWAY_MAPPING, transaction.get("gateway") or "", tlabel)
	return {
		**payment_fields(transaction, customer, ctx, date, amount),
		"payment_type": "Receive",
		"paid_from": ctx.receivable_account,
		"paid_to": account,
		"references": [
			{
				"reference_doctype": "Sales Invoice",
				"reference_name": Ref(f"{ORDERS}:invoice", order["id"]),
				"allocated_amount": as_float(amount),
			}
		],
		"remarks": f"{transaction.get('formattedGateway') or transaction.get('gateway')} payment for {order.get('name')}",
	}


def _delivery_note(fulfillment, lines: Mapping[str, Line], common: dict, order_id, ctx, label) -> dict | None:
	"""A successful fulfillment as a Delivery Note from its location's warehouse; a cancelled one cancels it."""
	status = fulfillment.get("status")
	if status not in ("SUCCESS", "CANCELLED"):
		return None
	flabel = f"{label} fulfillment {fulfillment.get('name') or legacy_id(fulfillment['id'])}"
	warehouse = location_warehouse(fulfillment.get("location"), ctx, flabel)
	date, time = local_date_time(required(fulfillment, "createdAt", flabel), ctx, flabel, "createdAt")
	items = []
	for row in connection_nodes(fulfillment, "fulfillmentLineItems", flabel):
		line = lines.get(row["lineItem"]["id"])
		if line is None:
			raise RecordError(f"{flabel}: field 'lineItem' names a line the order does not have")
		items.append(
			item_row(
				line,
				int(row["quantity"]),
				warehouse=warehouse,
				against_sales_order=Ref(ORDERS, order_id),
				**STOCK_AT_ZERO,
			)
		)
	return {
		**common,
		"doctype": "Delivery Note",
		"posting_date": date,
		"posting_time": time,
		"set_posting_time": 1,
		"items": items,
		"docstatus": 1 if status == "SUCCESS" else 2,
	}


def sales_order_row_lines(order: Mapping[str, Any], ctx: ShopifyContext) -> list[str | None]:
	"""The Shopify line of each row of the order's Sales Order, in order (None for shipping): a line of
	a tax-inclusive order whose price is not whole cents a unit has two rows."""
	sale = _Sale.of(order, order_lines(order, ctx), ctx, order_label(order))
	return [line.id for line in sale.item_lines] + [None] * len(sale.shipping_items)


def delivered_rows(
	shipped: list[tuple[dict, str]], so_rows: list[tuple[str | None, str, float]], remaining: dict[str, float]
) -> list[dict]:
	"""Delivery Note rows pointed at the Sales Order rows they deliver (so_detail).

	shipped: (Delivery Note row, its Shopify line id); so_rows: (line id, Sales Order row name, qty);
	remaining: Sales Order row name -> what is left to deliver, used up as rows are pointed (fulfillments
	in order). A line of one row takes it; a line of several is shared out over them, the Delivery Note
	row split to match."""
	result = []
	for row, line_id in shipped:
		mine = [(name, qty) for lid, name, qty in so_rows if lid == line_id]
		if len(mine) <= 1:
			result.append({**row, "so_detail": mine[0][0] if mine else None})
			continue
		left = row["qty"]
		for name, _ in mine:
			take = min(remaining.get(name, 0), left)
			if take > 0:
				result.append({**row, "qty": take, "so_detail": name})
				remaining[name] -= take
				left -= take
		if left > 0:  # more than the order holds: ERPNext's over-delivery check says so
			result.append({**row, "qty": left, "so_detail": mine[-1][0]})
	return result
