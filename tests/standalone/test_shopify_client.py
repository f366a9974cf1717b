"""ShopifyAPI's own Session and GraphQL client, over real HTTP, against the local Shopify emulator."""

import json

import pytest

from kraal_connect.connectors.shopify import streams
from kraal_connect.connectors.shopify.client import WEBHOOK_TOPICS, ShopifyApi, batches
from kraal_connect.engine.errors import AuthenticationError, SyncError, TransientError
from kraal_connect.engine.retry import ApiCaller, RetryPolicy
from tests.standalone.shopify_support import (
	BROOKLYN,
	DOMAIN,
	MAIN,
	TOKEN,
)

pytest_plugins = ["tests.standalone.shopify_fixtures"]


def graphql_calls(store) -> int:
	return sum(1 for r in store.emulator.requests if r["path"].endswith("/graphql.json"))


def drain(stream, cursor=None):
	"""Every page of a stream from cursor: (changes, pages, last cursor)."""
	changes, pages = [], 0
	while True:
		page = stream.fetch(cursor)
		pages += 1
		changes += page.changes
		cursor = page.next_cursor
		if not page.has_more:
			return changes, pages, cursor


def test_shop_name_and_currency_for_test_connection(shopify):
	shop = shopify.api.shop()
	assert (shop["name"], shop["currencyCode"], shop["ianaTimezone"]) == (
		"Kraal Outfitters",
		"USD",
		"America/New_York",
	)
	assert shopify.emulator.requests == [
		{"method": "POST", "path": "/admin/api/2026-01/graphql.json", "operation": "Shop"}
	]


def test_the_store_domain_is_normalised_and_checked():
	assert ShopifyApi("https://kraal-outfitters.myshopify.com/admin", TOKEN).shop_domain == DOMAIN
	with pytest.raises(ValueError):
		ShopifyApi("   ", TOKEN)


def test_products_page_one_by_one_then_their_deletions(shopify):
	changes, pages, cursor = drain(streams.products_stream(shopify.api, page_size=1))
	assert [(c.external_id.rsplit("/", 1)[1], c.deleted) for c in changes] == [
		("8002", False),
		("8003", False),
		("8001", False),
		("8005", False),
		("8004", True),
	]
	assert pages == 5
	assert changes[0].version == "2026-09-20T08:00:00Z"
	assert json.loads(cursor) == {
		"phase": "products",
		"passes": {
			"products": {"since": "2026-10-21T08:00:00Z"},
			"deletions": {"since": "2026-10-20T12:00:00Z"},
		},
	}
	# the next run asks only from the marks on: the newest product and the deletion come again (>=)
	again, _, _ = drain(streams.products_stream(shopify.api, page_size=1), cursor)
	assert [c.external_id for c in again] == ["gid://shopify/Product/8005", "gid://shopify/Product/8004"]


def test_orders_resume_mid_way_from_the_cursor(shopify):
	first, seen, cursor = streams.orders_stream(shopify.api, page_size=1), [], None
	for _ in range(3):
		page = first.fetch(cursor)
		seen += [c.record["name"] for c in page.changes]
		cursor = page.next_cursor
	assert page.has_more
	assert seen == ["#1001", "#1003", "#1004"]  # in updated_at order
	rest, pages, _ = drain(streams.orders_stream(shopify.api, page_size=1), cursor)
	assert [c.record["name"] for c in rest] == ["#1002", "#1005", "#1006", "#1007"]
	assert pages == 4
	assert {c.version for c in rest} == {c.record["updatedAt"] for c in rest}


def test_orders_updated_after_the_mark_are_read_again(own_shopify):
	_, _, cursor = drain(streams.orders_stream(own_shopify.api))
	path = own_shopify.data / "orders/5003.json"
	order = json.loads(path.read_text())
	order["updatedAt"] = "2026-11-02T08:00:00Z"
	path.write_text(json.dumps(order))
	changes, _, _ = drain(streams.orders_stream(own_shopify.api), cursor)
	assert [(c.record["name"], c.version) for c in changes] == [
		("#1007", "2026-10-18T15:00:03Z"),
		("#1003", "2026-11-02T08:00:00Z"),
	]


def test_customers_and_inventory_levels_per_location(shopify):
	customers, _, _ = drain(streams.customers_stream(shopify.api, page_size=2))
	assert [c.record["displayName"] for c in customers] == ["Bob Okafor", "Alice Nguyen", "Chloé Martin"]
	levels, pages, cursor = drain(streams.inventory_stream(shopify.api, [MAIN, BROOKLYN], page_size=5))
	assert pages == 2 + 1
	assert len(levels) == 13
	assert {c.record["location"]["id"] for c in levels[:8]} == {MAIN}
	assert all(c.external_id == f"{c.record['id']}@{c.record['updatedAt']}" for c in levels)
	assert set(json.loads(cursor)["passes"]) == {MAIN, BROOKLYN}


def test_a_location_shopify_does_not_have_is_an_error(shopify):
	with pytest.raises(SyncError, match=r"Shopify has no location gid://shopify/Location/1$"):
		shopify.api.inventory_levels("gid://shopify/Location/1", None, None, 10)


@pytest.mark.parametrize(("available", "wait"), [(0, 962 / 50), (400, (962 - 400) / 50)])
def test_throttled_queries_wait_exactly_until_the_bucket_holds_their_cost(shopify, available, wait):
	"""A page of six orders asks for 962 points; the bucket restores 50 a second."""
	shopify.emulator.throttle(available=available, restore_rate=50)
	slept = []

	def sleep(seconds):
		slept.append(seconds)
		shopify.clock.advance(seconds)

	caller = ApiCaller(sleep=sleep)
	page = caller(shopify.api.orders, None, None, 6)
	assert [o["name"] for o in page.nodes][:2] == ["#1001", "#1003"]
	assert slept == [wait]
	assert caller.calls == 2
	assert graphql_calls(shopify) == 2


def test_an_empty_bucket_is_a_transient_error_with_the_refill_time(shopify):
	shopify.emulator.throttle(available=0, restore_rate=100)
	with pytest.raises(TransientError) as raised:
		shopify.api.shop()
	assert raised.value.retry_after == 1 / 100


def test_a_wrong_token_needs_a_person_and_is_not_retried(shopify):
	api = ShopifyApi(DOMAIN, "shpat_revoked", base_url=shopify.emulator.url, timeout=10)
	caller = ApiCaller(sleep=lambda s: pytest.fail("an authentication error must not be retried"))
	with pytest.raises(AuthenticationError, match="HTTP 401"):
		caller(api.shop)
	assert caller.calls == 1


def test_server_errors_and_429_honour_retry_after(shopify):
	path = "/admin/api/2026-01/graphql.json"
	shopify.emulator.add_fault(path=path, status=503, body="upstream", headers={"Retry-After": "7"})
	shopify.emulator.add_fault(
		path=path, status=429, body={"errors": "Exceeded"}, headers={"Retry-After": "2.5"}
	)
	shopify.emulator.add_fault(path=path, status=502, body="bad gateway")
	slept = []
	caller = ApiCaller(RetryPolicy(base_delay=0.01), sleep=slept.append, rng=lambda: 0.0)
	assert caller(shopify.api.shop)["name"] == "Kraal Outfitters"
	assert slept == [7.0, 2.5, 0.02]
	assert graphql_calls(shopify) == 4


def test_other_client_errors_are_plain_errors(shopify):
	shopify.emulator.add_fault(
		path="/admin/api/2026-01/graphql.json", status=404, body={"errors": "Not Found"}
	)
	with pytest.raises(SyncError, match="version 2026-01") as raised:
		shopify.api.shop()
	assert not isinstance(raised.value, TransientError | AuthenticationError)


def test_an_unreachable_store_is_transient(shopify):
	api = ShopifyApi(DOMAIN, TOKEN, base_url="http://127.0.0.1:9", timeout=2)
	caller = ApiCaller(RetryPolicy(max_attempts=2), sleep=lambda s: None)
	with pytest.raises(TransientError, match="network"):
		caller(api.shop)
	assert caller.calls == 2


def test_a_query_over_the_cost_limit_is_not_retried(shopify):
	with pytest.raises(SyncError, match="exceeds the single query max cost") as raised:
		shopify.api.execute("{ orders(first: 50) { nodes { lineItems(first: 50) { nodes { id } } } } }")
	assert not isinstance(raised.value, TransientError)


def test_inventory_is_pushed_in_batches_and_user_errors_name_the_field(shopify):
	items = [f"gid://shopify/InventoryItem/{n}" for n in (48011, 48012, 48013, 48014, 48021, 48022, 48031)]
	quantities = [
		{"inventoryItemId": item, "locationId": MAIN, "quantity": 7 + i} for i, item in enumerate(items)
	]
	groups = [shopify.api.set_quantities(batch) for batch in batches(quantities, size=3)]
	assert len(groups) == 3
	assert graphql_calls(shopify) == 3
	levels, _, _ = drain(streams.inventory_stream(shopify.api, [MAIN]))
	available = {
		c.record["item"]["id"]: {q["name"]: q["quantity"] for q in c.record["quantities"]}["available"]
		for c in levels
	}
	assert [available[item] for item in items] == [7, 8, 9, 10, 11, 12, 13]
	with pytest.raises(SyncError) as raised:
		shopify.api.set_quantities([{"inventoryItemId": items[4], "locationId": BROOKLYN, "quantity": 1}])
	assert str(raised.value) == (
		"Shopify rejected inventorySetQuantities: input.quantities.0.locationId: "
		"The item is not stocked at the location. (ITEM_NOT_STOCKED_AT_LOCATION)"
	)


def test_webhooks_are_subscribed_once_and_removed(shopify):
	uri = "https://erp.example.com/api/method/kraal_connect.connectors.shopify.hooks.receive"
	created = shopify.api.subscribe_webhooks(uri)
	assert sorted(s["topic"] for s in created) == sorted(t.replace("/", "_").upper() for t in WEBHOOK_TOPICS)
	assert shopify.api.subscribe_webhooks(uri) == []
	assert shopify.api.subscribe_webhooks("https://other.example.com/hook", ["app/uninstalled"])
	assert sorted(shopify.api.unsubscribe_webhooks(uri)) == sorted(s["id"] for s in created)
	assert [s["uri"] for s in shopify.api.webhook_subscriptions()] == ["https://other.example.com/hook"]


def test_webhook_addresses_shopify_refuses_name_the_field(shopify):
	with pytest.raises(
		SyncError, match=r"webhookSubscriptionCreate orders/create: webhookSubscription\.uri: "
	):
		shopify.api.subscribe_webhooks("http://erp.example.com/hook")


def test_one_record_for_a_webhook(shopify):
	order = streams.fetch_one(shopify.api, streams.ORDERS, "gid://shopify/Order/5002")
	assert (order.record["name"], order.version) == ("#1002", "2026-10-10T16:00:05Z")
	gone = streams.fetch_one(shopify.api, streams.PRODUCTS, "gid://shopify/Product/8004")
	assert (gone.external_id, gone.deleted) == ("gid://shopify/Product/8004", True)
	assert streams.fetch_one(shopify.api, streams.CUSTOMERS, "gid://shopify/Customer/1") is None
	level_id = "gid://shopify/InventoryLevel/70002?inventory_item_id=48031"
	level = streams.fetch_one(shopify.api, streams.INVENTORY, level_id)
	assert level.external_id.startswith(level_id + "@")


def test_variant_inventory_items_for_the_push(shopify):
	variants = ["gid://shopify/ProductVariant/18011", "gid://shopify/ProductVariant/18031"]
	assert shopify.api.inventory_item_ids(variants) == {
		variants[0]: "gid://shopify/InventoryItem/48011",
		variants[1]: "gid://shopify/InventoryItem/48031",
	}
