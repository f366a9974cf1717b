"""Shopify webhooks: the HMAC check and what each topic asks the site to sync.

Shopify signs the raw body with the app's secret (X-Shopify-Hmac-Sha256, base64 HMAC-SHA256) and may
deliver a webhook more than once with the same X-Shopify-Webhook-Id; the site drops repeats by that id
and the body. The headers (topic, shop, id) are not signed, so what the body says must fit them: the
record a topic names is of that topic's kind, and app/uninstalled names the shop it came from.
A webhook only names the record: the site fetches its current state through the API (streams.fetch_one),
so a late or repeated delivery can never book an older state over a newer one.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kraal_connect.connectors.shopify.mapping import CUSTOMERS, INVENTORY, ORDERS, PRODUCTS
from kraal_connect.engine.webhook_intake import MalformedWebhook, hmac_signature, json_object

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


def signature(headers: Mapping[str, str]) -> bytes:
	"""The digest X-Shopify-Hmac-Sha256 carries; the integrations whose secret made it are
	webhook_intake.hmac_signers."""
	return hmac_signature(header(headers, HMAC_HEADER), HMAC_HEADER)


def header(headers: Mapping[str, str], name: str) -> str | None:
	"""A header by name, whatever the case the web server gave it."""
	wanted = name.lower()
	return next((v for k, v in headers.items() if k.lower() == wanted), None)


def webhook_id(headers: Mapping[str, str]) -> str | None:
	"""The delivery's id, the same on every retry of it: the site's key for dropping repeats."""
	return header(headers, ID_HEADER)


def _gid(kind: str, payload: Mapping[str, Any], key: str = "id") -> str:
	if key == "id" and payload.get("admin_graphql_api_id"):
		return _of_kind(kind, payload["admin_graphql_api_id"])
	value = payload.get(key)
	if value in (None, ""):
		raise MalformedWebhook(f"webhook body has no {key}")
	return f"gid://shopify/{kind}/{value}"


def _of_kind(kind: str, gid: Any) -> str:
	"""A signed body sent again under another topic must not pass one kind of record off as another."""
	if not isinstance(gid, str) or not gid.startswith(f"gid://shopify/{kind}/"):
		raise MalformedWebhook(f"webhook body does not name a {kind}")
	return gid


def route(topic: str, payload: Mapping[str, Any]) -> WebhookWork | None:
	"""The record a webhook names, by topic; None for a topic Kraal does not handle."""
	if topic == UNINSTALLED:
		if not isinstance(payload.get("myshopify_domain"), str):
			raise MalformedWebhook("app/uninstalled body names no shop")
		return WebhookWork(topic, None, payload["myshopify_domain"].lower())
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
		return _of_kind("InventoryLevel", payload["admin_graphql_api_id"])
	if not payload.get("inventory_item_id") or not payload.get("location_id"):
		raise MalformedWebhook("webhook body has no inventory_item_id and location_id")
	return f"gid://shopify/InventoryLevel/{payload['location_id']}?inventory_item_id={payload['inventory_item_id']}"


def read(raw_body: bytes, headers: Mapping[str, str]) -> WebhookWork | None:
	"""What a verified delivery asks for; MalformedWebhook when it is not a Shopify webhook's JSON."""
	topic = header(headers, TOPIC_HEADER)
	if not topic:
		raise MalformedWebhook(f"no {TOPIC_HEADER} header")
	payload = json_object(raw_body)
	work = route(topic, payload)
	if work and work.topic == UNINSTALLED and work.external_id != shop_domain(headers):
		raise MalformedWebhook("app/uninstalled body names another shop")
	return work


def shop_domain(headers: Mapping[str, str]) -> str:
	"""The store a delivery comes from, as integrations keep it (x.myshopify.com, lower case)."""
	return (header(headers, SHOP_HEADER) or "").strip().lower()
