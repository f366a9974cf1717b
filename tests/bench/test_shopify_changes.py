"""Changes at Shopify after a first sync: a deleted product, a record that cannot be booked."""

import json

import frappe

from kraal_connect.engine.runner import run_integration
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.shopify_helpers"]


def test_a_product_deleted_at_shopify_disables_its_items_and_a_bad_order_fails_alone(
	connected, shopify_store
):
	integration = connected()
	run_integration(integration, "Manual")
	(shopify_store.data / "products/8002.json").unlink()
	event = shopify_store.load("events", "990001")
	event.update(
		id="gid://shopify/BasicEvent/990002",
		subjectId="gid://shopify/Product/8002",
		createdAt="2026-11-03T09:00:00Z",
	)
	shopify_store.save("events", "990002", event)
	order = shopify_store.load("orders", "5006")
	order["lineItems"]["nodes"][0]["originalUnitPriceSet"]["presentmentMoney"]["amount"] = "12,50"
	order["updatedAt"] = "2026-11-04T10:00:00Z"
	shopify_store.save("orders", "5006", order)
	run_integration(integration, "Manual")

	log = latest_log(integration)
	assert log.status == "Partial"
	assert [(f.entity, f.external_id) for f in log.failures] == [("order", "gid://shopify/Order/5006")]
	assert (
		"field 'originalUnitPriceSet.presentmentMoney.amount' is not a number: '12,50'"
		in log.failures[0].message
	)
	assert counts(log)["product"][3] == 1  # the socks' record is cancelled
	disabled = frappe.get_all(
		"Item", filters={"item_code": ("in", ["SHOPIFY-P8002", "SOCK-M", "SHOPIFY-V18022"])}, pluck="disabled"
	)
	assert disabled == [1, 1, 1]
	assert frappe.db.get_value("Item", "TEE-S-BLK", "disabled") == 0
	assert json.loads(
		frappe.db.get_value("Kraal Integration Entity", {"parent": integration, "entity": "order"}, "cursor")
	)
