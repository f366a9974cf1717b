"""Shopify webhooks: the HMAC check and what each topic asks the site to sync.

Shopify signs the raw body with the app's secret (X-Shopify-Hmac-Sha256, base64 HMAC-SHA256) and may
deliver a webhook more than once with the same X-Shopify-Webhook-Id; the site drops repeats by that id.
A webhook only names the record: the site fetches its current state through the API (streams.fetch_one),
so a late or repeated delivery can never book an older state over a newer one.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kraal_connect.connectors.shopify.mapping import CUSTOMERS, INVENTORY, ORDERS, PRODUCTS
from kraal_connect.engine.errors import WebhookRejected

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
ID_HEADER = "X-Shopify-Webhook-Id"
SHOP_HEADER = "X-Shopify-Shop-Domain"
UNINSTALLED = "app/uninstalled"

TOPIC_ENTITIES = {
	"orders/create": ORDERS,
	"orders/updated": ORDERS,
	"orders/paid": ORDERS,
	"orders/cancelled": ORDERS,
	"refunds/create": ORDERS,
	"products/update": PRODUCTS,
	"products/delete": PRODUCTS,
	"inventory_levels/update": INVENTORY,
	"customers/update": CUSTOMERS,
}


@dataclass(frozen=True)
class WebhookWork:
	"""What a webhook asks for: sync this record of this entity (or, for app/uninstalled, disconnect)."""

	topic: str
	entity: str | None
	external_id: str
	deleted: bool = False


def verify_hmac(raw_body: bytes, header: str | None, secret: str) -> None:
	"""Raise WebhookRejected unless header is Shopify's signature of exactly these bytes."""
	if not secret:
		raise WebhookRejected("no webhook secret is set on the integration")
	if not header:
		raise WebhookRejected(f"no {HMAC_HEADER} header")
	try:
		given = base64.b64decode(header, validate=True)
	except (binascii.Error, ValueError):
		raise WebhookRejected(f"{HMAC_HEADER} is not base64") from None
	expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
	if not hmac.compare_digest(given, expected):
		raise WebhookRejected("signature does not match the body")


def header(headers: Mapping[str, str], name: str) -> str | None:
	"""A header by name, whatever the case the web server gave it."""
	wanted = name.lower()
	return next((v for k, v in headers.items() if k.lower() == wanted), None)


def webhook_id(headers: Mapping[str, str]) -> str | None:
	"""The delivery's id, the same on every retry of it: the site's key for dropping repeats."""
	return header(headers, ID_HEADER)


def _gid(kind: str, payload: Mapping[str, Any], key: str = "id") -> str:
	if key == "id" and payload.get("admin_graphql_api_id"):
		return payload["admin_graphql_api_id"]
	value = payload.get(key)
	if value in (None, ""):
		raise WebhookRejected(f"webhook body has no {key}")
	return f"gid://shopify/{kind}/{value}"


def route(topic: str, payload: Mapping[str, Any]) -> WebhookWork | None:
	"""The record a webhook names, by topic; None for a topic Kraal does not handle."""
	if topic == UNINSTALLED:
		return WebhookWork(topic, None, str(payload.get("myshopify_domain") or payload.get("domain") or ""))
	entity = TOPIC_ENTITIES.get(topic)
	if entity is None:
		return None
	if topic == "refunds/create":
		return WebhookWork(topic, ORDERS, _gid("Order", payload, "order_id"))
	if entity == INVENTORY:
		return WebhookWork(topic, INVENTORY, _level_gid(payload))
	kind = {ORDERS: "Order", PRODUCTS: "Product", CUSTOMERS: "Customer"}[entity]
	return WebhookWork(topic, entity, _gid(kind, payload), deleted=topic == "products/delete")


def _level_gid(payload: Mapping[str, Any]) -> str:
	if payload.get("admin_graphql_api_id"):
		return payload["admin_graphql_api_id"]
	if not payload.get("inventory_item_id") or not payload.get("location_id"):
		raise WebhookRejected("webhook body has no inventory_item_id and location_id")
	return f"gid://shopify/InventoryLevel/{payload['location_id']}?inventory_item_id={payload['inventory_item_id']}"


def parse(raw_body: bytes, headers: Mapping[str, str], secret: str) -> WebhookWork | None:
	"""Verify a delivery and say what it asks for; WebhookRejected when it does not check out."""
	verify_hmac(raw_body, header(headers, HMAC_HEADER), secret)
	topic = header(headers, TOPIC_HEADER)
	if not topic:
		raise WebhookRejected(f"no {TOPIC_HEADER} header")
	try:
		payload = json.loads(raw_body)
	except ValueError:
		raise WebhookRejected("body is not JSON") from None
	if not isinstance(payload, dict):
		raise WebhookRejected("body is not a JSON object")
	return route(topic, payload)
