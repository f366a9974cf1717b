"""Plaid Link's server side (link token, public-token exchange) and Plaid's webhook."""

import frappe
from frappe import _

from kraal_connect.api import check_can_configure
from kraal_connect.connectors.plaid.integration import PlaidConnector
from kraal_connect.connectors.plaid.webhooks import verify_webhook
from kraal_connect.engine.errors import SyncError, WebhookRejected
from kraal_connect.engine.scheduler import enqueue_sync

REAUTH_WEBHOOK_CODES = {"ERROR", "PENDING_EXPIRATION", "USER_PERMISSION_REVOKED", "LOGIN_REPAIRED"}


def _connector(integration: str) -> PlaidConnector:
	doc = check_can_configure(integration)
	if doc.vendor != "Plaid":
		frappe.throw(_("{0} is not a Plaid integration").format(integration))
	return PlaidConnector(doc)


def _webhook_url() -> str:
	return frappe.utils.get_url("/api/method/kraal_connect.connectors.plaid.link.webhook")


@frappe.whitelist(methods=["POST"])
def create_link_token(integration: str) -> str:
	"""A Link token; in update mode when the bank asks the user to log in again."""
	connector = _connector(integration)
	reconnecting = connector.integration.status == "Needs Re-authentication"
	try:
		return connector.api.create_link_token(
			user_id=frappe.session.user,
			client_name=frappe.get_cached_value("Company", connector.integration.company, "company_name"),
			webhook=_webhook_url(),
			access_token=connector.access_token if reconnecting else None,
		)
	except SyncError as exc:
		frappe.throw(_("Plaid did not create a Link token: {0}").format(exc))


@frappe.whitelist(methods=["POST"])
def exchange_public_token(integration: str, public_token: str) -> dict:
	"""Store the item's access token and bank; the next sync creates or links its Bank Accounts."""
	connector = _connector(integration)
	doc = connector.integration
	try:
		access_token, item_id = connector.api.exchange_public_token(public_token)
		item = connector.api.get_item(access_token)["item"]
		institution = connector.api.get_institution_name(item["institution_id"])
	except SyncError as exc:
		frappe.throw(_("Plaid did not accept the link: {0}").format(exc))
	if doc.external_account and doc.external_account != item_id:
		frappe.throw(
			_("{0} is linked to Plaid item {1}; create another integration for a different bank").format(
				doc.name, doc.external_account
			)
		)
	if not frappe.db.exists("Bank", institution):
		frappe.get_doc({"doctype": "Bank", "bank_name": institution}).insert(ignore_permissions=True)
	doc.update(
		{
			"access_token": access_token,
			"external_account": item_id,
			"bank": institution,
			"status": "Active",
			"status_reason": "",
			"enabled": 1,
		}
	)
	doc.save()
	return {"item_id": item_id, "bank": institution}


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook():
	"""Verify Plaid's signature, answer at once, and leave the work to a queued sync."""
	body = frappe.request.get_data()
	try:
		payload = frappe.parse_json(body.decode() or "{}")
		integration = frappe.db.get_value(
			"Kraal Integration", {"vendor": "Plaid", "external_account": payload.get("item_id") or ""}
		)
		if not integration:
			raise WebhookRejected("unknown item")
		connector = PlaidConnector(frappe.get_doc("Kraal Integration", integration))
		payload = verify_webhook(
			body, frappe.get_request_header("Plaid-Verification"), connector.api.get_webhook_verification_key
		)
	except (WebhookRejected, SyncError, ValueError):
		frappe.local.response.http_status_code = 401
		return {"accepted": False}
	_act_on(connector.integration, payload)
	return {"accepted": True}


def _act_on(doc, payload: dict) -> None:
	kind = (payload.get("webhook_type"), payload.get("webhook_code"))
	if kind == ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE"):
		enqueue_sync(doc.name, "Webhook")
	elif kind[0] == "ITEM" and kind[1] in REAUTH_WEBHOOK_CODES and kind[1] != "LOGIN_REPAIRED":
		error = payload.get("error") or {}
		reason = error.get("display_message") or error.get("error_code") or kind[1]
		doc.db_set({"status": "Needs Re-authentication", "status_reason": f"Plaid: {reason}"})
	elif kind == ("ITEM", "LOGIN_REPAIRED"):
		doc.db_set({"status": "Active", "status_reason": ""})
		enqueue_sync(doc.name, "Webhook")
