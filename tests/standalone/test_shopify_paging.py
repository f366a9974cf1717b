"""Shopify products and orders come in pages as large as Shopify's 1000-point query cost allows; a record
whose nested lists a page cut short is read again alone, whole."""

import json

import pytest
from graphql import OperationDefinitionNode, parse

from emulators.shopify import MAX_QUERY_COST, QueryCost, build_shopify_schema
from kraal_connect.connectors.shopify import queries, streams
from tests.standalone.shopify_support import BROOKLYN, MAIN

pytest_plugins = ["tests.standalone.shopify_fixtures"]

SCHEMA = build_shopify_schema()


def requested_cost(document: str, first: int | None = None) -> int:
	"""What Shopify charges before running the query (the emulator computes it as Shopify does)."""
	parsed = parse(document)
	operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
	return QueryCost(SCHEMA, parsed, {"first": first}).operation(operation)


def drain(stream, cursor=None):
	changes, pages = [], 0
	while True:
		page = stream.fetch(cursor)
		pages, changes, cursor = pages + 1, changes + list(page.changes), page.next_cursor
		if not page.has_more:
			return changes, pages


def operations(store) -> list[str]:
	return [r.get("operation") for r in store.emulator.requests]


@pytest.mark.parametrize(
	("document", "page"),
	[(queries.ORDERS, streams.ORDER_PAGE), (queries.PRODUCTS, streams.PRODUCT_PAGE)],
	ids=["orders", "products"],
)
def test_a_page_asks_for_as_many_records_as_the_cost_limit_allows(document, page):
	assert requested_cost(document, page) <= MAX_QUERY_COST < requested_cost(document, page + 1)
	assert page > 1


def test_one_record_read_alone_has_room_for_many_more_rows_and_still_fits():
	assert requested_cost(queries.ORDER) <= MAX_QUERY_COST
	assert requested_cost(queries.PRODUCT) <= MAX_QUERY_COST
	assert queries.FULL.line_items > queries.PAGED.line_items
	assert queries.FULL.variants > queries.PAGED.variants


def test_the_cost_is_sized_by_first_through_every_nested_connection():
	# products(first: n): 2 + n x (the product 1 + variants: 2 + 10 x (variant 1 + selectedOptions 1 +
	# inventoryItem 1 + unitCost 1 + measurement 1 + weight 1) + options 1)
	per_product = 1 + (2 + queries.PAGED.variants * 6) + 1
	assert requested_cost(queries.PRODUCTS, 3) == 2 + 3 * per_product


def test_orders_come_six_to_a_request(shopify):
	changes, pages = drain(streams.orders_stream(shopify.api))
	assert len(changes) == 7
	assert pages == 2  # 6 + 1
	assert operations(shopify) == ["Orders", "Orders"]
	assert [c.record["name"] for c in changes] == [
		"#1001",
		"#1003",
		"#1004",
		"#1002",
		"#1005",
		"#1006",
		"#1007",
	]


def test_products_come_fifteen_to_a_request(shopify):
	changes, pages = drain(streams.products_stream(shopify.api))
	assert [c.deleted for c in changes] == [False] * 4 + [True]
	assert operations(shopify) == ["Products", "ProductDeletions"]
	assert pages == 2


def test_an_order_a_page_cut_short_is_read_again_alone_and_whole(own_shopify):
	path = own_shopify.data / "orders/5001.json"
	order = json.loads(path.read_text())
	line = order["lineItems"]["nodes"][0]
	order["lineItems"]["nodes"] = [
		{**line, "id": f"gid://shopify/LineItem/77{i}", "quantity": 1}
		for i in range(queries.PAGED.line_items + 2)
	]
	path.write_text(json.dumps(order))

	changes, _ = drain(streams.orders_stream(own_shopify.api))
	record = next(c.record for c in changes if c.external_id == order["id"])
	assert len(record["lineItems"]["nodes"]) == queries.PAGED.line_items + 2
	assert not record["lineItems"]["pageInfo"]["hasNextPage"]
	assert operations(own_shopify) == ["Orders", "Order", "Orders"]  # only the long one again


def test_what_a_page_may_have_cut_short():
	n = queries.PAGED
	whole = {
		"lineItems": {"pageInfo": {"hasNextPage": False}, "nodes": []},
		"shippingLines": {"pageInfo": {"hasNextPage": False}, "nodes": []},
		"discountApplications": {"pageInfo": {"hasNextPage": False}, "nodes": []},
		"transactions": [{}] * (n.transactions - 1),
		"refunds": [
			{
				"refundLineItems": {"pageInfo": {"hasNextPage": False}},
				"refundShippingLines": {"pageInfo": {"hasNextPage": False}},
				"transactions": {"pageInfo": {"hasNextPage": False}},
			}
		],
		"fulfillments": [{"fulfillmentLineItems": {"pageInfo": {"hasNextPage": False}}}],
	}
	assert not queries.order_cut_short(whole)
	more = {"pageInfo": {"hasNextPage": True}}
	assert queries.order_cut_short({**whole, "lineItems": more})
	assert queries.order_cut_short({**whole, "discountApplications": more})
	# a plain list as long as asked for may have had more
	assert queries.order_cut_short({**whole, "transactions": [{}] * n.transactions})
	assert queries.order_cut_short({**whole, "refunds": whole["refunds"] * n.refunds})
	assert queries.order_cut_short({**whole, "refunds": [{**whole["refunds"][0], "transactions": more}]})
	assert queries.order_cut_short({**whole, "fulfillments": [{"fulfillmentLineItems": more}]})
	assert queries.product_cut_short({"variants": more})
	assert not queries.product_cut_short({"variants": {"pageInfo": {"hasNextPage": False}}})


def test_a_run_sets_up_from_one_call_for_the_store_and_its_locations(shopify):
	shop, locations = shopify.api.shop_and_locations()
	assert shop["currencyCode"] == "USD"
	assert {loc["id"] for loc in locations} >= {MAIN, BROOKLYN}
	assert operations(shopify) == ["ShopAndLocations"]
	assert requested_cost(queries.SHOP_AND_LOCATIONS, 250) <= MAX_QUERY_COST


def test_an_interface_costs_the_most_any_of_its_types_costs():
	# the list's object 1, then the dearer of a variant (its inventory item: 1) or an order (2)
	query = (
		"query Mixed($ids: [ID!]!) { nodes(ids: $ids) { id"
		" ... on ProductVariant { inventoryItem { id } }"
		" ... on Order { customer { id } billingAddress { name } } } }"
	)
	parsed = parse(query)
	operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
	assert QueryCost(SCHEMA, parsed, {"ids": ["x"]}).operation(operation) == 1 + 2
