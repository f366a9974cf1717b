"""Connecting a Shopify store through Shopify's OAuth (authorization code grant), and the app's mandatory
compliance webhooks. A custom app's Admin API token pasted into Access Token stays the alternative."""

import frappe
from frappe import _
from frappe.utils import get_url
from frappe.utils.password import get_decrypted_password

from kraal_connect.api import check_can_manage_credentials
from kraal_connect.connectors.callbacks import (
	back_to_form,
	integration_for_state,
	refuse,
	remove_passwords,
	store_passwords,
)
from kraal_connect.connectors.shopify import authorization, compliance
from kraal_connect.connectors.shopify.authorization import Refused
from kraal_connect.connectors.shopify.integration import ShopifyConnector
from kraal_connect.connectors.shopify.webhooks import shop_domain, signature, webhook_id
from kraal_connect.engine import oauth_flow, webhooks
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.webhook_intake import delivery_key, hmac_signers

VENDOR = "Shopify"
CALLBACK_PATH = "/api/method/kraal_connect.connectors.shopify.oauth.callback"
# Where the app's compliance webhooks are delivered (set in the app's configuration, not through the API).
COMPLIANCE_PATH = "/api/method/kraal_connect.connectors.shopify.oauth.compliance_webhook"


@frappe.whitelist(methods=["POST"])
def authorization_url(integration: str, shop: str | None = None) -> str:
	"""Where to send the user to connect the store `shop` (x.myshopify.com; the integration's store when
	left out), asking for the scopes its enabled entities need. The state is kept for STATE_SECONDS,
	bound to this user and integration, and the store beside it, until the callback takes both."""
	doc = check_can_manage_credentials(integration)
	if doc.vendor != VENDOR:
		frappe.throw(_("{0} is not a Shopify integration").format(integration))
	try:
		shop = authorization.check_shop(shop or doc.external_account)
	except Refused as exc:
		frappe.throw(str(exc))
	if doc.external_account and doc.external_account.lower() != shop:
		# Its links, mappings and cursors are the other store's.
		frappe.throw(
			_("{0} keeps store {1}; create another integration for {2}").format(
				doc.name, doc.external_account, shop
			)
		)
	if not doc.client_id or not doc.get_password("client_secret", raise_exception=False):
		frappe.throw(_("Set the app's Client ID and Client Secret (Shopify's API key and secret) first"))
	state = oauth_flow.issue_state(VENDOR, doc.name)
	frappe.cache.set(_shop_key(state), shop, ex=oauth_flow.STATE_SECONDS)
	return authorization.authorize_url(
		_oauth_base(doc, shop),
		doc.client_id,
		authorization.scope_request(authorization.needed_scopes(doc)),
		get_url(CALLBACK_PATH),
		state,
	)


@frappe.whitelist(allow_guest=True, methods=["GET"])
def callback(**_arguments):
	"""Shopify sends the user back here. The state (and the store it was issued with) is taken out of
	Redis first, so whatever follows cannot use it again. The query must be signed with the app's client
	secret and name that store; then the code becomes the access token, kept in a Password field with the
	scopes Shopify granted. A refusal stores nothing.

	The query is read from the request exactly as Shopify signed it: the arguments frappe passes carry
	its own `cmd` besides."""
	query = frappe.request.args.to_dict(flat=False)
	state = (query.get("state") or [""])[0]
	shop_asked = _take_shop(state)
	doc = integration_for_state(VENDOR, state, VENDOR)
	if doc is None:
		return
	secret = doc.get_password("client_secret", raise_exception=False) or ""
	try:
		code = authorization.check_redirect(query, secret, shop_asked)
		grant = authorization.exchange_code(_oauth_base(doc, shop_asked), doc.client_id, secret, code)
	except (Refused, SyncError) as exc:
		return refuse(VENDOR, _("Shopify did not connect: {0}").format(exc))
	missing = authorization.missing_scopes(authorization.needed_scopes(doc), grant.scopes)
	# The app that holds the token signs the store's webhooks with its client secret; its subscriptions
	# are checked again (and made where missing) by the next sync.
	store_passwords(doc, {"access_token": grant.access_token, "webhook_secret": secret})
	doc.db_set(
		{
			"external_account": shop_asked,
			"granted_scopes": ",".join(grant.scopes),
			"webhooks_registered": 0,
			"enabled": 1,
			"status": "Needs Re-authentication" if missing else "Active",
			"status_reason": authorization.missing_message(missing) if missing else "",
		}
	)
	frappe.db.commit()
	back_to_form(doc)


def _oauth_base(doc, shop: str) -> str:
	return authorization.oauth_base(shop, doc.api_base_url, ShopifyConnector.api_hosts)


def _shop_key(state: str) -> str:
	return frappe.cache.make_key(f"kraal_oauth_shop::{state}")


def _take_shop(state: str) -> str | None:
	if not state:
		return None
	shop = frappe.cache.getdel(_shop_key(state))
	return shop.decode() if isinstance(shop, bytes) else shop


# -- compliance webhooks --------------------------------------------------------------------------


@frappe.whitelist(allow_guest=True, methods=["POST"])
def compliance_webhook():
	"""customers/data_request, customers/redact and shop/redact: 200 when the delivery is signed by the
	app's secret of an integration of the store it names, 401 otherwise (engine/webhooks.serve).

	What the site does, since ERPNext's books must stay as they were posted: each request is recorded as
	a comment on the integration, naming the ERPNext documents linked to the customer and orders, for a
	person to answer or to anonymise what the law allows; shop/redact also disconnects the integration and
	removes the store's access token. Nothing is deleted."""
	return webhooks.serve(_take_compliance)


def _take_compliance(body: bytes) -> dict:
	headers = frappe.request.headers
	signed = signature(headers)
	signers = hmac_signers(body, signed, _app_secrets(shop_domain(headers)))
	request = compliance.read(body, headers)
	key = delivery_key(body, webhook_id(headers) or "")
	accepted = False
	for name in {signer.partition("::")[0] for signer in signers}:
		if webhooks.first_delivery(name, key):
			_act_on(frappe.get_doc("Kraal Integration", name), request)
			accepted = True
	return {"accepted": accepted}


def _app_secrets(domain: str) -> dict[str, str]:
	"""The secrets that may sign a store's deliveries, per integration of the store: the app's client
	secret (connected through OAuth) and the Webhook Secret (a custom app's API secret key)."""
	if not domain:
		return {}
	secrets = {}
	for name in frappe.get_all(
		"Kraal Integration", filters={"vendor": VENDOR, "external_account": domain}, pluck="name"
	):
		for fieldname in ("client_secret", "webhook_secret"):
			secret = get_decrypted_password("Kraal Integration", name, fieldname, raise_exception=False)
			if secret:
				secrets[f"{name}::{fieldname}"] = secret
	return secrets


def _act_on(doc, request: compliance.ComplianceRequest) -> None:
	linked = _linked_documents(doc.name, [request.customer_id, *request.order_ids])
	documents = ", ".join(f"{doctype} {name}" for doctype, name in linked) or _("none")
	if request.topic == compliance.SHOP_REDACT:
		remove_passwords(doc, ("access_token",))
		doc.db_set(
			{
				"enabled": 0,
				"status": "Disconnected",
				"status_reason": _(
					"Shopify asked to erase the store's data (shop/redact): access token removed"
				),
				"granted_scopes": "",
				"webhooks_registered": 0,
			}
		)
		content = _(
			"Shopify asked to erase {0}'s data (shop/redact). The integration is disconnected and the store's "
			"access token removed; the documents it wrote stay in the books."
		).format(request.shop_domain)
	elif request.topic == compliance.CUSTOMER_REDACT:
		content = _(
			"Shopify asked to erase the data of customer {0} (customers/redact). Documents linked to the "
			"customer and orders {1}: {2}. Nothing was deleted: posted documents stay in the books; anonymise "
			"what the law allows by hand."
		).format(request.customer_id, ", ".join(request.order_ids) or _("none"), documents)
	else:
		content = _(
			"Shopify asked for the data held on customer {0} (customers/data_request {1}). Documents linked "
			"to the customer and orders {2}: {3}. Send the store owner what they hold."
		).format(
			request.customer_id,
			request.request_id or "",
			", ".join(request.order_ids) or _("none"),
			documents,
		)
	doc.add_comment("Info", content)


def _linked_documents(integration: str, external_ids: list[str | None]) -> list[tuple[str, str]]:
	"""The documents the integration wrote for these Shopify records."""
	wanted = [i for i in external_ids if i]
	if not wanted:
		return []
	return frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration, "external_id": ("in", wanted)},
		fields=["reference_doctype", "reference_name"],
		order_by="reference_doctype, reference_name",
		as_list=True,
	)
