"""The Amazon streams. Paging state lives in the cursor; calls a page makes per record go through `call`.

`call` is the run's ApiCaller (or anything with its signature): getOrderItems for each order,
getReportDocument for each report and getCatalogItem for each listing go through it, so a 429 on
the 31st order of a page waits out that one call instead of failing the page, whose retry would
spend another getOrders request (Amazon allows one a minute once the burst is gone).
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

from kraal_connect.connectors.amazon import mapping
from kraal_connect.connectors.amazon.client import AmazonApi
from kraal_connect.engine.records import Change, Page, Stream
from kraal_connect.engine.sync import read_pages

Call = Callable[..., Any]
# Orders Amazon will not book; the orders stream reports them as deletions.
# Inventory and orders first: the catalog describes the listings they met in this run.
ENTITIES = (mapping.FBA_INVENTORY, mapping.ORDERS, mapping.CATALOG_ITEMS, mapping.SETTLEMENTS)
# Written by several workers (engine/fanout), each entity after the one before it, as a run alone writes
# them: an order's Item is made before the catalog describes it, a settlement names its orders.
WRITTEN_AFTER = {
	mapping.ORDERS: (mapping.FBA_INVENTORY,),
	mapping.CATALOG_ITEMS: (mapping.ORDERS,),
	mapping.SETTLEMENTS: (mapping.CATALOG_ITEMS,),
}
GONE_STATUSES = frozenset({"Canceled", "Unfulfillable"})
# Orders whose items carry no prices yet: not worth a getOrderItems call.
UNPRICED_STATUSES = frozenset({"Pending", "PendingAvailability"})


def _instant(value: str) -> datetime:
	moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
	return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
	return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def booked_unchanged(order: Mapping[str, Any], booked_version: str | None) -> bool:
	"""Whether an order is at (or behind) the LastUpdateDate the site booked it at, so its items, which
	cannot change without the order's LastUpdateDate moving, need not be asked for again."""
	seen = order.get("LastUpdateDate")
	if not booked_version or not seen or order.get("OrderStatus") in GONE_STATUSES:
		return False
	try:
		return _instant(seen) <= _instant(booked_version)
	except ValueError:  # a version that is no timestamp (a removed order's mark): read it whole
		return False


def orders_stream(
	api: AmazonApi,
	call: Call,
	marketplace_ids: Sequence[str],
	start: str,
	page_size: int = 100,
	booked_versions: Callable[[list[str]], Mapping[str, str]] | None = None,
) -> Stream:
	"""getOrders by LastUpdatedAfter, each order with its items; cancelled orders become deletions.

	Cursor: {"LastUpdatedAfter", "NextToken", "HighWater"} while paging, then {"LastUpdatedAfter":
	the newest LastUpdateDate seen}. That order comes again next run (LastUpdatedAfter is inclusive)
	and is skipped as unchanged; `start` (ISO 8601) is where the first run begins.

	booked_versions(order ids) gives the LastUpdateDate each order of a page was booked at: an order
	still at it comes as unchanged, without a getOrderItems call (0.5 a second at Amazon).
	"""

	def order_change(order: Mapping[str, Any], booked: Mapping[str, str]) -> Change:
		order_id = str(order.get("AmazonOrderId") or "")
		if order.get("OrderStatus") in GONE_STATUSES:
			return Change(order_id, deleted=True)
		if booked_unchanged(order, booked.get(order_id)):
			return Change(order_id, version=order.get("LastUpdateDate"), unchanged=True)
		items: list[dict] = []
		if order.get("OrderStatus") not in UNPRICED_STATUSES:

			def item_page(token: str | None) -> Page:  # Amazon pages the items of large orders
				rows, next_token = api.order_items(order_id, token)
				return Page([Change(order_id, row) for row in rows], next_token, has_more=bool(next_token))

			items = [change.record for change in read_pages(item_page, call)]
		return Change(order_id, {**order, "OrderItems": items}, version=order.get("LastUpdateDate"))

	def fetch(cursor: str | None) -> Page:
		state = json.loads(cursor) if cursor else {"LastUpdatedAfter": start}
		since = state["LastUpdatedAfter"]
		orders, next_token = api.orders(list(marketplace_ids), since, state.get("NextToken"), page_size)
		high_water = max(
			[_instant(state.get("HighWater") or since)] + [_instant(o["LastUpdateDate"]) for o in orders]
		)
		ids = [str(o.get("AmazonOrderId") or "") for o in orders]
		booked = booked_versions(ids) if booked_versions and ids else {}
		changes = [order_change(o, booked) for o in orders]
		if next_token:
			following = {"LastUpdatedAfter": since, "NextToken": next_token, "HighWater": _iso(high_water)}
			return Page(changes, json.dumps(following), has_more=True)
		return Page(changes, json.dumps({"LastUpdatedAfter": _iso(high_water)}))

	return Stream(entity=mapping.ORDERS, fetch=fetch, map=mapping.order_documents)


def settlements_stream(
	api: AmazonApi, call: Call, marketplace_ids: Sequence[str], page_size: int = 10
) -> Stream:
	"""Finished V2 settlement reports, each document downloaded and split into one Change a settlement.

	Cursor: {"createdSince", "read", "nextToken", "newest", "newest_ids"} while paging (Amazon lists
	newest first), then {"createdSince": the newest report's createdTime, "read": the reports created
	then}. The next run lists from that time on (inclusive) and skips the reports read already: a
	finished report never changes, so it is downloaded once. The first run gets the 90 days Amazon keeps.
	"""

	def fetch(cursor: str | None) -> Page:
		state = json.loads(cursor) if cursor else {}
		read = set(state.get("read") or [])
		reports, next_token = api.settlement_reports(
			list(marketplace_ids), state.get("createdSince"), state.get("nextToken"), page_size
		)
		changes = []
		for report in reports:
			if not report.get("reportDocumentId") or report.get("reportId") in read:
				continue
			text = call(api.report_document, report["reportDocumentId"])
			for settlement_id, flat_file in mapping.split_settlements(text):
				record = {
					"reportId": report.get("reportId"),
					"reportDocumentId": report["reportDocumentId"],
					"flat_file": flat_file,
				}
				changes.append(Change(settlement_id or f"report {report.get('reportId')}", record))
		newest, newest_ids = newest_reports(state, reports)
		if next_token:
			following = {
				"createdSince": state.get("createdSince"),
				"read": sorted(read),
				"nextToken": next_token,
				"newest": newest,
				"newest_ids": newest_ids,
			}
			return Page(changes, json.dumps(following), has_more=True)
		return Page(changes, json.dumps({"createdSince": newest, "read": newest_ids}) if newest else None)

	return Stream(entity=mapping.SETTLEMENTS, fetch=fetch, map=mapping.settlement_journal_entry)


def newest_reports(state: Mapping[str, Any], reports: Sequence[Mapping[str, Any]]) -> tuple[str | None, list]:
	"""The newest creation time a pass has seen (the previous runs' mark included) and the reports
	created at it: where the next run lists from, and what it need not download again."""
	seen = []
	if state.get("newest"):
		seen.append((_instant(state["newest"]), state.get("newest_ids") or []))
	elif state.get("createdSince"):
		seen.append((_instant(state["createdSince"]), state.get("read") or []))
	seen += [(_instant(r["createdTime"]), [r.get("reportId")]) for r in reports if r.get("createdTime")]
	if not seen:
		return state.get("createdSince"), sorted(state.get("read") or [])
	top = max(moment for moment, _ in seen)
	return _iso(top), sorted({i for moment, ids in seen if moment == top for i in ids if i})


class Listing(NamedTuple):
	seller_sku: str
	asin: str
	title: str = ""


def listings_from(records: Iterable[Mapping[str, Any]]) -> list[Listing]:
	"""The listings (seller SKU, ASIN, title) in FBA inventory summaries and in order records with
	their OrderItems, each once, first seen first."""
	found: dict[str, Listing] = {}
	for record in records:
		if "sellerSku" in record:
			rows = [(record.get("sellerSku"), record.get("asin"), record.get("productName"))]
		else:
			rows = [
				(i.get("SellerSKU"), i.get("ASIN"), i.get("Title")) for i in record.get("OrderItems") or []
			]
		for sku, asin, title in rows:
			if sku and asin and sku not in found:
				found[sku] = Listing(sku, asin, title or "")
	return list(found.values())


def catalog_version(listing: Listing, marketplace_id: str) -> str:
	"""The version an Item described from the catalog is booked at: its ASIN in the marketplace read."""
	return f"{listing.asin}@{marketplace_id}"


def catalog_items_stream(
	api: AmazonApi,
	call: Call,
	marketplace_id: str,
	listings: Sequence[Listing],
	page_size: int = 20,
	booked_versions: Callable[[list[str]], Mapping[str, str]] | None = None,
) -> Stream:
	"""An Item for each listing, described from getCatalogItem (2022-04-01) in one marketplace.

	Cursor: the index of the next listing; None after the last, so each run looks at all of them.
	booked_versions(seller SKUs) gives the version each listing's Item was booked at: a listing whose
	Item was described from the catalog at its ASIN is not asked for again (one getCatalogItem per
	listing, not one per listing a run); an Item an order or the inventory made is described once.
	"""

	def listing_change(listing: Listing, booked: str | None) -> Change:
		version = catalog_version(listing, marketplace_id)
		if booked == version:
			return Change(listing.seller_sku, version=version, unchanged=True)
		record = {
			"sellerSku": listing.seller_sku,
			"asin": listing.asin,
			"title": listing.title,
			"marketplaceId": marketplace_id,
			"catalogItem": call(api.catalog_item, listing.asin, marketplace_id),
		}
		return Change(listing.seller_sku, record, version=version)

	def fetch(cursor: str | None) -> Page:
		start = int(cursor or 0)
		batch = listings[start : start + page_size]
		skus = [listing.seller_sku for listing in batch]
		booked = booked_versions(skus) if booked_versions and skus else {}
		changes = [listing_change(listing, booked.get(listing.seller_sku)) for listing in batch]
		end = start + len(batch)
		if end < len(listings):
			return Page(changes, str(end), has_more=True)
		return Page(changes, None)

	return Stream(entity=mapping.CATALOG_ITEMS, fetch=fetch, map=mapping.item)


def fba_inventory_stream(api: AmazonApi, marketplace_ids: Sequence[str]) -> Stream:
	"""FBA inventory summaries of each of these marketplaces (one per fulfilment network: see
	mapping.fba_networks), one Change a seller SKU and marketplace, the summary with its marketplaceId.

	Cursor: {"marketplace": index, "nextToken"} while paging; None after the last page of the last
	marketplace, so each run reconciles every SKU again.
	"""

	def fetch(cursor: str | None) -> Page:
		state = json.loads(cursor) if cursor else {"marketplace": 0}
		index = state["marketplace"]
		if index >= len(marketplace_ids):  # the marketplaces changed since the cursor was kept
			return Page([], None)
		marketplace_id = marketplace_ids[index]
		summaries, next_token = api.inventory_summaries(marketplace_id, state.get("nextToken"))
		changes = [
			Change(f"{marketplace_id}:{s.get('sellerSku') or ''}", {**s, "marketplaceId": marketplace_id})
			for s in summaries
		]
		if next_token:
			following = {"marketplace": index, "nextToken": next_token}
		elif index + 1 < len(marketplace_ids):
			following = {"marketplace": index + 1}
		else:
			return Page(changes, None)
		return Page(changes, json.dumps(following), has_more=True)

	return Stream(entity=mapping.FBA_INVENTORY, fetch=fetch, map=mapping.stock_reconciliation)
