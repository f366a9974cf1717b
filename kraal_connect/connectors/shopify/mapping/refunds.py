"""Shopify refunds -> credit notes (return Sales Invoices), refund payments and restocked goods."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from kraal_connect.connectors.fields import CENT, as_float, mapped, required
from kraal_connect.connectors.shopify.mapping.order_parts import (
	Line,
	item_row,
	location_warehouse,
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
	RESTOCKED_TYPES,
	STOCK_AT_ZERO,
	ZERO,
	ShopifyContext,
	connection_nodes,
	legacy_id,
	local_date_time,
	money_bag_amount,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref, Target


def _split(total: Decimal, weights: Mapping[str, Decimal], label: str) -> dict[str, Decimal]:
	"""Share total out by weights to the cent; the rounding remainder goes to the largest share."""
	if not total:
		return {}
	base = sum(weights.values(), ZERO)
	if not base:
		raise RecordError(f"{label}: tax of {total} refunded on a line that carried no tax")
	shares = {k: (total * w / base).quantize(CENT) for k, w in weights.items()}
	largest = max(shares, key=lambda k: abs(shares[k]))
	shares[largest] += total - sum(shares.values(), ZERO)
	return shares


@dataclass
class _Refunded:
	"""What one refund takes back, in the presentment currency, as credit note rows."""

	items: list[dict] = field(default_factory=list)
	charges: list[dict] = field(default_factory=list)
	taxes: dict[str, Decimal] = field(default_factory=dict)
	net: Decimal = ZERO
	discount: Decimal = ZERO

	def tax(self, shares: Mapping[str, Decimal]) -> None:
		for title, amount in shares.items():
			self.taxes[title] = self.taxes.get(title, ZERO) + amount


def refund_targets(
	refund, order, lines, common, customer, deliveries, invoiced: bool, ctx: ShopifyContext, label
) -> list[Target]:
	"""A refund as a credit note against the invoice, a payment per refunded transaction, and a return
	against the delivery of every restocked good. An order cancelled before it was paid has a refund
	without money (the goods go back to stock): only the returns are booked for it."""
	rid = legacy_id(refund["id"])
	rlabel = f"{label} refund {rid}"
	date, time = local_date_time(required(refund, "createdAt", rlabel), ctx, rlabel, "createdAt")
	refunded = _refunded(refund, order, lines, ctx, rlabel)
	total = money_bag_amount(refund, "totalRefundedSet", rlabel)
	targets = []
	if not invoiced:
		if total:
			raise RecordError(f"{rlabel}: refunds {total} of an order that was never paid")
	elif order.get("taxesIncluded") and (refunded.items or refunded.charges):
		raise RecordError(
			f"{rlabel}: refunds of orders whose prices include tax are not supported yet; book the credit "
			"note by hand"
		)
	elif refunded.items or refunded.charges:
		credit_note = {
			**common,
			"doctype": "Sales Invoice",
			"is_return": 1,
			"return_against": Ref(f"{ORDERS}:invoice", order["id"]),
			"posting_date": date,
			"posting_time": time,
			"set_posting_time": 1,
			"update_stock": 0,
			"items": refunded.items,
			"taxes": refunded.charges
			+ tax_rows(refunded.taxes, ctx, rlabel, sign=-1)
			+ _discrepancy(refunded, total, ctx, rlabel),
			"remarks": f"Refund of Shopify order {order.get('name')}"
			+ (f": {refund['note']}" if refund.get("note") else ""),
			"docstatus": 1,
		}
		if refunded.discount:
			credit_note.update(apply_discount_on="Net Total", discount_amount=as_float(-refunded.discount))
		targets.append(Target(f"refund:{rid}", credit_note))
	elif total:
		raise RecordError(
			f"{rlabel}: refunds {total} without lines or shipping; ERPNext needs items on a credit note, "
			"so book it by hand"
		)
	for transaction in successful_transactions(connection_nodes(refund, "transactions", rlabel), ("REFUND",)):
		payment = _refund_payment(transaction, order, rid, customer, ctx, rlabel)
		targets.append(Target(f"refund_payment:{legacy_id(transaction['id'])}", payment))
	for fulfillment_id, rows in _restocked(refund, lines, deliveries, ctx, rlabel).items():
		returned = {
			**common,
			"doctype": "Delivery Note",
			"is_return": 1,
			"return_against": Ref(f"{ORDERS}:delivery:{legacy_id(fulfillment_id)}", order["id"]),
			"posting_date": date,
			"posting_time": time,
			"set_posting_time": 1,
			"items": rows,
			"docstatus": 1,
		}
		targets.append(Target(f"restock:{rid}:{legacy_id(fulfillment_id)}", returned))
	return targets


def _refunded(refund, order, lines: Mapping[str, Line], ctx: ShopifyContext, label: str) -> _Refunded:
	"""Refunded lines at their original price less their share of the discounts, refunded shipping, and
	the refunded tax shared out over the titles the line (or shipping) was taxed under."""
	result = _Refunded()
	for row in connection_nodes(refund, "refundLineItems", label):
		line = lines.get(row["lineItem"]["id"])
		if line is None:
			raise RecordError(f"{label}: field 'lineItem' names a line the order does not have")
		quantity = int(row["quantity"])
		subtotal = money_bag_amount(row, "subtotalSet", label)
		result.items.append(item_row(line, -quantity))
		result.discount += line.rate * quantity - subtotal
		result.net += subtotal
		result.tax(_split(money_bag_amount(row, "totalTaxSet", label), line.taxes, label))
	shipping_by_id = {s.get("id"): s for s in shipping_lines(order, label)}
	for row in connection_nodes(refund, "refundShippingLines", label):
		subtotal = money_bag_amount(row, "subtotalAmountSet", label)
		shipping = shipping_by_id.get((row.get("shippingLine") or {}).get("id")) or {}
		items, charges = shipping_rows(shipping.get("title") or "", -subtotal, ctx)
		result.items += items
		result.charges += charges
		result.net += subtotal
		taxed = taxes_by_title(shipping.get("taxLines"), label)
		result.tax(_split(money_bag_amount(row, "taxAmountSet", label), taxed, label))
	return result


def _discrepancy(refunded: _Refunded, total: Decimal, ctx: ShopifyContext, label: str) -> list[dict]:
	"""A charge for the difference when Shopify refunded other than what the refunded rows come to."""
	worth = refunded.net + sum(refunded.taxes.values(), ZERO)
	if worth == total:
		return []
	if not ctx.refund_discrepancy_account:
		raise RecordError(
			f"{label}: Shopify refunded {total} for rows worth {worth}; "
			"set a refund discrepancy account on the integration"
		)
	return [
		{
			"charge_type": "Actual",
			"account_head": ctx.refund_discrepancy_account,
			"description": "Refund discrepancy",
			"tax_amount": as_float(worth - total),
		}
	]


def _restocked(
	refund, lines: Mapping[str, Line], deliveries, ctx: ShopifyContext, label: str
) -> dict[str, list[dict]]:
	"""Return rows by fulfillment for the refunded goods Shopify put back in stock."""
	restock: dict[str, list[dict]] = {}
	for row in connection_nodes(refund, "refundLineItems", label):
		if row.get("restockType") in RESTOCKED_TYPES and row.get("restocked"):
			line = lines[row["lineItem"]["id"]]
			_restock(row, line, int(row["quantity"]), deliveries, restock, ctx, label)
	return restock


def _restock(
	row, line: Line, quantity: int, deliveries, restock: dict, ctx: ShopifyContext, label: str
) -> None:
	"""Goods back in stock: returned against the fulfillments that delivered them, into the warehouse of
	the location Shopify restocked them at."""
	remaining = quantity
	for fulfillment_id, fulfillment in deliveries.items():
		if fulfillment.get("status") != "SUCCESS" or not remaining:
			continue
		delivered = sum(
			int(r["quantity"])
			for r in connection_nodes(fulfillment, "fulfillmentLineItems", label)
			if r["lineItem"]["id"] == line.id
		)
		if not delivered:
			continue
		taken = min(delivered, remaining)
		remaining -= taken
		warehouse = location_warehouse(row.get("location") or fulfillment.get("location"), ctx, label)
		restock.setdefault(fulfillment_id, []).append(
			item_row(line, -taken, warehouse=warehouse, **STOCK_AT_ZERO)
		)


def _refund_payment(transaction, order, refund_id: str, customer, ctx: ShopifyContext, label: str) -> dict:
	"""Money Shopify sent back: out of the gateway's account, settling the credit note."""
	amount = money_bag_amount(transaction, "amountSet", label, "shopMoney")
	date, _ = local_date_time(
		transaction.get("processedAt") or transaction["createdAt"], ctx, label, "processedAt"
	)
	account = mapped(ctx.gateway_accounts, GATEWAY_MAPPING, transaction.get("gateway") or "", label)
	return {
		**payment_fields(transaction, customer, ctx, date, amount),
		"payment_type": "Pay",
		"paid_from": account,
		"paid_to": ctx.receivable_account,
		"references": [
			{
				"reference_doctype": "Sales Invoice",
				"reference_name": Ref(f"{ORDERS}:refund:{refund_id}", order["id"]),
				"allocated_amount": as_float(-amount),
			}
		],
		"remarks": f"Refund for Shopify order {order.get('name')}",
	}
