"""Amazon order items are asked for only when the order changed since the site booked it: getOrderItems is
allowed half a call a second, and an order's items cannot change without its LastUpdateDate moving."""

import json

import pytest

from kraal_connect.connectors.amazon import mapping
from kraal_connect.connectors.amazon.streams import booked_unchanged, orders_stream
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import sync_streams
from tests.standalone.amazon_support import MARKETPLACES, caller_for, context, make_api
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
