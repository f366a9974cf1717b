"""What a Shopify store's orders need mapped, read before the first sync: every location, and the
payment gateways and tax titles of the orders the first sync will read (those from Sync From on); with
payouts switched on, the bank of each payout currency and the kinds of balance transaction they pay out."""

from collections.abc import Iterable, Mapping
from typing import Any

from kraal_connect.connectors.shopify import payouts
from kraal_connect.connectors.shopify.client import ShopifyApi, updated_since
from kraal_connect.connectors.shopify.mapping import (
	FEES,
	GATEWAY_MAPPING,
	LOCATION_MAPPING,
	PAYOUT_BANK,
	PAYOUT_TYPE,
	TAX_MAPPING,
)
from kraal_connect.connectors.shopify.mapping.payouts import CLEARING_TYPES, SHOPIFY_PAYMENTS, TRANSFER_TYPES
from kraal_connect.connectors.shopify.mapping.records import PAID_KINDS
from kraal_connect.engine.suggestions import Discovered

# Only what names a key, so a page of many orders stays under Shopify's 1000 points. An order's
# taxLines are all of its taxes (its lines' and its shipping's), by title.
ORDER_KEYS = """
fragment KeyTransaction on OrderTransaction { kind status gateway formattedGateway }
query OrderKeys($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      taxLines { title }
      transactions(first: 20) { ...KeyTransaction }
      refunds(first: 20) { transactions(first: 5) { nodes { ...KeyTransaction } } }
    }
  }
}
"""
ORDERS_PER_PAGE = 50
# Enough orders to meet every gateway and tax a store uses, while Discover stays a quick action.
MAX_ORDERS = 1000
# Transactions that move money, and so book to the gateway's account (as the mappers do).
BOOKED_KINDS = (*PAID_KINDS, "REFUND")


def discover(api: ShopifyApi, call, start: str | None) -> list[Discovered]:
	"""Locations first (every one, as a person sees them in the store), then the orders' keys."""
	found = [Discovered(LOCATION_MAPPING, loc["id"], loc.get("name") or "") for loc in call(api.locations)]
	after, read = None, 0
	while read < MAX_ORDERS:
		data = call(
			api.execute,
			ORDER_KEYS,
			{"first": ORDERS_PER_PAGE, "after": after, "query": updated_since(start)},
		)
		orders = data.get("orders") or {}
		nodes = orders.get("nodes") or []
		found += [key for order in nodes for key in order_keys(order)]
		read += len(nodes)
		page = orders.get("pageInfo") or {}
		if not page.get("hasNextPage"):
			break
		after = page.get("endCursor")
	return found


# The kinds of balance transaction since Sync From, a page at a time, as few points as a page can cost.
TRANSACTION_KINDS = """
query PayoutKinds($first: Int!, $after: String, $query: String) {
  shopifyPaymentsAccount {
    balanceTransactions(first: $first, after: $after, query: $query) {
      pageInfo { hasNextPage endCursor }
      nodes { type fee { amount } }
    }
  }
}
"""
TRANSACTIONS_PER_PAGE = 250
MAX_TRANSACTIONS = 2500


def payout_keys(api: ShopifyApi, call, start: str | None) -> list[Discovered]:
	"""What the paid payouts from Sync From on book to: the bank of each currency they are paid in, the
	shopify_payments clearing account, Shopify's fees and each other kind of balance transaction."""
	found, after = [], None
	while True:
		page = call(payouts.paid_payouts, api, start, after)
		found += [
			Discovered(
				PAYOUT_BANK,
				p["net"]["currencyCode"],
				f"Shopify Payments payouts in {p['net']['currencyCode']}",
			)
			for p in page.nodes
		]
		if not page.has_next_page:
			break
		after = page.end_cursor
	if not found:
		return []
	found.append(
		Discovered(GATEWAY_MAPPING, SHOPIFY_PAYMENTS, "Shopify Payments", aliases=(SHOPIFY_PAYMENTS,))
	)
	after, read = None, 0
	while read < MAX_TRANSACTIONS:
		variables = {
			"first": TRANSACTIONS_PER_PAGE,
			"after": after,
			"query": updated_since(start, "processed_at"),
		}
		connection = (
			call(api.execute, TRANSACTION_KINDS, variables).get("shopifyPaymentsAccount") or {}
		).get("balanceTransactions") or {}
		for row in connection.get("nodes") or []:
			kind = row.get("type") or ""
			if float((row.get("fee") or {}).get("amount") or 0):
				found.append(Discovered(PAYOUT_TYPE, FEES, "Shopify Payments fees"))
			if kind and kind not in CLEARING_TYPES | TRANSFER_TYPES:
				found.append(
					Discovered(PAYOUT_TYPE, kind, f"Shopify Payments {kind.lower().replace('_', ' ')}")
				)
		read += len(connection.get("nodes") or [])
		info = connection.get("pageInfo") or {}
		if not info.get("hasNextPage"):
			break
		after = info.get("endCursor")
	return found


def order_keys(order: Mapping[str, Any]) -> list[Discovered]:
	"""The gateways of an order's successful payments and refunds, and every tax title on it."""
	titles = [tax.get("title") for tax in order.get("taxLines") or []]
	transactions = [*_nodes(order.get("transactions"))]
	for refund in order.get("refunds") or []:
		transactions += _nodes(refund.get("transactions"))
	gateways = [
		(t.get("gateway"), t.get("formattedGateway") or t.get("gateway"))
		for t in transactions
		if t.get("kind") in BOOKED_KINDS and t.get("status") == "SUCCESS"
	]
	return [Discovered(GATEWAY_MAPPING, key, name, aliases=(key,)) for key, name in gateways if key] + [
		Discovered(TAX_MAPPING, title, title) for title in titles if title
	]


def _nodes(value: Any) -> Iterable[dict]:
	if isinstance(value, list):
		return value
	return (value or {}).get("nodes") or []
