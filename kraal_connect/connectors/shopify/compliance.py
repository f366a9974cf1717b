"""Shopify's mandatory compliance webhooks (customers/data_request, customers/redact, shop/redact): what a
verified delivery asks for.

Shopify signs them like every webhook (X-Shopify-Hmac-Sha256 over the raw body, keyed with the app's
client secret), but the secret is the app's, the same for every store that installed it, and the topic
and shop headers are not signed. So the body must fit the headers: it names the shop the delivery says
it comes from, and a customer's request cannot pass for shop/redact, the one topic that disconnects.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from kraal_connect.connectors.shopify.webhooks import TOPIC_HEADER, header, shop_domain
from kraal_connect.engine.webhook_intake import MalformedWebhook, json_object

DATA_REQUEST = "customers/data_request"
CUSTOMER_REDACT = "customers/redact"
SHOP_REDACT = "shop/redact"
TOPICS = (DATA_REQUEST, CUSTOMER_REDACT, SHOP_REDACT)


@dataclass(frozen=True)
class ComplianceRequest:
	"""A customer's data request or erasure (the customer and their orders, as gids), or the erasure of
	the store's data 48 hours after the app was uninstalled. The customer's email and phone are left out:
	the site keeps no more of them than it already holds."""

	topic: str
	shop_domain: str
	customer_id: str | None = None
	order_ids: tuple[str, ...] = ()
	request_id: str | None = None


def read(raw_body: bytes, headers: Mapping[str, str]) -> ComplianceRequest:
	"""What a verified compliance delivery asks for; MalformedWebhook when it is not one."""
	topic = header(headers, TOPIC_HEADER)
	if topic not in TOPICS:
		raise MalformedWebhook(f"{TOPIC_HEADER} is not a compliance topic")
	payload = json_object(raw_body)
	domain = payload.get("shop_domain")
	if not isinstance(domain, str) or domain.lower() != shop_domain(headers):
		raise MalformedWebhook("body names another shop than the delivery")
	customer = payload.get("customer")
	if topic == SHOP_REDACT:
		if customer is not None:
			raise MalformedWebhook("a customer's request sent as shop/redact")
		return ComplianceRequest(topic, domain.lower())
	if not isinstance(customer, dict) or customer.get("id") in (None, ""):
		raise MalformedWebhook(f"{topic} body names no customer")
	orders = payload.get("orders_requested" if topic == DATA_REQUEST else "orders_to_redact") or []
	if not isinstance(orders, list):
		raise MalformedWebhook(f"{topic} body's orders are not a list")
	request = payload.get("data_request") if topic == DATA_REQUEST else None
	return ComplianceRequest(
		topic,
		domain.lower(),
		customer_id=f"gid://shopify/Customer/{customer['id']}",
		order_ids=tuple(f"gid://shopify/Order/{order}" for order in orders),
		request_id=str(request["id"]) if isinstance(request, dict) and request.get("id") else None,
	)
