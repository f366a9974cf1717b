"""An integration's API Base URL may only name its vendor's own hosts, over https."""

import pytest

from kraal_connect.engine.endpoints import EndpointNotAllowed, check_endpoint

HOSTS = {
	"Plaid": ("sandbox.plaid.com", "development.plaid.com", "production.plaid.com"),
	"QuickBooks Online": ("quickbooks.api.intuit.com", "sandbox-quickbooks.api.intuit.com"),
	"Shopify": ("*.myshopify.com",),
	"Amazon": ("sellingpartnerapi-na.amazon.com", "sellingpartnerapi-eu.amazon.com"),
	"Unknown": (),
}


@pytest.mark.parametrize(
	("vendor", "url"),
	[
		("Plaid", ""),
		("Plaid", None),
		("Plaid", "https://production.plaid.com"),
		("Plaid", "https://sandbox.plaid.com/"),
		("QuickBooks Online", "https://quickbooks.api.intuit.com"),
		("Shopify", "https://kraal-knives.myshopify.com"),
		("Amazon", "https://sellingpartnerapi-eu.amazon.com"),
		("Amazon", "https://sellingpartnerapi-na.amazon.com:443"),
	],
)
def test_the_vendors_own_hosts_are_accepted(vendor, url):
	check_endpoint(vendor, HOSTS[vendor], url)


@pytest.mark.parametrize(
	("vendor", "url"),
	[
		("Plaid", "http://production.plaid.com"),  # not https
		("Plaid", "https://production.plaid.com.evil.example"),
		("Plaid", "https://evil.example/production.plaid.com"),
		("Plaid", "https://production.plaid.com@evil.example"),
		("Plaid", "https://user:pw@production.plaid.com"),
		("Plaid", "https://production.plaid.com:8443"),
		("Plaid", "https://127.0.0.1:8701"),
		("QuickBooks Online", "https://sandbox.plaid.com"),  # another vendor's host
		("Shopify", "https://myshopify.com"),
		("Shopify", "https://a.b.myshopify.com"),
		("Shopify", "https://evil-myshopify.com"),
		("Amazon", "https://api.amazon.com.evil.example"),
		("Unknown", "https://example.com"),
	],
)
def test_any_other_address_is_refused(vendor, url):
	with pytest.raises(EndpointNotAllowed, match="own addresses over https"):
		check_endpoint(vendor, HOSTS[vendor], url)


def test_a_site_that_runs_emulators_allows_them_explicitly():
	check_endpoint("Plaid", HOSTS["Plaid"], "http://127.0.0.1:8701", allow_custom=True)
