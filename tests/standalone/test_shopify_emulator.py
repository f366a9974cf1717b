"""The Shopify emulator as a GraphQL server, spoken to over raw HTTP the way Shopify is."""

import json

import requests

from tests.standalone.shopify_support import BROOKLYN, TOKEN

pytest_plugins = ["tests.standalone.shopify_fixtures"]


def post(store, query, variables=None, token=TOKEN, version="2026-01"):
	return requests.post(
		f"{store.emulator.url}/admin/api/{version}/graphql.json",
		json={"query": query, "variables": variables},
		headers={"X-Shopify-Access-Token": token} if token else {},
		timeout=10,
	)


def test_a_field_shopify_does_not_have_is_a_graphql_error(shopify):
	response = post(shopify, "{ shop { name ordersCount } }")
	assert response.status_code == 200
	body = response.json()
	assert "data" not in body
	assert body["errors"][0]["message"] == "Field 'ordersCount' doesn't exist on type 'Shop'"
	assert body["errors"][0]["extensions"] == {
		"code": "undefinedField",
		"typeName": "Shop",
		"fieldName": "ordersCount",
	}


def test_syntax_errors_and_bad_variables_are_graphql_errors(shopify):
	assert "Syntax Error" in post(shopify, "{ shop { name ").json()["errors"][0]["message"]
	body = post(shopify, "query($id: ID!) { order(id: $id) { name } }", {"id": None}).json()
	assert body["data"] is None
	assert "$id" in body["errors"][0]["message"]


def test_the_access_token_must_match_the_dataset(shopify):
	assert post(shopify, "{ shop { name } }", token="shpat_wrong").status_code == 401
	assert post(shopify, "{ shop { name } }", token=None).status_code == 401


def test_every_answer_carries_the_query_cost(shopify):
	body = post(shopify, "{ products(first: 5) { nodes { id title } } }").json()
	assert len(body["data"]["products"]["nodes"]) == 4
	# a connection costs 2 plus 5 requested (4 returned) nodes of 1; the clock stands still
	assert body["extensions"]["cost"] == {
		"requestedQueryCost": 7,
		"actualQueryCost": 6,
		"throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1994.0, "restoreRate": 100.0},
	}


def test_an_empty_bucket_is_throttled_with_http_200_until_it_refills(shopify):
	shopify.emulator.throttle(available=3, restore_rate=50)
	response = post(shopify, "{ products(first: 5) { nodes { id } } }")
	assert response.status_code == 200
	body = response.json()
	assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
	assert "data" not in body
	assert body["extensions"]["cost"]["actualQueryCost"] is None
	assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 3.0
	shopify.clock.advance(4 / 50)
	assert post(shopify, "{ products(first: 5) { nodes { id } } }").json()["data"]


def test_a_query_over_1000_points_is_refused(shopify):
	body = post(shopify, "{ products(first: 20) { nodes { variants(first: 100) { nodes { id } } } } }").json()
	assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
	assert body["errors"][0]["extensions"]["cost"] == 2 + 20 * (1 + 2 + 100)


def test_connections_need_a_page_size(shopify):
	body = post(shopify, "{ orders { nodes { id } } }").json()
	assert body["errors"][0]["message"] == "you must provide one of first or last"


def test_cursor_paging_with_an_updated_at_filter(shopify):
	query = """query($after: String) {
		products(first: 1, after: $after, sortKey: UPDATED_AT, query: "updated_at:>='2026-09-21T00:00:00Z'") {
			pageInfo { hasNextPage endCursor }
			edges { cursor node { title updatedAt } }
		}
	}"""
	titles, after = [], None
	while True:
		page = post(shopify, query, {"after": after}).json()["data"]["products"]
		titles += [e["node"]["title"] for e in page["edges"]]
		after = page["pageInfo"]["endCursor"]
		if not page["pageInfo"]["hasNextPage"]:
			break
	# Wool Socks (updated 2026-09-20) is older than the mark; the rest in updated_at order
	assert titles == ["Canvas Tote", "Classic Tee", "Rain Jacket"]


def test_unknown_search_fields_are_ignored_with_a_warning(shopify):
	body = post(shopify, '{ orders(first: 10, query: "colour:red") { nodes { name } } }').json()
	assert len(body["data"]["orders"]["nodes"]) == 7
	assert body["extensions"]["search"][0]["warnings"] == [
		{"field": "colour", "message": "Invalid search field for this query."}
	]


def test_a_deleted_products_lines_have_no_variant(shopify):
	query = """{ order(id: "gid://shopify/Order/5001") {
		lineItems(first: 5) { nodes { title sku variant { id } product { id title } } }
	} }"""
	lines = post(shopify, query).json()["data"]["order"]["lineItems"]["nodes"]
	assert lines[0] == {"title": "Vintage Cap", "sku": "CAP-VIN", "variant": None, "product": None}
	assert lines[1]["product"] == {"id": "gid://shopify/Product/8001", "title": "Classic Tee"}


def test_discount_allocations_resolve_to_their_application(shopify):
	query = """{ order(id: "gid://shopify/Order/5003") { lineItems(first: 5) { nodes {
		discountAllocations { allocatedAmountSet { presentmentMoney { amount } }
			discountApplication { __typename ... on DiscountCodeApplication { code }
				... on AutomaticDiscountApplication { title } } }
	} } } }"""
	socks = post(shopify, query).json()["data"]["order"]["lineItems"]["nodes"][0]
	assert [
		(
			a["allocatedAmountSet"]["presentmentMoney"]["amount"],
			a["discountApplication"].get("code") or a["discountApplication"]["title"],
		)
		for a in socks["discountAllocations"]
	] == [("3.00", "Socks $3 off"), ("2.20", "WELCOME10")]


def test_set_quantities_changes_the_level_until_reset(shopify):
	mutation = """mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) {
		inventoryAdjustmentGroup { changes { name delta quantityAfterChange } } userErrors { code field message } } }"""
	item = "gid://shopify/InventoryItem/48031"
	payload = post(
		shopify,
		mutation,
		{
			"input": {
				"name": "available",
				"reason": "correction",
				"quantities": [
					{
						"inventoryItemId": item,
						"locationId": BROOKLYN,
						"quantity": 9,
						"changeFromQuantity": None,
					}
				],
			}
		},
	).json()["data"]["inventorySetQuantities"]
	assert payload["userErrors"] == []
	assert payload["inventoryAdjustmentGroup"]["changes"] == [
		{"name": "available", "delta": -3, "quantityAfterChange": 9},
		{"name": "on_hand", "delta": -3, "quantityAfterChange": 9},
	]
	level = f'{{ location(id: "{BROOKLYN}") {{ inventoryLevel(inventoryItemId: "{item}") {{ quantities(names: ["available"]) {{ quantity }} }} }} }}'
	assert post(shopify, level).json()["data"]["location"]["inventoryLevel"]["quantities"] == [
		{"quantity": 9}
	]
	requests.post(f"{shopify.emulator.url}/_emulator/reset", timeout=10)
	assert post(shopify, level).json()["data"]["location"]["inventoryLevel"]["quantities"] == [
		{"quantity": 12}
	]


def test_the_dataset_is_read_on_every_request(own_shopify):
	order = json.loads((own_shopify.data / "orders/5006.json").read_text())
	order.update(id="gid://shopify/Order/5008", name="#1008", updatedAt="2026-11-01T10:00:00Z")
	(own_shopify.data / "orders/5008.json").write_text(json.dumps(order))
	body = post(
		own_shopify, '{ orders(first: 5, query: "updated_at:>2026-10-31") { nodes { name } } }'
	).json()
	assert body["data"]["orders"]["nodes"] == [{"name": "#1008"}]
