"""Shopify's webhooks on a site: the guest endpoint Shopify delivers to, and the buttons that subscribe the
store to it and remove the subscriptions."""

import frappe
from frappe import _
from frappe.utils.password import get_decrypted_password

from kraal_connect.api import check_can_manage_credentials
from kraal_connect.connectors.shopify.client import WEBHOOK_TOPICS
from kraal_connect.connectors.shopify.integration import ShopifyConnector, webhook_url
from kraal_connect.connectors.shopify.webhooks import UNINSTALLED, read, shop_domain, signature, webhook_id
from kraal_connect.engine import webhooks
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.webhook_intake import delivery_key, hmac_signers


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook():
	"""Verify Shopify's signature over the raw body, queue the record it names and answer at once.

	Every Shopify integration of the store (found by the X-Shopify-Shop-Domain header, never by the
	body) whose secret signed the delivery takes it: a store may feed several companies. A delivery no
	integration's secret signed is refused.
	"""
	return webhooks.serve(_take)


def _take(body: bytes) -> dict:
	headers = frappe.request.headers
	signed = signature(headers)  # a missing or garbled signature is refused before a secret is read
	secrets = {
		name: get_decrypted_password("Kraal Integration", name, "webhook_secret", raise_exception=False) or ""
		for name in _integrations_of(shop_domain(headers))
	}
	signers = hmac_signers(body, signed, secrets)
	work = read(body, headers)
	key = delivery_key(body, webhook_id(headers) or "")
	accepted = False
	for name in signers:
		accepted = _act_on(frappe.get_doc("Kraal Integration", name), work, key) or accepted
	return {"accepted": accepted}


def _integrations_of(domain: str) -> list[str]:
	"""The Shopify integrations of a store; the domain as Shopify sends it (x.myshopify.com)."""
	if not domain:
		return []
	return frappe.get_all(
		"Kraal Integration",
		filters={"vendor": "Shopify", "external_account": domain},
		order_by="creation",
		pluck="name",
	)


def _act_on(doc, work, key: str) -> bool:
	"""Queue the work of a verified delivery; False when it was delivered before or is not synced here."""
	if work is None or not doc.enabled:
		return False
	if work.topic == UNINSTALLED:
		doc.db_set(
			{
				"enabled": 0,
				"status": "Disconnected",
				"status_reason": _("Shopify: the app was uninstalled from the store"),
				"webhooks_registered": 0,
			}
		)
		return True
	if work.entity not in ShopifyConnector(doc).webhook_entities():
		return False
	return webhooks.accept(doc.name, key, work.entity, work.external_id)


@frappe.whitelist(methods=["POST"])
def register_webhooks(integration: str) -> str:
	"""Subscribe the store's webhooks to this site (the topics it lacks; safe to repeat). The first sync
	does it by itself when the site is served over https."""
	connector = _connector(integration)
	if not connector.integration.get_password("webhook_secret", raise_exception=False):
		frappe.throw(_("Set the Webhook Secret (the app's API secret key) first: it checks every delivery"))
	try:
		created = connector.api.subscribe_webhooks(webhook_url(), WEBHOOK_TOPICS)
	except SyncError as exc:
		frappe.throw(_("Shopify did not subscribe the webhooks: {0}").format(exc))
	# Deliveries are matched to integrations by the domain Shopify sends (x.myshopify.com).
	connector.integration.db_set({"webhooks_registered": 1, "external_account": connector.api.shop_domain})
	return _("{0} webhook subscriptions created for {1}").format(len(created), webhook_url())


@frappe.whitelist(methods=["POST"])
def unregister_webhooks(integration: str) -> str:
	"""Remove every subscription that delivers to this site; polling alone keeps the store in sync."""
	connector = _connector(integration)
	try:
		removed = connector.api.unsubscribe_webhooks(webhook_url())
	except SyncError as exc:
		frappe.throw(_("Shopify did not remove the webhooks: {0}").format(exc))
	connector.integration.db_set("webhooks_registered", 0)
	return _("{0} webhook subscriptions removed").format(len(removed))


def _connector(integration: str) -> ShopifyConnector:
	doc = check_can_manage_credentials(integration)
	if doc.vendor != "Shopify":
		frappe.throw(_("{0} is not a Shopify integration").format(integration))
	return ShopifyConnector(doc)
