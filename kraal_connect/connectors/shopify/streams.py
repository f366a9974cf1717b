"""Shopify streams: every entity is read in updated_at order from a high-water mark.

The cursor is JSON: for each pass (products have two: the products, then their deletion events;
inventory has one per location) the mark it filters by ("since"), the page it reached ("after") and the
highest timestamp seen so far ("high"). A run stopped mid-way resumes at its page; a finished pass moves
its mark to the highest timestamp it saw, so the next run asks only for what changed since (updated_at >=
the mark: the last record comes again, and the writer skips it by its version, the record's updatedAt).
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kraal_connect.connectors.shopify import mapping, payouts, queries
from kraal_connect.connectors.shopify.client import Connection, ShopifyApi
from kraal_connect.connectors.shopify.mapping import CUSTOMERS, INVENTORY, ORDERS, PAYOUTS, PRODUCTS
from kraal_connect.engine.records import Change, Page, Stream

# Masters before the transactions that refer to them; payouts after the orders whose payments they pay out.
ENTITIES = (PRODUCTS, CUSTOMERS, ORDERS, INVENTORY, PAYOUTS)
# For a backfill written by several workers (engine/fanout): orders after the products and customers
# they name; the counted stock after the orders whose deliveries it follows; payouts after their orders.
WRITTEN_AFTER = {ORDERS: (PRODUCTS, CUSTOMERS), INVENTORY: (PRODUCTS, ORDERS), PAYOUTS: (ORDERS,)}

# The most records a page may ask for with its requested cost under Shopify's 1000 (see queries.py;
# tests/standalone/test_shopify_paging.py holds them to it).
PRODUCT_PAGE = 15
ORDER_PAGE = 6
CUSTOMER_PAGE = 100
INVENTORY_PAGE = 100
DELETION_PAGE = 100


@dataclass(frozen=True)
class Pass:
	"""One updated_at-ordered read: a page of records from (since, after), and each record as a Change."""

	name: str
	read: Callable[[str | None, str | None], Connection]
	change: Callable[[dict], Change]
	stamp: Callable[[dict], str]


def record_change(record: dict) -> Change:
	return Change(external_id=record["id"], record=record, version=record["updatedAt"])


def whole_change(read_one: Callable[[str], dict | None], cut_short: Callable[[dict], bool]):
	"""Each record of a page as a Change; one whose nested lists the page cut short is read again alone,
	with room for all its rows. The page's own updatedAt still moves the high-water mark, so a record
	changed between the page and the second read is not passed over."""

	def change(record: dict) -> Change:
		if cut_short(record):
			record = read_one(record["id"]) or record
		return record_change(record)

	return change


def deletion_change(event: dict) -> Change:
	return Change(external_id=event["subjectId"], deleted=True, version=event["createdAt"])


def level_change(level: dict) -> Change:
	"""Each state of a level is its own record: a new Stock Reconciliation, never an amended one."""
	return Change(external_id=mapping.inventory_level_key(level), record=level, version=level["updatedAt"])


def passes_fetch(passes: Sequence[Pass]) -> Callable[[str | None], Page]:
	names = [p.name for p in passes]

	def fetch(cursor: str | None) -> Page:
		state = json.loads(cursor) if cursor else {}
		marks = state.get("passes") or {}
		current = state.get("phase") if state.get("phase") in names else names[0]
		index = names.index(current)
		this = passes[index]
		mark = marks.get(current) or {}
		page = this.read(mark.get("since"), mark.get("after"))
		high = max([mark.get("high") or "", *(this.stamp(r) for r in page.nodes)]) or None
		if page.has_next_page:
			marks[current] = {"since": mark.get("since"), "after": page.end_cursor, "high": high}
			has_more = True
		else:
			marks[current] = {"since": high or mark.get("since")}
			index = (index + 1) % len(passes)
			has_more = index != 0
		next_cursor = json.dumps(
			{"phase": names[index], "passes": marks}, sort_keys=True, separators=(",", ":")
		)
		return Page([this.change(r) for r in page.nodes], next_cursor=next_cursor, has_more=has_more)

	return fetch


def _stamp(field: str) -> Callable[[dict], str]:
	return lambda record: record[field]


def products_stream(api: ShopifyApi, page_size: int = PRODUCT_PAGE) -> Stream:
	"""Products with their variants; products deleted at Shopify come as deletions (the Items are disabled)."""
	passes = [
		Pass(
			"products",
			lambda s, a: api.products(s, a, page_size),
			whole_change(api.product, queries.product_cut_short),
			_stamp("updatedAt"),
		),
		Pass(
			"deletions",
			lambda s, a: api.product_deletions(s, a, DELETION_PAGE),
			deletion_change,
			_stamp("createdAt"),
		),
	]
	return Stream(entity=PRODUCTS, fetch=passes_fetch(passes), map=mapping.product_targets)


def customers_stream(api: ShopifyApi, page_size: int = CUSTOMER_PAGE) -> Stream:
	passes = [
		Pass("customers", lambda s, a: api.customers(s, a, page_size), record_change, _stamp("updatedAt"))
	]
	return Stream(entity=CUSTOMERS, fetch=passes_fetch(passes), map=mapping.customer_targets)


def orders_stream(api: ShopifyApi, page_size: int = ORDER_PAGE, start: str | None = None) -> Stream:
	"""Orders with their transactions, refunds and fulfillments: one record, several documents.

	start: the first run reads the orders updated from then on (the integration's Sync From)."""
	passes = [
		Pass(
			"orders",
			lambda s, a: api.orders(s or start, a, page_size),
			whole_change(api.order, queries.order_cut_short),
			_stamp("updatedAt"),
		)
	]
	return Stream(entity=ORDERS, fetch=passes_fetch(passes), map=mapping.order_targets)


def inventory_stream(api: ShopifyApi, location_ids: Sequence[str], page_size: int = INVENTORY_PAGE) -> Stream:
	"""Inventory levels of the mapped locations, for integrations where Shopify holds the stock."""

	def location_pass(location_id: str) -> Pass:
		return Pass(
			location_id,
			lambda s, a: api.inventory_levels(location_id, s, a, page_size),
			level_change,
			_stamp("updatedAt"),
		)

	if not location_ids:
		raise ValueError("the inventory stream needs at least one mapped Shopify location")
	return Stream(
		entity=INVENTORY,
		fetch=passes_fetch([location_pass(lid) for lid in location_ids]),
		map=mapping.stock_reconciliation,
	)


def payout_change(payout: dict) -> Change:
	return Change(external_id=payout["id"], record=payout)


def payouts_stream(api: ShopifyApi, start: str | None = None) -> Stream:
	"""Paid Shopify Payments payouts in the order Shopify issued them, each read whole with its balance
	transactions; a payout never changes once paid, so its version is its content.

	start: the first run reads the payouts issued from then on (the integration's Sync From)."""
	passes = [
		Pass(
			"payouts",
			lambda s, a: payouts.paid_payouts(api, s or start, a),
			lambda payout: payout_change(payouts.whole_payout(api, payout)),
			_stamp("issuedAt"),
		)
	]
	return Stream(entity=PAYOUTS, fetch=passes_fetch(passes), map=mapping.payout_journal_entry)


def fetch_one(api: ShopifyApi, entity: str, external_id: str) -> Change | None:
	"""The current state of one record a webhook named, as the Change its stream would have made.

	None when Shopify no longer has it (an order or customer gone before the webhook was handled).
	"""
	readers = {
		PRODUCTS: (api.product, record_change),
		CUSTOMERS: (api.customer, record_change),
		ORDERS: (api.order, record_change),
		INVENTORY: (api.inventory_level, level_change),
		PAYOUTS: (lambda payout_id: payouts.payout(api, payout_id), payout_change),
	}
	if entity not in readers:
		raise ValueError(f"no Shopify stream for {entity!r}")
	read, change = readers[entity]
	record = read(external_id)
	if record:
		return change(record)
	# A product Shopify no longer has was deleted: its Items are disabled.
	return Change(external_id=external_id, deleted=True) if entity == PRODUCTS else None
