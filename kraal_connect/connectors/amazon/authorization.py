"""Amazon's SP-API website authorization workflow, the part that needs no site: Seller Central's consent
URL for the app, the checks of Amazon's redirect back, and the exchange of the spapi_oauth_code for the
seller's refresh token at Login with Amazon.

connectors/amazon/oauth.py binds it to the site; the standalone tests drive it against the emulator.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from kraal_connect.connectors.amazon.client import LWA_TOKEN_URL
from kraal_connect.connectors.token_exchange import token_answer
from kraal_connect.engine.endpoints import EndpointNotAllowed, check_endpoint
from kraal_connect.engine.errors import TransientError

# Seller Central of each SP-API region: where a seller of that region consents.
SELLER_CENTRAL = {
	"na": "https://sellercentral.amazon.com",
	"eu": "https://sellercentral-europe.amazon.com",
	"fe": "https://sellercentral.amazon.co.jp",
}
CONSENT_PATH = "/apps/authorize/consent"
TOKEN_PATH = "/auth/o2/token"


class Refused(Exception):
	"""Amazon's redirect back connects nothing; the message says why, for the user."""


@dataclass(frozen=True)
class Hosts:
	consent: str  # Seller Central (or the emulator)
	token_url: str  # Login with Amazon's token endpoint (or the emulator's)


def hosts(region: str, api_base_url: str | None, vendor_hosts: tuple[str, ...]) -> Hosts:
	"""Amazon's own hosts for the region, unless the API Base URL names another host than SP-API's (the
	emulator, which serves consent and LWA itself; a site allows it only with
	kraal_allow_custom_endpoints). An SP-API sandbox host still consents at Seller Central."""
	if region not in SELLER_CENTRAL:
		raise ValueError(f"SP-API region must be one of {sorted(SELLER_CENTRAL)}, not {region!r}")
	try:
		check_endpoint("Amazon", vendor_hosts, api_base_url)
	except EndpointNotAllowed:
		base = api_base_url.rstrip("/")
		return Hosts(base, f"{base}{TOKEN_PATH}")
	return Hosts(SELLER_CENTRAL[region], LWA_TOKEN_URL)


def consent_url(consent_host: str, app_id: str, state: str, redirect_uri: str, draft: bool = False) -> str:
	"""Seller Central's consent page for the app. A draft app (not yet published in the Appstore) is
	authorized with version=beta, as Amazon requires until it is published."""
	query = {"application_id": app_id, "state": state, "redirect_uri": redirect_uri}
	if draft:
		query["version"] = "beta"
	return f"{consent_host}{CONSENT_PATH}?{urlencode(query)}"


@dataclass(frozen=True)
class Consent:
	selling_partner_id: str
	code: str


def read_redirect(query: Mapping[str, str | None], connected_seller: str | None) -> Consent:
	"""The seller and the authorization code of Amazon's redirect back; Refused when the seller declined,
	either is missing, or it is another seller than the one the integration is connected to (its links,
	mappings and cursors are that seller's)."""
	if query.get("error"):
		reason = query.get("error_description") or query["error"]
		raise Refused(f"Amazon did not authorize the app: {reason}")
	seller, code = query.get("selling_partner_id"), query.get("spapi_oauth_code")
	if not seller or not code:
		raise Refused("Amazon sent no selling partner id or authorization code")
	if connected_seller and seller != connected_seller:
		raise Refused(
			f"this integration is connected to seller {connected_seller}; create another integration for "
			f"seller {seller}"
		)
	return Consent(seller, code)


def exchange_code(
	token_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str, timeout: float = 30
) -> str:
	"""The seller's refresh token for the spapi_oauth_code (valid five minutes, once). A failure is not
	retried: the code would not work again; the user connects again."""
	form = {
		"grant_type": "authorization_code",
		"code": code,
		"redirect_uri": redirect_uri,
		"client_id": client_id,
		"client_secret": client_secret,
	}
	try:
		response = httpx.post(token_url, data=form, timeout=timeout)
	except httpx.TransportError as exc:
		raise TransientError(f"Login with Amazon: network: {type(exc).__name__}") from None
	answer = token_answer(
		"Login with Amazon", response.status_code, response.headers, response.json, "refresh_token"
	)
	return answer["refresh_token"]
