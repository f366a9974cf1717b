"""Amazon's website authorization workflow without a site: Seller Central's consent URL per region, what
Amazon's redirect back must be to connect anything, and the consent and LWA code exchange against the
emulator over HTTP, ending in SP-API calls made with the refresh token it gave."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulators.amazon import AmazonEmulator
from kraal_connect.connectors.amazon import authorization
from kraal_connect.connectors.amazon.authorization import Refused
from kraal_connect.connectors.amazon.client import LWA_TOKEN_URL, AmazonApi
from kraal_connect.engine.errors import AuthenticationError, TransientError
from tests.standalone.amazon_support import CA, FIXTURES, US, lwa_credentials

pytest_plugins = ("tests.standalone.amazon_fixtures",)

LWA = json.loads((FIXTURES / "lwa.json").read_text())
APP_ID = next(iter(LWA["applications"]))
SELLER = LWA["selling_partner_id"]
CLIENT_ID, CLIENT_SECRET, _ = lwa_credentials()
REDIRECT = "https://books.example/api/method/kraal_connect.connectors.amazon.oauth.callback"
SP_API_HOSTS = ("sellingpartnerapi-na.amazon.com", "sandbox.sellingpartnerapi-na.amazon.com")
STATE = "5ca1ab1e"


@pytest.mark.parametrize(
	"region, consent",
	[
		("na", "https://sellercentral.amazon.com"),
		("eu", "https://sellercentral-europe.amazon.com"),
		("fe", "https://sellercentral.amazon.co.jp"),
	],
)
def test_a_seller_consents_at_the_seller_central_of_their_region(region, consent):
	assert authorization.hosts(region, None, SP_API_HOSTS) == authorization.Hosts(consent, LWA_TOKEN_URL)


def test_the_sandbox_still_consents_at_seller_central_and_an_emulator_serves_both():
	sandbox = authorization.hosts("na", "https://sandbox.sellingpartnerapi-na.amazon.com", SP_API_HOSTS)
	assert sandbox == authorization.Hosts("https://sellercentral.amazon.com", LWA_TOKEN_URL)
	emulator = authorization.hosts("na", "http://127.0.0.1:8703/", SP_API_HOSTS)
	assert emulator == authorization.Hosts("http://127.0.0.1:8703", "http://127.0.0.1:8703/auth/o2/token")
	with pytest.raises(ValueError):
		authorization.hosts("us", None, SP_API_HOSTS)


@pytest.mark.parametrize("draft, version", [(False, None), (True, ["beta"])])
def test_the_consent_url_names_the_app_the_state_and_the_redirect(draft, version):
	url = authorization.consent_url("https://sellercentral.amazon.com", APP_ID, STATE, REDIRECT, draft=draft)
	parts = urlsplit(url)
	assert (parts.netloc, parts.path) == ("sellercentral.amazon.com", "/apps/authorize/consent")
	query = parse_qs(parts.query)
	assert query.pop("version", None) == version
	assert query == {"application_id": [APP_ID], "state": [STATE], "redirect_uri": [REDIRECT]}


def test_a_redirect_with_a_code_gives_the_seller_and_the_code():
	query = {"selling_partner_id": SELLER, "spapi_oauth_code": "ANcode"}
	assert authorization.read_redirect(query, None) == authorization.Consent(SELLER, "ANcode")
	assert authorization.read_redirect(query, SELLER).code == "ANcode"  # the same seller again


@pytest.mark.parametrize(
	"query, connected, reason",
	[
		({"error": "access_denied", "error_description": "The seller declined"}, None, "The seller declined"),
		({"selling_partner_id": SELLER}, None, "no selling partner id or authorization code"),
		({"spapi_oauth_code": "ANcode"}, None, "no selling partner id or authorization code"),
		(
			{"selling_partner_id": "A1OTHERSELLER", "spapi_oauth_code": "ANcode"},
			SELLER,
			"connected to seller",
		),
	],
	ids=["declined", "no code", "no seller", "another seller"],
)
def test_a_redirect_that_connects_nothing_is_refused(query, connected, reason):
	with pytest.raises(Refused, match=reason):
		authorization.read_redirect(query, connected)


# -- against the emulator -------------------------------------------------------------------------


def consent(emulator: AmazonEmulator, app_id: str = APP_ID, draft: bool = False) -> requests.Response:
	url = authorization.consent_url(emulator.url, app_id, STATE, REDIRECT, draft=draft)
	return requests.get(url, allow_redirects=False, timeout=10)


def redirect_query(emulator: AmazonEmulator) -> dict[str, str]:
	answer = consent(emulator)
	assert answer.status_code == 302
	location = urlsplit(answer.headers["Location"])
	assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
	return {k: v[0] for k, v in parse_qs(location.query).items()}


def exchange(
	emulator: AmazonEmulator, code: str, secret: str = CLIENT_SECRET, redirect: str = REDIRECT
) -> str:
	token_url = authorization.hosts("na", emulator.url, SP_API_HOSTS).token_url
	return authorization.exchange_code(token_url, CLIENT_ID, secret, code, redirect)


def seller_api(emulator: AmazonEmulator, refresh_token: str) -> AmazonApi:
	return AmazonApi(
		CLIENT_ID,
		CLIENT_SECRET,
		refresh_token,
		endpoint=emulator.url,
		token_url=f"{emulator.url}/auth/o2/token",
		timeout=10,
	)


def test_a_seller_connected_through_the_emulator_is_read_with_the_refresh_token_it_gave(amazon_emulator):
	query = redirect_query(amazon_emulator)
	assert (query["state"], query["selling_partner_id"]) == (STATE, SELLER)
	consented = authorization.read_redirect(query, None)
	refresh_token = exchange(amazon_emulator, consented.code)
	assert refresh_token.startswith("Atzr|")
	api = seller_api(amazon_emulator, refresh_token)
	try:
		assert [p["marketplace"]["id"] for p in api.marketplaces()] == [US, CA]
	finally:
		api.close()


def test_a_code_works_once(amazon_emulator):
	code = redirect_query(amazon_emulator)["spapi_oauth_code"]
	exchange(amazon_emulator, code)
	with pytest.raises(AuthenticationError, match="invalid_grant"):
		exchange(amazon_emulator, code)


def test_a_code_expires_after_five_minutes(amazon_emulator):
	code = redirect_query(amazon_emulator)["spapi_oauth_code"]
	amazon_emulator.advance(301)
	with pytest.raises(AuthenticationError, match="invalid_grant"):
		exchange(amazon_emulator, code)


def test_a_code_is_exchanged_only_for_its_redirect_uri_and_its_apps_secret(amazon_emulator):
	code = redirect_query(amazon_emulator)["spapi_oauth_code"]
	with pytest.raises(AuthenticationError, match="invalid_client"):
		exchange(amazon_emulator, code, secret="not-the-secret")
	with pytest.raises(AuthenticationError, match="invalid_grant"):
		exchange(amazon_emulator, code, redirect="https://elsewhere.example/callback")


def test_a_declined_consent_connects_nothing(amazon_emulator):
	requests.post(f"{amazon_emulator.url}/_emulator/consent", json={"deny": True}, timeout=10)
	query = redirect_query(amazon_emulator)
	assert query["state"] == STATE and "spapi_oauth_code" not in query
	with pytest.raises(Refused, match="The seller declined"):
		authorization.read_redirect(query, None)


def test_another_seller_consenting_is_refused_for_a_connected_integration(amazon_emulator):
	requests.post(
		f"{amazon_emulator.url}/_emulator/consent", json={"selling_partner_id": "A1OTHERSELLER"}, timeout=10
	)
	with pytest.raises(Refused, match="create another integration for seller A1OTHERSELLER"):
		authorization.read_redirect(redirect_query(amazon_emulator), SELLER)


def test_a_revoked_refresh_token_is_refused_by_lwa(amazon_emulator):
	refresh_token = exchange(amazon_emulator, redirect_query(amazon_emulator)["spapi_oauth_code"])
	requests.post(f"{amazon_emulator.url}/_emulator/revoke", json={}, timeout=10)
	api = seller_api(amazon_emulator, refresh_token)
	try:
		with pytest.raises(AuthenticationError, match="invalid_grant"):
			api.marketplaces()
	finally:
		api.close()


def test_an_unknown_app_gets_no_consent_page(amazon_emulator):
	assert consent(amazon_emulator, app_id="amzn1.sp.solution.unknown").status_code == 400


def test_a_draft_app_is_authorized_only_with_version_beta(private_amazon_emulator, amazon_data):
	lwa = json.loads((amazon_data / "lwa.json").read_text())
	lwa["applications"][APP_ID]["draft"] = True
	(amazon_data / "lwa.json").write_text(json.dumps(lwa))
	refused = consent(private_amazon_emulator)
	assert (refused.status_code, refused.text[:6]) == (400, "MD1000")
	assert consent(private_amazon_emulator, draft=True).status_code == 302


def test_lwa_down_at_the_exchange_is_transient(amazon_emulator):
	amazon_emulator.add_fault(path="/auth/o2/token", status=503)
	with pytest.raises(TransientError):
		exchange(amazon_emulator, "ANany")
