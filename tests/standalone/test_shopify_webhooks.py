"""Shopify webhooks: signed by the emulator as Shopify signs them, checked by Kraal."""

import base64
import json

import pytest
import requests

from emulators.shopify import send_webhook, sign
from kraal_connect.connectors.shopify import webhooks
from kraal_connect.engine.errors import WebhookRejected
from tests.standalone.shopify_support import DOMAIN, SECRET

pytest_plugins = ["tests.standalone.shopify_fixtures"]

BODY = json.dumps({"id": 5002, "admin_graphql_api_id": "gid://shopify/Order/5002", "name": "#1002"}).encode()


def test_the_right_signature_is_accepted():
	webhooks.verify_hmac(BODY, sign(BODY, SECRET), SECRET)


def test_a_changed_body_is_rejected():
	with pytest.raises(WebhookRejected, match="does not match"):
		webhooks.verify_hmac(BODY.replace(b"#1002", b"#1003"), sign(BODY, SECRET), SECRET)


def test_another_secret_is_rejected():
	with pytest.raises(WebhookRejected, match="does not match"):
		webhooks.verify_hmac(BODY, sign(BODY, "someone-elses-secret"), SECRET)


@pytest.mark.parametrize(
	("header", "secret", "reason"),
	[
		(None, SECRET, "no X-Shopify-Hmac-Sha256 header"),
		("", SECRET, "no X-Shopify-Hmac-Sha256 header"),
		("not base64!", SECRET, "is not base64"),
		(base64.b64encode(b"short").decode(), SECRET, "does not match"),
		(sign(BODY, SECRET), "", "no webhook secret"),
	],
)
def test_missing_garbled_or_unverifiable_signatures_are_rejected(header, secret, reason):
	with pytest.raises(WebhookRejected, match=reason):
		webhooks.verify_hmac(BODY, header, secret)


def test_the_emulator_delivers_signed_webhooks_with_shopifys_headers(shopify, receiver):
	payload = {"id": 5003, "admin_graphql_api_id": "gid://shopify/Order/5003"}
	answer = requests.post(
		f"{shopify.emulator.url}/_emulator/webhook",
		json={"url": receiver.url, "topic": "orders/paid", "payload": payload},
		timeout=10,
	).json()
	assert answer["status"] == 200
	headers, body = receiver.received[0]
	assert json.loads(body) == payload
	assert webhooks.header(headers, "X-Shopify-Shop-Domain") == DOMAIN
	assert webhooks.header(headers, "X-Shopify-API-Version") == "2026-01"
	assert webhooks.webhook_id(headers) == answer["webhook_id"]
	work = webhooks.parse(body, headers, SECRET)
	assert work == webhooks.WebhookWork("orders/paid", "order", "gid://shopify/Order/5003")


def test_a_repeated_delivery_keeps_its_webhook_id(receiver):
	for _ in range(2):
		send_webhook(
			receiver.url, "orders/updated", {"id": 1}, SECRET, DOMAIN, webhook_id="b54557e4-bdd9-4b37"
		)
	assert [webhooks.webhook_id(h) for h, _ in receiver.received] == ["b54557e4-bdd9-4b37"] * 2


@pytest.mark.parametrize(
	("topic", "payload", "work"),
	[
		(
			"orders/cancelled",
			{"id": 5007, "admin_graphql_api_id": "gid://shopify/Order/5007"},
			("order", "gid://shopify/Order/5007", False),
		),
		(
			"refunds/create",
			{"id": 7001, "order_id": 5002, "admin_graphql_api_id": "gid://shopify/Refund/7001"},
			("order", "gid://shopify/Order/5002", False),
		),
		("products/delete", {"id": 8004}, ("product", "gid://shopify/Product/8004", True)),
		(
			"products/update",
			{"id": 8001, "admin_graphql_api_id": "gid://shopify/Product/8001"},
			("product", "gid://shopify/Product/8001", False),
		),
		(
			"inventory_levels/update",
			{"inventory_item_id": 48031, "location_id": 70002, "available": 11},
			("inventory_level", "gid://shopify/InventoryLevel/70002?inventory_item_id=48031", False),
		),
		(
			"customers/update",
			{"id": 9001, "admin_graphql_api_id": "gid://shopify/Customer/9001"},
			("customer", "gid://shopify/Customer/9001", False),
		),
		("app/uninstalled", {"myshopify_domain": DOMAIN}, (None, DOMAIN, False)),
	],
)
def test_each_topic_names_the_record_to_sync(topic, payload, work):
	assert webhooks.route(topic, payload) == webhooks.WebhookWork(topic, *work)


def test_unknown_topics_and_bodies_without_ids():
	assert webhooks.route("carts/create", {"id": 1}) is None
	with pytest.raises(WebhookRejected, match="no order_id"):
		webhooks.route("refunds/create", {"id": 7001})
	body = b"not json"
	with pytest.raises(WebhookRejected, match="not JSON"):
		webhooks.parse(
			body, {"x-shopify-hmac-sha256": sign(body, SECRET), "x-shopify-topic": "orders/create"}, SECRET
		)
