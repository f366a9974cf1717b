"""Connecting a QuickBooks company (OAuth 2.0 authorization code through intuit-oauth) and Intuit's
webhooks."""

import frappe
from frappe import _
from frappe.utils.password import get_decrypted_password

from kraal_connect.api import check_can_manage_credentials
from kraal_connect.connectors.callbacks import back_to_form, integration_for_state, refuse
from kraal_connect.connectors.qbo.integration import (
	PARALLEL_RUN,
	VENDOR,
	QboConnector,
	oauth_client,
	store_tokens,
	sync_account_mappings,
)
from kraal_connect.connectors.qbo.webhooks import SIGNATURE_HEADER, parse_notifications, signature
from kraal_connect.engine import webhooks
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.oauth_flow import issue_state
from kraal_connect.engine.scheduler import enqueue_sync
from kraal_connect.engine.webhook_intake import delivery_key, hmac_signers

QUICKBOOKS = "QuickBooks"


@frappe.whitelist(methods=["POST"])
def authorization_url(integration: str) -> str:
	"""Where to send the user to connect a company. The state sent along is kept in Redis for
	STATE_SECONDS, bound to this user and this integration, until the callback takes it."""
	doc = check_can_manage_credentials(integration)
	if doc.vendor != VENDOR:
		frappe.throw(_("{0} is not a QuickBooks Online integration").format(integration))
	state = issue_state(VENDOR, doc.name)
	try:
		return oauth_client(doc).authorization_url(state)
	except SyncError as exc:
		frappe.throw(_("Intuit could not be reached: {0}").format(exc))


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(code: str | None = None, state: str | None = None, realmId: str | None = None, **kwargs):
	"""Intuit sends the user back here. The state is taken out of Redis first (GETDEL), so whatever
	follows (consent denied, a bad code, another company) it cannot be used again; it must name a flow
	this user started. The code becomes tokens, kept in Password fields with the company's realm id, and
	the user lands on the integration with a Kraal Account Mapping row for each QBO account to review
	before migrating. A refusal stores nothing."""
	doc = integration_for_state(VENDOR, state, QUICKBOOKS)
	if doc is None:
		return
	if kwargs.get("error") or not code or not realmId:
		return refuse(
			QUICKBOOKS, _("QuickBooks did not connect: {0}").format(kwargs.get("error") or _("no code"))
		)
	if doc.external_account and doc.external_account != realmId:
		return refuse(
			QUICKBOOKS,
			_(
				"{0} is connected to QuickBooks company {1}; create another integration for company {2}"
			).format(doc.name, doc.external_account, realmId),
		)
	try:
		tokens = oauth_client(doc).exchange_code(code, realmId)
	except SyncError as exc:
		return refuse(QUICKBOOKS, _("Intuit did not accept the connection: {0}").format(exc))
	store_tokens(doc, tokens)
	doc.db_set({"external_account": realmId, "enabled": 1, "status": "Active", "status_reason": ""})
	frappe.db.commit()  # the tokens are kept whatever reading the chart of accounts meets
	try:
		qbo_accounts = QboConnector(doc).read_all("Account")
		sync_account_mappings(doc, {a["Id"]: a for a in qbo_accounts})
	except SyncError as exc:
		frappe.log_error(title=f"QuickBooks chart of accounts of {doc.name}", message=str(exc))
	back_to_form(doc)


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook():
	"""Intuit says something changed in a company: verify the signature with the verifier tokens of
	the QuickBooks integrations, then bring forward the next CDC run of those whose token signed it and
	that follow a company it names. Only a parallel run follows QBO's changes; the others do nothing."""
	return webhooks.serve(_take)


def _take(body: bytes) -> dict:
	signed = signature(frappe.get_request_header(SIGNATURE_HEADER))
	integrations = {
		row.name: row
		for row in frappe.get_all(
			"Kraal Integration",
			filters={"vendor": VENDOR},
			fields=["name", "external_account", "enabled", "qbo_mode"],
		)
	}
	tokens = {
		name: get_decrypted_password("Kraal Integration", name, "webhook_secret", raise_exception=False) or ""
		for name in integrations
	}
	signers = hmac_signers(body, signed, tokens)
	realms = {n.realm_id for n in parse_notifications(body)}
	key = delivery_key(body)
	accepted = False
	for name in signers:
		row = integrations[name]
		if row.external_account in realms and row.enabled and row.qbo_mode == PARALLEL_RUN:
			if webhooks.first_delivery(name, key):
				enqueue_sync(name, "Webhook")
				accepted = True
	return {"accepted": accepted}
