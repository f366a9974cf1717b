"""Plaid Link's server side (link token, public-token exchange) and Plaid's webhook."""

import json
import time

import frappe
from frappe import _

from kraal_connect.api import check_can_manage_credentials
from kraal_connect.connectors.plaid import mapping
from kraal_connect.connectors.plaid.integration import PlaidConnector
from kraal_connect.connectors.plaid.streams import TRANSACTIONS
from kraal_connect.connectors.plaid.webhook_keys import client_keys, client_of, site_keys
from kraal_connect.connectors.plaid.webhooks import REPLAY_WINDOW_SECONDS, verify_webhook
from kraal_connect.engine import webhooks
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.scheduler import enqueue_sync
from kraal_connect.engine.webhook_intake import delivery_key, json_object

REAUTH_WEBHOOK_CODES = {"ERROR", "PENDING_EXPIRATION", "USER_PERMISSION_REVOKED", "LOGIN_REPAIRED"}


def _connector(integration: str) -> PlaidConnector:
	doc = check_can_manage_credentials(integration)
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
def exchange_public_token(integration: str, public_token: str, account_ids: str | list | None = None) -> dict:
	"""Store the item's access token and bank; the next sync creates or links its Bank Accounts.

	account_ids: the accounts chosen in Link (its onSuccess metadata.accounts); only they sync. None
	keeps the choice made before (a re-authentication that did not ask again), or every account.
	Link's public token and one typed in by hand (sandbox, the emulator) are exchanged alike."""
	connector = _connector(integration)
	doc = connector.integration
	try:
		access_token, item_id = connector.api.exchange_public_token(public_token)
		item = connector.api.get_item(access_token)["item"]
		institution = connector.api.get_institution_name(item["institution_id"])
		accounts = connector.api.get_accounts(access_token) if account_ids else []
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
	if account_ids:
		_choose(doc, accounts, _ids(account_ids))
	doc.save()
	return {
		"item_id": item_id,
		"bank": institution,
		"accounts": len(mapping.chosen_account_ids(doc.plaid_accounts)),
	}


@frappe.whitelist()
def bank_accounts(integration: str) -> list[dict]:
	"""The item's accounts as Plaid lists them, and whether each one syncs, for Choose Bank Accounts."""
	connector = _connector(integration)
	try:
		accounts = connector.api.get_accounts(connector.access_token)
	except SyncError as exc:
		frappe.throw(_("Plaid did not list the accounts: {0}").format(exc))
	chosen = mapping.chosen_account_ids(connector.integration.plaid_accounts)
	return [
		{
			"account_id": account["account_id"],
			"label": mapping.account_label(account),
			"type": " ".join(filter(None, (account.get("type"), account.get("subtype")))),
			"chosen": not chosen or account["account_id"] in chosen,
		}
		for account in accounts
	]


@frappe.whitelist(methods=["POST"])
def choose_accounts(integration: str, account_ids: str | list) -> str:
	"""Sync these accounts of the bank from now on, as choosing them in Link would."""
	connector = _connector(integration)
	try:
		accounts = connector.api.get_accounts(connector.access_token)
	except SyncError as exc:
		frappe.throw(_("Plaid did not list the accounts: {0}").format(exc))
	count = _choose(connector.integration, accounts, _ids(account_ids))
	connector.integration.save()
	return _("{0} accounts of {1} will sync").format(count, connector.integration.bank)


def _ids(account_ids: str | list) -> list[str]:
	return json.loads(account_ids) if isinstance(account_ids, str) else list(account_ids)


def _choose(doc, accounts: list[dict], account_ids: list[str]) -> int:
	"""Keep the chosen accounts on the integration (only theirs sync). An account added to the choice
	has transactions the cursor already passed over: the transactions are read again from the start,
	and those already booked are known by their links and skipped."""
	known = {account["account_id"]: account for account in accounts}
	unknown = [account_id for account_id in account_ids if account_id not in known]
	if unknown or not account_ids:
		frappe.throw(
			_("Choose one or more of the bank's accounts; Plaid does not know {0}").format(", ".join(unknown))
		)
	before = mapping.chosen_account_ids(doc.plaid_accounts)
	if before and set(account_ids) - before:
		doc.entity_row(TRANSACTIONS).cursor = ""
	doc.plaid_accounts = mapping.chosen_accounts_text([known[account_id] for account_id in account_ids])
	return len(account_ids)


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook():
	"""Plaid's webhook: its signature checked on the raw body before anything reads it, then answered
	at once; the work is left to a queued sync."""
	return webhooks.serve(_take)


def _take(body: bytes) -> dict:
	token = frappe.get_request_header("Plaid-Verification")
	now = time.time()
	signed = verify_webhook(body, token, site_keys, now)
	payload = json_object(body)
	item_id = payload.get("item_id")
	doc = isinstance(item_id, str) and frappe.db.get_value(
		"Kraal Integration",
		{"vendor": "Plaid", "external_account": item_id},
		["name", "client_id", "api_base_url", "environment"],
		as_dict=True,
	)
	if not doc:
		return {"accepted": False}  # Plaid's, about an item no integration here follows
	client = client_of(doc)
	if signed.client != client:
		# Another client's key verified it: the item's own client must hold that key too.
		verify_webhook(body, token, client_keys(client, doc.name), now)
	key = delivery_key(body, str(signed.issued_at))
	if not webhooks.first_delivery(doc.name, key, seen_for=REPLAY_WINDOW_SECONDS):
		return {"accepted": False}
	_act_on(frappe.get_doc("Kraal Integration", doc.name), payload)
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
