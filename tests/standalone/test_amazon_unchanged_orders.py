"""Amazon order items are asked for only when the order changed since the site booked it: getOrderItems is
allowed half a call a second, and an order's items cannot change without its LastUpdateDate moving."""

import json

import pytest

from kraal_connect.connectors.amazon import mapping
from kraal_connect.connectors.amazon.streams import (
	Listing,
	booked_unchanged,
	catalog_items_stream,
	newest_reports,
	orders_stream,
	settlements_stream,
)
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import sync_streams
from tests.standalone.amazon_support import MARKETPLACES, US, caller_for, context, make_api
from tests.standalone.memory_store import MemoryStore

pytest_plugins = ("tests.standalone.amazon_fixtures",)

START = "2026-10-01T00:00:00Z"
ORDER = {"AmazonOrderId": "111-1", "OrderStatus": "Shipped", "LastUpdateDate": "2026-10-05T10:00:00Z"}


@pytest.mark.parametrize(
	("order", "booked", "unchanged"),
	[
		(ORDER, "2026-10-05T10:00:00Z", True),
		(ORDER, "2026-10-05T10:00:00+00:00", True),  # the same instant written another way
		(ORDER, "2026-10-06T08:00:00Z", True),  # booked from a newer read already
		(ORDER, "2026-10-04T23:59:59Z", False),  # changed since
		(ORDER, None, False),  # never booked
		(ORDER, "deleted", False),  # a removed order's mark: read it whole
		({**ORDER, "OrderStatus": "Canceled"}, "2026-10-05T10:00:00Z", False),  # a removal is told
		({**ORDER, "LastUpdateDate": None}, "2026-10-05T10:00:00Z", False),
	],
)
def test_whether_an_order_is_at_the_version_the_site_booked(order, booked, unchanged):
	assert booked_unchanged(order, booked) is unchanged


def booked_in(store: MemoryStore):
	def versions(order_ids: list[str]) -> dict[str, str]:
		return {
			oid: store.versions[(mapping.ORDERS, oid)]
			for oid in order_ids
			if (mapping.ORDERS, oid) in store.versions
		}

	return versions


def item_calls(emulator) -> int:
	return sum(1 for r in emulator.requests if r["path"].endswith("/orderItems"))


def sync(stream, store, caller) -> RunStats:
	stats = RunStats()
	sync_streams([stream], store, caller, context(), stats)
	return stats


def test_a_re_read_of_booked_orders_asks_for_no_items_and_a_changed_one_for_its_own(
	private_amazon_emulator, amazon_data
):
	api, caller, store = make_api(private_amazon_emulator), caller_for(private_amazon_emulator), MemoryStore()
	stream = orders_stream(api, caller, MARKETPLACES, START, booked_versions=booked_in(store))
	first = sync(stream, store, caller)
	booked = first.counts[mapping.ORDERS].created
	# five orders booked, each its items asked for; the pending and the cancelled one have none to ask
	assert (booked, item_calls(private_amazon_emulator)) == (5, 5)
	private_amazon_emulator.requests.clear()
	inserts = store.inserts

	# the whole history read again (a Sync From moved back): every order is where the site has it
	store.cursors.pop(mapping.ORDERS)
	again = sync(stream, store, caller)
	assert item_calls(private_amazon_emulator) == 0
	assert (again.counts[mapping.ORDERS].fetched, again.counts[mapping.ORDERS].skipped) == (7, 7)
	assert store.inserts == inserts

	# one order changes at Amazon: its items, and only its, are asked for again
	path = amazon_data / "orders/0001.json"
	page = json.loads(path.read_text())
	changed = page["payload"]["Orders"][0]
	changed["LastUpdateDate"] = "2026-10-20T09:00:00Z"
	path.write_text(json.dumps(page))
	private_amazon_emulator.requests.clear()
	store.cursors.pop(mapping.ORDERS)
	sync(stream, store, caller)
	calls = [r["path"] for r in private_amazon_emulator.requests if r["path"].endswith("/orderItems")]
	assert calls == [f"/orders/v0/orders/{changed['AmazonOrderId']}/orderItems"]


def test_a_settlement_report_is_downloaded_once(amazon_api, amazon_emulator):
	caller, store = caller_for(amazon_emulator), MemoryStore()
	stream = settlements_stream(amazon_api, caller, MARKETPLACES)
	sync(stream, store, caller)
	assert len(store.live(mapping.SETTLEMENTS)) == 2
	amazon_emulator.requests.clear()
	again = sync(stream, store, caller)
	# the newest report comes again (createdSince is inclusive) and is not downloaded again
	assert [r["path"] for r in amazon_emulator.requests] == ["/reports/2021-06-30/reports"]
	assert again.counts[mapping.SETTLEMENTS].fetched == 0


def test_the_mark_a_pass_of_settlement_reports_leaves():
	first = [
		{"reportId": "2", "createdTime": "2026-10-17T10:24:05Z"},
		{"reportId": "1", "createdTime": "2026-10-03T08:00:00Z"},
	]
	assert newest_reports({}, first) == ("2026-10-17T10:24:05Z", ["2"])
	assert newest_reports({}, []) == (None, [])
	mark = {"createdSince": "2026-10-17T10:24:05Z", "read": ["2"]}
	# the report at the mark comes again with one created at the same second
	assert newest_reports(mark, [{"reportId": "3", "createdTime": "2026-10-17T10:24:05Z"}]) == (
		"2026-10-17T10:24:05Z",
		["2", "3"],
	)
	assert newest_reports(mark, []) == ("2026-10-17T10:24:05Z", ["2"])
	later = [{"reportId": "4", "createdTime": "2026-10-31T09:00:00Z"}]
	assert newest_reports(mark, later) == ("2026-10-31T09:00:00Z", ["4"])
	# while paging, the newest seen on earlier pages is carried
	paging = {"createdSince": None, "newest": "2026-10-31T09:00:00Z", "newest_ids": ["4"]}
	assert newest_reports(paging, first) == ("2026-10-31T09:00:00Z", ["4"])


def test_a_listing_is_described_from_the_catalog_once(amazon_api, amazon_emulator):
	caller, store = caller_for(amazon_emulator), MemoryStore()
	listings = [Listing("KR-MUG-001", "B0KRAAL001"), Listing("KR-TOTE-002", "B0KRAAL002")]

	def booked(skus):
		return {
			s: store.versions[(mapping.CATALOG_ITEMS, s)]
			for s in skus
			if (mapping.CATALOG_ITEMS, s) in store.versions
		}

	stream = catalog_items_stream(amazon_api, caller, US, listings, booked_versions=booked)
	sync(stream, store, caller)
	assert len(store.live(mapping.CATALOG_ITEMS)) == 2
	amazon_emulator.requests.clear()
	# a listing whose SKU now names another ASIN is described again; the other is not asked for
	listings[1] = Listing("KR-TOTE-002", "B0KRAAL004")
	again = sync(stream, store, caller)
	# (one path: a call the rate limit refused is asked again)
	assert {r["path"] for r in amazon_emulator.requests} == {"/catalog/2022-04-01/items/B0KRAAL004"}
	assert (again.counts[mapping.CATALOG_ITEMS].skipped, again.counts[mapping.CATALOG_ITEMS].updated) == (
		1,
		1,
	)
