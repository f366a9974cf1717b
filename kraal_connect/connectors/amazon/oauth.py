"""Connecting an Amazon seller through the SP-API website authorization workflow, and choosing the
marketplaces to sync. Pasting LWA credentials and a refresh token stays the alternative."""

import json

import frappe
from frappe import _
from frappe.utils import get_url

from kraal_connect.api import check_can_configure, check_can_manage_credentials
from kraal_connect.connectors.amazon import authorization
from kraal_connect.connectors.amazon.authorization import Refused
from kraal_connect.connectors.amazon.integration import AmazonConnector
from kraal_connect.connectors.callbacks import (
	back_to_form,
	integration_for_state,
	refuse,
	store_passwords,
)
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.oauth_flow import issue_state
from kraal_connect.engine.redaction import redact
from kraal_connect.engine.retry import ApiCaller, RetryPolicy

VENDOR = "Amazon"
CALLBACK_PATH = "/api/method/kraal_connect.connectors.amazon.oauth.callback"


@frappe.whitelist(methods=["POST"])
def authorization_url(integration: str) -> str:
	"""Seller Central's consent page for the integration's app, in its region. The state sent along is
	kept for STATE_SECONDS, bound to this user and integration, until the callback takes it."""
	doc = check_can_manage_credentials(integration)
	if doc.vendor != VENDOR:
		frappe.throw(_("{0} is not an Amazon integration").format(integration))
	if not (doc.app_id and doc.client_id and doc.get_password("client_secret", raise_exception=False)):
		frappe.throw(_("Set the SP-API Application ID and the app's LWA Client ID and Client Secret first"))
	state = issue_state(VENDOR, doc.name)
	return authorization.consent_url(
		_hosts(doc).consent, doc.app_id, state, get_url(CALLBACK_PATH), draft=bool(doc.amazon_draft_app)
	)


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(
	state: str | None = None,
	selling_partner_id: str | None = None,
	spapi_oauth_code: str | None = None,
	**kwargs,
):
	"""Amazon sends the seller back here. The state is taken out of Redis first (GETDEL), so whatever
	follows it cannot be used again. The code becomes the seller's refresh token, kept in a Password
	field with the seller id; then the marketplaces the seller participates in are listed on the
	integration for the user to choose from. A refusal stores nothing."""
	doc = integration_for_state(VENDOR, state, VENDOR)
	if doc is None:
		return
	secret = doc.get_password("client_secret", raise_exception=False) or ""
	query = {
		"selling_partner_id": selling_partner_id,
		"spapi_oauth_code": spapi_oauth_code,
		"error": kwargs.get("error"),
		"error_description": kwargs.get("error_description"),
	}
	try:
		consent = authorization.read_redirect(query, doc.external_account)
		refresh_token = authorization.exchange_code(
			_hosts(doc).token_url, doc.client_id, secret, consent.code, get_url(CALLBACK_PATH)
		)
	except (Refused, SyncError) as exc:
		return refuse(VENDOR, _("Amazon did not connect: {0}").format(exc))
	store_passwords(doc, {"refresh_token": refresh_token})
	doc.db_set(
		{
			"external_account": consent.selling_partner_id,
			"enabled": 1,
			"status": "Active",
			"status_reason": "",
		}
	)
	frappe.db.commit()  # the refresh token is kept whatever listing the marketplaces meets
	try:
		_list_marketplaces(doc)
	except SyncError as exc:
		frappe.log_error(title=f"Amazon marketplaces of {doc.name}", message=redact(str(exc), doc.secrets()))
	back_to_form(doc)


@frappe.whitelist()
def participating_marketplaces(integration: str) -> list[dict]:
	"""The marketplaces the seller participates in, as listed when the seller was connected; asked of
	Amazon now when that list is empty (getMarketplaceParticipations allows one call a minute)."""
	doc = check_can_configure(integration)
	if doc.vendor != VENDOR:
		frappe.throw(_("{0} is not an Amazon integration").format(integration))
	listed = json.loads(doc.amazon_marketplaces or "[]")
	if listed:
		return listed
	try:
		return _list_marketplaces(doc)
	except SyncError as exc:
		frappe.throw(_("Amazon did not list the marketplaces: {0}").format(redact(str(exc), doc.secrets())))


@frappe.whitelist(methods=["POST"])
def choose_marketplaces(integration: str, marketplace_ids: str | list) -> str:
	"""Sync these marketplaces (ids of the listed ones; the first is the home marketplace for catalog and
	FBA inventory)."""
	doc = check_can_configure(integration)
	ids = frappe.parse_json(marketplace_ids) if isinstance(marketplace_ids, str) else marketplace_ids
	listed = {m["id"] for m in participating_marketplaces(integration)}
	unknown = [mid for mid in ids if mid not in listed]
	if not ids or unknown:
		frappe.throw(
			_("Choose among the marketplaces the seller participates in: {0}").format(
				", ".join(sorted(listed))
			)
		)
	doc.marketplace_ids = "\n".join(ids)
	doc.save()
	return _("{0} will sync {1}").format(doc.name, ", ".join(ids))


def _list_marketplaces(doc) -> list[dict]:
	"""Ask Amazon which marketplaces the seller participates in and keep them on the integration."""
	connector = AmazonConnector(doc, ApiCaller(RetryPolicy(max_attempts=2)))
	api = connector.api
	try:
		participations = connector.caller(api.marketplaces)
	finally:
		api.close()
	listed = [
		{
			"id": p["marketplace"]["id"],
			"name": p["marketplace"].get("name"),
			"country": p["marketplace"].get("countryCode"),
			"currency": p["marketplace"].get("defaultCurrencyCode"),
		}
		for p in participations
	]
	doc.db_set("amazon_marketplaces", json.dumps(listed), update_modified=False)
	frappe.db.commit()
	return listed


def _hosts(doc) -> authorization.Hosts:
	return authorization.hosts(doc.amazon_region or "na", doc.api_base_url, AmazonConnector.api_hosts)
