"""Shopify webhooks: signed by the emulator as Shopify signs them, checked by Kraal."""

import base64
import json

import pytest
import requests

from emulators.shopify import send_webhook, sign
from kraal_connect.connectors.shopify import webhooks
from kraal_connect.engine.errors import WebhookRejected
from kraal_connect.engine.webhook_intake import MalformedWebhook, hmac_signers
from tests.standalone.shopify_support import DOMAIN, SECRET

pytest_plugins = ["tests.standalone.shopify_fixtures"]

BODY = json.dumps({"id": 5002, "admin_graphql_api_id": "gid://shopify/Order/5002", "name": "#1002"}).encode()


def verify(body: bytes, header: str | None, secrets: dict[str, str]) -> list[str]:
	"""The endpoint's order: the header decoded before any secret is read, then the secrets tried."""
	headers = {} if header is None else {"x-shopify-hmac-sha256": header}
	return hmac_signers(body, webhooks.signature(headers), secrets)


def test_the_right_signature_is_accepted():
	assert verify(BODY, sign(BODY, SECRET), {"Shop 1": SECRET, "Shop 2": "another-app"}) == ["Shop 1"]


def test_a_changed_body_is_rejected():
	with pytest.raises(WebhookRejected, match="does not match"):
		verify(BODY.replace(b"#1002", b"#1003"), sign(BODY, SECRET), {"Shop 1": SECRET})


def test_another_secret_is_rejected():
	with pytest.raises(WebhookRejected, match="does not match"):
		verify(BODY, sign(BODY, "someone-elses-secret"), {"Shop 1": SECRET})


@pytest.mark.parametrize(
	("header", "secret", "reason"),
	[
		(None, SECRET, "no X-Shopify-Hmac-Sha256 header"),
		("", SECRET, "no X-Shopify-Hmac-Sha256 header"),
		("not base64!", SECRET, "is not base64"),
		(base64.b64encode(b"short").decode(), SECRET, "does not match"),
		(sign(BODY, SECRET), "", "does not match"),  # no webhook secret set
	],
)
def test_missing_garbled_or_unverifiable_signatures_are_rejected(header, secret, reason):
	with pytest.raises(WebhookRejected, match=reason):
		verify(BODY, header, {"Shop 1": secret})


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
	assert verify(body, webhooks.header(headers, "X-Shopify-Hmac-Sha256"), {"Shop 1": SECRET}) == ["Shop 1"]
	work = webhooks.read(body, headers)
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
	with pytest.raises(MalformedWebhook, match="no order_id"):
		webhooks.route("refunds/create", {"id": 7001})
	headers = {"x-shopify-topic": "orders/create", "x-shopify-shop-domain": DOMAIN}
	for body, reason in ((b"not json", "not JSON"), (b"[1]", "not a JSON object")):
		with pytest.raises(MalformedWebhook, match=reason):
			webhooks.read(body, headers)
	with pytest.raises(MalformedWebhook, match="no X-Shopify-Topic"):
		webhooks.read(BODY, {"x-shopify-shop-domain": DOMAIN})


@pytest.mark.parametrize(
	("topic", "payload"),
	[
		# A signed body sent again under another topic (the headers are not signed).
		("orders/create", {"id": 8001, "admin_graphql_api_id": "gid://shopify/Product/8001"}),
		("customers/update", {"id": 5002, "admin_graphql_api_id": "gid://shopify/Order/5002"}),
		("inventory_levels/update", {"admin_graphql_api_id": "gid://shopify/Order/5002"}),
		("products/update", {"id": 8001, "admin_graphql_api_id": 8001}),
		("app/uninstalled", {"id": 5002, "admin_graphql_api_id": "gid://shopify/Order/5002"}),
	],
)
def test_a_body_that_does_not_fit_its_topic_is_malformed(topic, payload):
	with pytest.raises(MalformedWebhook):
		webhooks.route(topic, payload)


def test_app_uninstalled_must_name_the_shop_it_came_from():
	body = json.dumps({"id": 60001, "myshopify_domain": DOMAIN.upper()}).encode()
	headers = {"x-shopify-topic": "app/uninstalled", "x-shopify-shop-domain": DOMAIN}
	assert webhooks.read(body, headers) == webhooks.WebhookWork("app/uninstalled", None, DOMAIN)
	with pytest.raises(MalformedWebhook, match="another shop"):
		webhooks.read(body, {**headers, "x-shopify-shop-domain": "another.myshopify.com"})
