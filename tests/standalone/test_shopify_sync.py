"""The engine running every Shopify stream against the emulator, into an in-memory store."""

import json
from decimal import Decimal

from kraal_connect.connectors.shopify import mapping, streams
from kraal_connect.engine.records import Ref, external_type
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import apply_change, sync_streams
from tests.standalone.memory_store import MemoryStore
from tests.standalone.shopify_support import BROOKLYN, MAIN, context

pytest_plugins = ["tests.standalone.shopify_fixtures"]

CTX = context()


def all_streams(api):
	return [
		streams.products_stream(api),
		streams.customers_stream(api),
		streams.orders_stream(api),
		streams.inventory_stream(api, [MAIN, BROOKLYN]),
	]


def sync(api, store) -> RunStats:
	stats = RunStats()
	sync_streams(all_streams(api), store, ApiCaller(), CTX, stats)
	return stats


def refs(value):
	if isinstance(value, Ref):
		yield value
	elif isinstance(value, dict):
		for v in value.values():
			yield from refs(v)
	elif isinstance(value, list):
		for v in value:
			yield from refs(v)


def test_a_store_syncs_whole_and_a_second_run_books_nothing(shopify):
	store = MemoryStore()
	stats = sync(shopify.api, store)
	assert stats.status == "Success", stats.failures
	counts = {name: (c.fetched, c.created, c.skipped) for name, c in stats.counts.items()}
	# the deleted Vintage Cap was never written, so its deletion has nothing to undo, and the order
	# cancelled before it was ever booked books nothing either
	assert counts == {
		"product": (5, 4, 1),
		"customer": (3, 3, 0),
		"order": (7, 6, 1),
		"inventory_level": (13, 13, 0),
	}
	doctypes = [doc["doctype"] for doc in store.docs.values()]
	assert (
		doctypes.count("Sales Order"),
		doctypes.count("Delivery Note"),
		doctypes.count("Payment Entry"),
	) == (6, 5, 7)
	# every document another one refers to was written before it, as the site writer needs
	written = set()
	for key, doc in store.docs.items():
		for ref in refs(doc):
			assert (ref.external_type, ref.external_id) in written, f"{key} refers to {ref} before it exists"
		written.add(key)
	inserts = store.inserts
	again = sync(shopify.api, store)
	assert store.inserts == inserts
	assert all(c.created == c.updated == c.failed == 0 for c in again.counts.values())


def test_booked_sales_equal_shopifys_to_the_cent(shopify):
	store = MemoryStore()
	sync(shopify.api, store)
	for (kind, order_id), doc in store.docs.items():
		if kind != "order":
			continue
		record = shopify.api.order(order_id)
		assert mapping.erpnext_totals(doc, CTX) == mapping.shopify_totals(record), record["name"]
	invoices = [d for (kind, _), d in store.docs.items() if kind == "order:invoice"]
	booked = sum(mapping.erpnext_totals(d, CTX).total for d in invoices if d["currency"] == "USD")
	assert booked == Decimal("63.98") + Decimal("84.63") + Decimal("50.43") + Decimal("44.49")


def test_a_product_deleted_at_shopify_disables_its_items(own_shopify):
	store = MemoryStore()
	sync(own_shopify.api, store)
	socks = "gid://shopify/Product/8002"
	(own_shopify.data / "products/8002.json").unlink()
	event = json.loads((own_shopify.data / "events/990001.json").read_text())
	event.update(id="gid://shopify/BasicEvent/990002", subjectId=socks, createdAt="2026-11-03T09:00:00Z")
	(own_shopify.data / "events/990002.json").write_text(json.dumps(event))
	stats = sync(own_shopify.api, store)
	assert stats.counts["product"].cancelled == 1
	gone = {kind: doc["docstatus"] for (kind, eid), doc in store.docs.items() if eid == socks}
	assert gone == {
		"product": 2,
		"product:variant:18021": 2,
		"product:price:18021": 2,
		"product:variant:18022": 2,
		"product:price:18022": 2,
	}
	assert store.live("product:variant:18011")  # other products stay


def test_a_webhook_and_the_poll_never_book_an_order_twice(shopify):
	store = MemoryStore()
	for stream in all_streams(shopify.api)[:2]:
		sync_streams([stream], store, ApiCaller(), CTX, RunStats())
	orders = streams.orders_stream(shopify.api)
	stats = RunStats()
	webhook = streams.fetch_one(shopify.api, streams.ORDERS, "gid://shopify/Order/5002")
	apply_change(orders, webhook, store, CTX, stats)
	apply_change(orders, webhook, store, CTX, stats)  # Shopify delivered it twice
	assert (stats.counts["order"].created, stats.counts["order"].skipped) == (1, 1)
	polled = RunStats()
	sync_streams([orders], store, ApiCaller(), CTX, polled)
	assert (polled.counts["order"].created, polled.counts["order"].skipped) == (5, 2)
	assert len(store.live(external_type("order", "refund:7001"))) == 1
