"""Connecting a QuickBooks company (OAuth 2.0 authorization code through intuit-oauth) and Intuit's
webhooks."""

from urllib.parse import quote

import frappe
from frappe import _

from kraal_connect.api import check_can_configure
from kraal_connect.connectors.qbo.integration import (
	PARALLEL_RUN,
	VENDOR,
	QboConnector,
	oauth_client,
	store_tokens,
	sync_account_mappings,
)
from kraal_connect.connectors.qbo.webhooks import parse_notifications, verify_webhook
from kraal_connect.engine.errors import SyncError, WebhookRejected
from kraal_connect.engine.scheduler import enqueue_sync


@frappe.whitelist(methods=["POST"])
def authorization_url(integration: str) -> str:
	"""Where to send the user to connect a company; the state that must come back is kept on the
	integration until the callback uses it."""
	doc = check_can_configure(integration)
	if doc.vendor != VENDOR:
		frappe.throw(_("{0} is not a QuickBooks Online integration").format(integration))
	state = frappe.generate_hash(length=32)
	doc.db_set("oauth_state", state)
	try:
		return oauth_client(doc).authorization_url(state)
	except SyncError as exc:
		frappe.throw(_("Intuit could not be reached: {0}").format(exc))


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(code: str | None = None, state: str | None = None, realmId: str | None = None, **kwargs):
	"""Intuit sends the user back here. The state names the integration that asked; the code
	becomes tokens, kept in Password fields with the company's realm id, and the user lands on the
	integration with a Kraal Account Mapping row for each QBO account to review before migrating."""
	name = state and frappe.db.get_value("Kraal Integration", {"vendor": VENDOR, "oauth_state": state})
	if not name:
		return _refuse(_("This QuickBooks connection was not started from ERPNext, or was already used."))
	doc = frappe.get_doc("Kraal Integration", name)
	doc.db_set("oauth_state", "")
	if kwargs.get("error") or not code or not realmId:
		return _refuse(_("QuickBooks did not connect: {0}").format(kwargs.get("error") or _("no code")))
	if doc.external_account and doc.external_account != realmId:
		return _refuse(
			_(
				"{0} is connected to QuickBooks company {1}; create another integration for company {2}"
			).format(doc.name, doc.external_account, realmId)
		)
	try:
		tokens = oauth_client(doc).exchange_code(code, realmId)
	except SyncError as exc:
		return _refuse(_("Intuit did not accept the connection: {0}").format(exc))
	store_tokens(doc, tokens)
	doc.db_set({"external_account": realmId, "enabled": 1, "status": "Active", "status_reason": ""})
	frappe.db.commit()  # the tokens are kept whatever reading the chart of accounts meets
	try:
		qbo_accounts = QboConnector(doc).read_all("Account")
		sync_account_mappings(doc, {a["Id"]: a for a in qbo_accounts})
	except SyncError as exc:
		frappe.log_error(title=f"QuickBooks chart of accounts of {doc.name}", message=str(exc))
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"/app/kraal-integration/{quote(doc.name)}"


def _refuse(message: str) -> None:
	frappe.respond_as_web_page(_("QuickBooks"), message, http_status_code=400, indicator_color="red")


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook():
	"""Intuit says something changed in a company: verify the signature with the verifier token of
	the integrations of that company and bring their next CDC run forward. Only a parallel run follows
	QBO's changes; the others answer and do nothing."""
	body = frappe.request.get_data()
	signature = frappe.get_request_header("intuit-signature")
	try:
		realms = {n.realm_id for n in parse_notifications(body)}
		integrations = frappe.get_all(
			"Kraal Integration",
			filters={"vendor": VENDOR, "external_account": ("in", list(realms))},
			fields=["name", "enabled", "qbo_mode"],
		)
		if not integrations:
			raise WebhookRejected("no integration follows these companies")
		for integration in integrations:
			doc = frappe.get_doc("Kraal Integration", integration.name)
			verify_webhook(body, signature, doc.get_password("webhook_secret", raise_exception=False) or "")
	except WebhookRejected:
		frappe.local.response.http_status_code = 401
		return {"accepted": False}
	for integration in integrations:
		if integration.enabled and integration.qbo_mode == PARALLEL_RUN:
			enqueue_sync(integration.name, "Webhook")
	return {"accepted": True}
