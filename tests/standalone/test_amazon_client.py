"""python-amazon-sp-api's own clients, over real HTTP, against the local SP-API emulator."""

import gzip
from contextlib import closing

import httpx
import pytest

from emulators.amazon import AmazonEmulator
from kraal_connect.connectors.amazon.client import AmazonApi
from kraal_connect.engine.errors import AuthenticationError, SyncError, TransientError
from kraal_connect.engine.retry import ApiCaller, RetryPolicy
from tests.standalone.amazon_support import (
	CA,
	CA_SETTLEMENT,
	FIXTURES,
	FROZEN_NOW,
	MARKETPLACES,
	US,
	US_SETTLEMENT,
	EmulatorSleep,
	caller_for,
	lwa_credentials,
	make_api,
	settlement_text,
)

pytest_plugins = ("tests.standalone.amazon_fixtures",)

SINCE = "2026-10-01T00:00:00Z"


def paths(emulator, prefix=""):
	return [r["path"] for r in emulator.requests if r["path"].startswith(prefix)]


def test_one_lwa_token_serves_every_api_and_participating_marketplaces_are_listed(
	amazon_api, amazon_emulator
):
	names = [(m["marketplace"]["id"], m["marketplace"]["name"]) for m in amazon_api.marketplaces()]
	assert names == [(US, "Amazon.com"), (CA, "Amazon.ca")]  # not Amazon.com.mx, where it does not sell
	amazon_api.orders(MARKETPLACES, SINCE)
	amazon_api.settlement_reports(MARKETPLACES)
	amazon_api.catalog_item("B0KRAAL001", US)
	amazon_api.inventory_summaries(US)
	assert paths(amazon_emulator) == [
		"/auth/o2/token",
		"/sellers/v1/marketplaceParticipations",
		"/orders/v0/orders",
		"/reports/2021-06-30/reports",
		"/catalog/2022-04-01/items/B0KRAAL001",
		"/fba/inventory/v1/summaries",
	]


def test_orders_page_with_next_token_across_both_marketplaces(amazon_api):
	pages, token = [], None
	while True:
		orders, token = amazon_api.orders(MARKETPLACES, SINCE, token, page_size=3)
		pages.append([o["AmazonOrderId"] for o in orders])
		if not token:
			break
	assert pages == [
		["111-4827361-0012001", "111-4827361-0012002", "702-5550101-0020001"],
		["111-4827361-0012003", "111-4827361-0012005", "111-4827361-0012004"],
		["702-5550101-0020002"],
	]
	later, _ = amazon_api.orders([CA], "2026-10-10T00:00:00Z")
	assert [o["AmazonOrderId"] for o in later] == ["702-5550101-0020002"]


def test_order_items_page_with_next_token(amazon_api, amazon_emulator):
	amazon_emulator.order_items_page_size = 1
	first, token = amazon_api.order_items("111-4827361-0012002")
	second, last = amazon_api.order_items("111-4827361-0012002", token)
	assert [i["SellerSKU"] for i in first + second] == ["KR-TOTE-002", "KR-MUG-001"]
	assert (token is not None, last) == (True, None)
	assert first[0]["ItemPrice"] == {"CurrencyCode": "USD", "Amount": "39.99"}


def test_settlement_reports_page_newest_first_and_their_documents_come_gunzipped(amazon_api, amazon_emulator):
	first, token = amazon_api.settlement_reports(MARKETPLACES, page_size=1)
	second, last = amazon_api.settlement_reports(MARKETPLACES, next_token=token)
	assert [r["reportId"] for r in first + second] == ["52713019002", "52713019001"]
	assert last is None
	assert amazon_api.report_document(US_SETTLEMENT) == settlement_text(US_SETTLEMENT)
	assert paths(amazon_emulator)[-2:] == [
		f"/reports/2021-06-30/documents/{US_SETTLEMENT}",
		f"/tortuga/{US_SETTLEMENT}",
	]


def test_the_document_url_serves_gzip_as_amazon_says(amazon_api):
	meta = amazon_api.reports.get_report_document(CA_SETTLEMENT).payload
	assert meta["compressionAlgorithm"] == "GZIP"
	body = httpx.get(meta["url"]).content
	assert body[:2] == b"\x1f\x8b"
	assert gzip.decompress(body).decode() == settlement_text(CA_SETTLEMENT)


def test_settlement_reports_of_one_marketplace_only(amazon_api):
	reports, _ = amazon_api.settlement_reports([US])
	assert [r["reportId"] for r in reports] == ["52713019001"]


def test_catalog_item_and_an_unknown_asin(amazon_api):
	item = amazon_api.catalog_item("B0KRAAL004", CA)
	assert item["asin"] == "B0KRAAL004"
	assert item["summaries"][0]["itemName"] == "Kraal Wide Brim Sun Hat, UPF 50, Khaki, L"
	assert amazon_api.catalog_item("B0NOTHERE0", US) is None


def test_fba_inventory_pages_with_details(amazon_api, amazon_emulator):
	amazon_emulator.inventory_page_size = 2
	first, token = amazon_api.inventory_summaries(US)
	second, last = amazon_api.inventory_summaries(US, token)
	assert [s["sellerSku"] for s in first + second] == ["KR-MUG-001", "KR-TOTE-002", "KR-HAT-004"]
	assert last is None
	assert first[0]["inventoryDetails"]["inboundShippedQuantity"] == 48


def test_get_orders_beyond_its_burst_is_throttled_and_the_caller_waits_one_requests_worth(
	amazon_api, amazon_emulator
):
	amazon_emulator.set_rate_limit("getOrders", burst=1)
	amazon_api.orders(MARKETPLACES, SINCE)
	with pytest.raises(TransientError) as raised:
		amazon_api.orders(MARKETPLACES, SINCE)
	assert raised.value.retry_after == pytest.approx(1 / 0.0167)
	sleep = EmulatorSleep(amazon_emulator)
	orders, _ = ApiCaller(sleep=sleep)(amazon_api.orders, MARKETPLACES, SINCE)
	assert len(orders) == 7
	assert sleep.slept == [pytest.approx(59.88, abs=0.01)]
	assert paths(amazon_emulator, "/orders/v0/orders") == ["/orders/v0/orders"] * 4


def test_without_the_wait_the_bucket_stays_empty(amazon_api, amazon_emulator):
	amazon_emulator.set_rate_limit("getOrders", burst=1)
	amazon_api.orders(MARKETPLACES, SINCE)
	slept = []
	with pytest.raises(TransientError):
		ApiCaller(RetryPolicy(max_attempts=3), sleep=slept.append)(amazon_api.orders, MARKETPLACES, SINCE)
	assert len(slept) == 2


def test_rate_limit_header_and_throttle_body_are_sp_apis(amazon_api, amazon_emulator):
	token = amazon_api._lwa.get_auth().access_token
	amazon_emulator.set_rate_limit("getOrderItems", burst=1)
	url = f"{amazon_emulator.url}/orders/v0/orders/111-4827361-0012001/orderItems"
	ok = httpx.get(url, headers={"x-amz-access-token": token})
	throttled = httpx.get(url, headers={"x-amz-access-token": token})
	assert (ok.status_code, ok.headers["x-amzn-RateLimit-Limit"]) == (200, "0.5")
	assert (throttled.status_code, throttled.headers["x-amzn-RateLimit-Limit"]) == (429, "0.5")
	assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"


def test_retry_after_wins_over_the_rate_limit(amazon_api, amazon_emulator):
	amazon_emulator.add_fault(
		path="/fba/inventory/v1/summaries",
		status=429,
		headers={"Retry-After": "7", "x-amzn-RateLimit-Limit": "2"},
		body={"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota.", "details": ""}]},
	)
	caller = caller_for(amazon_emulator)
	summaries, _ = caller(amazon_api.inventory_summaries, US)
	assert len(summaries) == 3
	assert caller.sleep.slept == [7.0]


def test_a_gateway_error_page_is_transient_not_an_empty_answer(amazon_api, amazon_emulator):
	amazon_emulator.add_fault(path="/orders/v0/orders", status=502, body="<html>Bad Gateway</html>")
	with pytest.raises(TransientError, match="answered 502"):
		amazon_api.orders(MARKETPLACES, SINCE)
	orders, _ = amazon_api.orders(MARKETPLACES, SINCE)
	assert len(orders) == 7


def test_an_access_token_sp_api_does_not_know_needs_a_person(amazon_api, amazon_emulator):
	amazon_api.marketplaces()
	amazon_emulator.reset_state()  # the emulator forgets the tokens it issued
	with pytest.raises(AuthenticationError, match="revoked, malformed or invalid"):
		amazon_api.marketplaces()


def test_an_expired_access_token_is_renewed_on_the_retry(amazon_api, amazon_emulator):
	amazon_api.marketplaces()
	amazon_emulator.advance(3600)  # the client's own clock says the token still has an hour
	with pytest.raises(TransientError, match="has expired"):
		amazon_api.marketplaces()
	caller = caller_for(amazon_emulator)
	assert len(caller(amazon_api.marketplaces)) == 2
	assert paths(amazon_emulator, "/auth/o2/token") == ["/auth/o2/token"] * 2


def test_refused_refresh_token_or_client_secret_is_an_authentication_error(amazon_emulator):
	with closing(make_api(amazon_emulator, refresh_token="Atzr|revoked")) as api:
		with pytest.raises(AuthenticationError, match="invalid_grant"):
			api.marketplaces()
	with closing(make_api(amazon_emulator, client_secret="wrong")) as api:
		with pytest.raises(AuthenticationError, match="invalid_client: Client authentication failed"):
			api.marketplaces()


def test_tokens_are_not_shared_between_connections_with_the_same_refresh_token(amazon_emulator):
	"""The library's token cache would hand the second connection the first emulator's token."""
	other = AmazonEmulator(FIXTURES, clock=lambda: FROZEN_NOW).start()
	try:
		with closing(make_api(amazon_emulator)) as first, closing(make_api(other)) as second:
			assert len(first.marketplaces()) == len(second.marketplaces()) == 2
		assert (
			paths(amazon_emulator, "/auth/o2/token") == paths(other, "/auth/o2/token") == ["/auth/o2/token"]
		)
	finally:
		other.stop()


def test_credentials_never_come_from_the_environment(amazon_emulator, monkeypatch):
	client_id, secret, refresh_token = lwa_credentials()
	monkeypatch.setenv("LWA_APP_ID", client_id)
	monkeypatch.setenv("LWA_CLIENT_SECRET", secret)
	monkeypatch.setenv("SP_API_REFRESH_TOKEN", refresh_token)
	with pytest.raises(AuthenticationError, match="are all required"):
		make_api(amazon_emulator, client_id="", client_secret="")


def test_a_document_url_that_has_expired_is_transient(amazon_api, amazon_emulator):
	amazon_emulator.add_fault(
		path="/tortuga/*",
		status=403,
		body="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
	)
	with pytest.raises(TransientError, match="download answered 403"):
		amazon_api.report_document(US_SETTLEMENT)
	assert amazon_api.report_document(US_SETTLEMENT) == settlement_text(US_SETTLEMENT)


def test_a_bad_request_is_neither_transient_nor_authentication(amazon_api):
	with pytest.raises(SyncError) as raised:
		amazon_api.orders([], SINCE)
	assert type(raised.value) is SyncError
	assert "InvalidInput: MarketplaceIds is required." in str(raised.value)


def test_an_unreachable_endpoint_is_transient():
	url = "http://127.0.0.1:9"
	with closing(
		AmazonApi(*lwa_credentials(), endpoint=url, token_url=f"{url}/auth/o2/token", timeout=2)
	) as api:
		with pytest.raises(TransientError, match="network"):
			api.marketplaces()
