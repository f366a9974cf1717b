"""Orders whose prices include tax (`taxesIncluded`: EU VAT, or a market the store prices with tax
included): each line at the price the customer paid, Shopify's taxes as ERPNext's taxes "included in
the basic rate" at the lines' rates, and engine/selling_totals making ERPNext's tax, revenue and total
Shopify's to the cent."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from kraal_connect.connectors.fields import CENT, as_float, mapped
from kraal_connect.connectors.shopify.mapping.order_parts import (
	Line,
	Totals,
	item_row,
	shipping_lines,
	taxes_by_title,
)
from kraal_connect.connectors.shopify.mapping.records import (
	TAX_MAPPING,
	ZERO,
	ShopifyContext,
	connection_nodes,
	money_bag_amount,
)
from kraal_connect.engine import selling_totals
from kraal_connect.engine.errors import RecordError

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class IncludedSale:
	"""The rows of a tax-inclusive order's Sales Order and Sales Invoice."""

	# (item row, its Shopify line): a line whose discounted price is not whole cents a unit is two rows
	items: list[tuple[dict, Line]]
	shipping_items: list[dict]
	charges: list[dict]
	totals: Totals


def unit_rows(total: Decimal, quantity: int) -> list[tuple[int, Decimal]]:
	"""quantity units costing total together, as (qty, whole-cent rate) rows adding up to total exactly."""
	unit = (total / quantity).quantize(CENT, rounding=ROUND_DOWN)
	extra_cents = int((total - unit * quantity) / CENT)
	if not extra_cents:
		return [(quantity, unit)]
	return [(quantity - extra_cents, unit), (extra_cents, unit + CENT)]


def included_sale(order: Mapping[str, Any], lines: Mapping[str, Line], ctx: ShopifyContext, label: str):
	"""Lines at their discounted prices with tax (the discount shows as the rows' price list rate less
	their rate), shipping with its tax (the shipping Item's row, or its net and tax as charges), and the
	included taxes, one row per tax account at the rate Shopify applied."""
	if not ctx.round_off_account:
		raise RecordError(f"{label}: the company has no Round Off account (Company settings)")
	nodes = {node["id"]: node for node in connection_nodes(order, "lineItems", label)}
	rates: dict[str, Decimal] = {}
	titles: dict[str, list[str]] = {}
	taxed_rows, channel_taxes = [], {}
	items = []
	for line in lines.values():
		_rates_of(nodes[line.id].get("taxLines"), rates, titles, ctx, f"{label} line {line.title}")
		paid = line.rate * line.quantity - line.discount
		for qty, rate in unit_rows(paid, line.quantity):
			row = item_row(line, qty)
			row["rate"] = as_float(rate)
			items.append((row, line))
			taxed_rows.append(rate * qty)
		_add(channel_taxes, line.taxes, ctx, label)
	shipping_items, charges, shipping_total = [], [], ZERO
	for shipping in shipping_lines(order, label):
		amount = money_bag_amount(shipping, "discountedPriceSet", label)
		if not amount:
			continue
		shipping_total += amount
		taxes = taxes_by_title(shipping.get("taxLines"), label)
		title = shipping.get("title") or ""
		if ctx.shipping_item:
			_rates_of(shipping.get("taxLines"), rates, titles, ctx, f"{label} shipping {title}")
			shipping_items.append(
				{
					"item_code": ctx.shipping_item,
					"qty": 1 if amount > 0 else -1,
					"rate": as_float(abs(amount)),
					"price_list_rate": as_float(abs(amount)),
					"description": f"Shipping: {title}",
				}
			)
			taxed_rows.append(amount)
			_add(channel_taxes, taxes, ctx, label)
			continue
		# Shipping booked to an account: its net and its tax as charges of their own, exactly Shopify's.
		charges.append(
			{
				"charge_type": "Actual",
				"account_head": ctx.shipping_account,
				"description": f"Shipping: {title}",
				"tax_amount": as_float(amount - sum(taxes.values(), ZERO)),
			}
		)
		for tax_title, tax in taxes.items():
			if tax:
				charges.append(
					{
						"charge_type": "Actual",
						"account_head": mapped(ctx.tax_accounts, TAX_MAPPING, tax_title, label),
						"description": f"{tax_title} on shipping",
						"tax_amount": as_float(tax),
					}
				)
	_check_every_row_taxed_alike(rates, titles, lines, nodes, shipping_items, order, ctx, label)
	try:
		included = selling_totals.inclusive_taxes(
			taxed_rows,
			channel_taxes,
			rates,
			{account: ", ".join(names) for account, names in titles.items()},
			ctx.round_off_account,
			"Shopify",
			ctx.rounding_method,
		)
	except ValueError as exc:
		raise RecordError(f"{label}: {exc}") from None
	tax = sum(channel_taxes.values(), ZERO) + sum(
		(Decimal(str(c["tax_amount"])) for c in charges if c["account_head"] != ctx.shipping_account), ZERO
	)
	goods = sum((Decimal(str(row["rate"])) * row["qty"] for row, _ in items), ZERO)
	listed = sum((line.rate * line.quantity for line in lines.values()), ZERO)
	totals = Totals(goods, listed - goods, shipping_total, tax, goods + shipping_total)
	return IncludedSale(items, shipping_items, included + charges, totals)


def _rates_of(tax_lines, rates: dict, titles: dict, ctx: ShopifyContext, label: str) -> None:
	"""Each tax account's rate (percent; titles mapped to one account add up) as this line states it."""
	found: dict[str, Decimal] = {}
	for row in tax_lines or []:
		account = mapped(ctx.tax_accounts, TAX_MAPPING, row["title"], label)
		rate = Decimal(str(row.get("rate") or 0)) * HUNDRED
		found[account] = found.get(account, ZERO) + rate
		if row["title"] not in titles.setdefault(account, []):
			titles[account].append(row["title"])
	for account, rate in found.items():
		if rates.setdefault(account, rate) != rate:
			raise RecordError(
				f"{label}: taxed at {rate.normalize()}% under {', '.join(titles[account])} where another line "
				f"is taxed at {rates[account].normalize()}%; one order's lines at several rates of a tax are "
				"not supported yet (ERPNext needs an Item Tax Template for each)"
			)


def _check_every_row_taxed_alike(rates, titles, lines, nodes, shipping_items, order, ctx, label) -> None:
	"""ERPNext taxes every row of the document at an included tax's rate: a line Shopify did not tax
	under it (or shipping the Item carries untaxed) would be taxed all the same."""
	rows = [(line.title, nodes[line.id].get("taxLines")) for line in lines.values()]
	if shipping_items:
		rows += [
			(f"shipping {s.get('title')}", s.get("taxLines"))
			for s in shipping_lines(order, label)
			if money_bag_amount(s, "discountedPriceSet", label)
		]
	for name, tax_lines in rows:
		accounts = {mapped(ctx.tax_accounts, TAX_MAPPING, row["title"], label) for row in tax_lines or []}
		missing = [a for a in rates if rates[a] and a not in accounts]
		if missing:
			raise RecordError(
				f"{label}: {name} carries no {', '.join(t for a in missing for t in titles[a])} where the "
				"order's other lines do; lines exempt from an included tax are not supported yet"
			)


def _add(totals: dict, taxes: Mapping[str, Decimal], ctx: ShopifyContext, label: str) -> None:
	for title, amount in taxes.items():
		account = mapped(ctx.tax_accounts, TAX_MAPPING, title, label)
		totals[account] = totals.get(account, ZERO) + amount
