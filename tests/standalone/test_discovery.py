"""Discover: the keys a vendor account's records need, read from the emulators as the sync would read
them, and the suggestion of the one ERPNext record that obviously fits each."""

import pytest

from kraal_connect.connectors.amazon import discovery as amazon_discovery
from kraal_connect.connectors.amazon import mapping as amazon
from kraal_connect.connectors.amazon.streams import orders_stream, settlements_stream
from kraal_connect.connectors.qbo import discovery as qbo_discovery
from kraal_connect.connectors.shopify import discovery as shopify_discovery
from kraal_connect.connectors.shopify.mapping import GATEWAY_MAPPING, LOCATION_MAPPING, TAX_MAPPING
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.suggestions import Candidate, Discovered, suggest, unique, words
from kraal_connect.engine.sync import read_pages
from tests.standalone.amazon_support import CA, FEE_ACCOUNTS, US, caller_for

pytest_plugins = ("tests.standalone.shopify_fixtures", "tests.standalone.amazon_fixtures")

ACCOUNTS = [
	Candidate("Shopify Payments Clearing - KSC", "Shopify Payments Clearing"),
	Candidate("PayPal Clearing - KSC", "PayPal Clearing"),
	Candidate("Manual Payments - KSC", "Manual Payments"),
	Candidate("NY Sales Tax - KSC", "NY Sales Tax"),
	Candidate("NJ Sales Tax - KSC", "NJ Sales Tax"),
	Candidate("4000 - Sales - KSC", "Sales", "4000"),
	Candidate("Sales Returns - KSC", "Sales Returns"),
	Candidate("st 4 - KSC", "st 4"),
]


# -- suggestions -----------------------------------------------------------------------------------


def test_words_are_lower_case_singular_and_split_at_anything_not_a_letter_or_digit():
	assert words("Shopify Payments Clearing") == ("shopify", "payment", "clearing")
	assert words("shopify_payments") == ("shopify", "payment")
	assert words("Main Warehouse - KSC") == ("main", "warehouse", "ksc")
	assert words("Gross") == ("gross",)  # a double s is no plural


@pytest.mark.parametrize(
	("found", "expected"),
	[
		# Named like it: every word of the vendor's name (or of an alias) in the account's.
		(
			Discovered(GATEWAY_MAPPING, "shopify_payments", "Shopify Payments"),
			"Shopify Payments Clearing - KSC",
		),
		(Discovered(GATEWAY_MAPPING, "paypal", "PayPal"), "PayPal Clearing - KSC"),
		(Discovered(GATEWAY_MAPPING, "manual", "manual"), "Manual Payments - KSC"),
		(
			Discovered(GATEWAY_MAPPING, "paypal", "PayPal Express Checkout", aliases=("paypal",)),
			"PayPal Clearing - KSC",
		),
		# An id is no name: QuickBooks account 4 is not the account named "st 4".
		(Discovered("QuickBooks Account", "4", "Undeposited Funds"), None),
		# The same name wins over names that merely hold its words.
		(Discovered("QuickBooks Account", "1", "Sales"), "4000 - Sales - KSC"),
		# The same number wins over everything.
		(Discovered("QuickBooks Account", "7", "Income", "4000"), "4000 - Sales - KSC"),
		# Two accounts fit as well: no suggestion.
		(Discovered(TAX_MAPPING, "Sales Tax", "Sales Tax"), None),
		# Nothing fits: no suggestion.
		(Discovered(TAX_MAPPING, "NY State Tax", "NY State Tax"), None),
		(Discovered(GATEWAY_MAPPING, "gift_card", "Gift card"), None),
	],
)
def test_a_suggestion_is_the_one_record_that_obviously_fits(found, expected):
	assert suggest(found, ACCOUNTS) == expected


def test_a_number_two_accounts_share_suggests_neither_nor_falls_back_to_the_name():
	twins = [Candidate("4000 - Sales - A", "Sales", "4000"), Candidate("4000 - Other - A", "Other", "4000")]
	assert suggest(Discovered("QuickBooks Account", "1", "Sales", "4000"), twins) is None


def test_a_warehouse_is_suggested_by_its_name_without_the_company_abbreviation():
	warehouses = [Candidate("Main Warehouse - KSC", "Main Warehouse"), Candidate("Stores - KSC", "Stores")]
	location = Discovered(LOCATION_MAPPING, "gid://shopify/Location/70001", "Main Warehouse")
	assert suggest(location, warehouses) == "Main Warehouse - KSC"


def test_each_key_is_listed_once_with_the_first_name_met():
	found = unique(
		[
			Discovered(TAX_MAPPING, "NY State Tax", "NY State Tax"),
			Discovered(GATEWAY_MAPPING, "paypal", "PayPal"),
			Discovered(TAX_MAPPING, "NY State Tax", "other"),
			Discovered(TAX_MAPPING, "", "no key"),
		]
	)
	assert [(d.key_type, d.key, d.name) for d in found] == [
		(TAX_MAPPING, "NY State Tax", "NY State Tax"),
		(GATEWAY_MAPPING, "paypal", "PayPal"),
	]


# -- Shopify -----------------------------------------------------------------------------------------


def test_shopify_lists_every_location_gateway_and_tax_title_of_the_store(shared_shopify):
	caller = ApiCaller(sleep=lambda s: None)
	found = unique(shopify_discovery.discover(shared_shopify.api, caller, None))
	by_type = {}
	for item in found:
		by_type.setdefault(item.key_type, {})[item.key] = item.name
	assert by_type[LOCATION_MAPPING] == {
		"gid://shopify/Location/70001": "Main Warehouse",
		"gid://shopify/Location/70002": "Brooklyn Store",
	}
	# Every gateway that moved money: order #1006's manual payment is still pending, and books nothing.
	assert by_type[GATEWAY_MAPPING] == {
		"shopify_payments": "Shopify Payments",
		"paypal": "PayPal Express Checkout",
	}
	assert set(by_type[TAX_MAPPING]) == {"NJ State Tax", "NY State Tax", "New York City Tax"}
	# One page: Discover reads the store's keys, not its whole orders.
	assert caller.calls == 2


def test_shopify_reads_only_the_orders_from_sync_from_on(shared_shopify):
	found = shopify_discovery.discover(shared_shopify.api, ApiCaller(), "2030-01-01T00:00:00Z")
	assert {item.key_type for item in found} == {LOCATION_MAPPING}


def test_a_failed_payment_names_no_gateway():
	order = {
		"taxLines": [{"title": "NY State Tax"}],
		"transactions": [
			{"kind": "SALE", "status": "FAILURE", "gateway": "bogus"},
			{"kind": "SALE", "status": "SUCCESS", "gateway": "paypal", "formattedGateway": "PayPal"},
		],
		"refunds": [
			{"transactions": {"nodes": [{"kind": "REFUND", "status": "SUCCESS", "gateway": "manual"}]}}
		],
	}
	assert [(d.key_type, d.key, d.name) for d in shopify_discovery.order_keys(order)] == [
		(GATEWAY_MAPPING, "paypal", "PayPal"),
		(GATEWAY_MAPPING, "manual", "manual"),
		(TAX_MAPPING, "NY State Tax", "NY State Tax"),
	]


# -- Amazon ------------------------------------------------------------------------------------------


def test_amazon_lists_every_fee_type_currency_charge_and_network_the_sync_will_meet(
	amazon_emulator, amazon_api
):
	caller = caller_for(amazon_emulator)
	orders = read_pages(orders_stream(amazon_api, caller, [US, CA], "2026-10-01T00:00:00Z").fetch, caller)
	reports = read_pages(settlements_stream(amazon_api, caller, [US, CA]).fetch, caller)
	found = unique(
		amazon_discovery.discover(
			[c.record for c in orders if c.record],
			[c.record["flat_file"] for c in reports if c.record],
			{"Amazon.com", "Amazon.ca"},
		)
	)
	by_type = {}
	for item in found:
		by_type.setdefault(item.key_type, {})[item.key] = item.name
	assert set(by_type[amazon.FEE_TYPE]) == set(FEE_ACCOUNTS)
	assert by_type[amazon.FEE_TYPE]["ItemFees:Commission"] == "Commission (Order, ItemFees)"
	assert by_type[amazon.FEE_TYPE]["Refund ItemFees:Commission"] == "Commission (Refund, ItemFees)"
	assert by_type[amazon.FEE_TYPE]["Subscription Fee"] == "Subscription Fee"
	assert set(by_type[amazon.CLEARING]) == {"USD", "CAD"}
	assert set(by_type[amazon.ORDER_CHARGE]) == {
		"ShippingPrice",
		"ShippingDiscount",
		"PromotionDiscount",
		"ItemTax",
		"ShippingTax",
	}
	# The merchant's own network; Amazon's (AFN) and the synced marketplaces the sync sets up itself.
	assert by_type[amazon.FULFILMENT] == {"MFN": "Fulfilled by the merchant (MFN)"}
	assert amazon.MARKETPLACE not in by_type


def test_an_amazon_order_that_books_nothing_names_nothing():
	pending = {"OrderStatus": "Pending", "SalesChannel": "Amazon.de", "FulfillmentChannel": "MFN"}
	assert amazon_discovery.order_keys(pending, {"Amazon.com"}) == []
	shipped = {**pending, "OrderStatus": "Shipped", "OrderItems": []}
	assert [(d.key_type, d.key) for d in amazon_discovery.order_keys(shipped, {"Amazon.com"})] == [
		(amazon.MARKETPLACE, "Amazon.de"),
		(amazon.FULFILMENT, "MFN"),
	]


# -- QuickBooks ----------------------------------------------------------------------------------------


def test_quickbooks_accounts_keep_their_number_and_full_name():
	accounts = [{"Id": "35", "Name": "Checking", "FullyQualifiedName": "Bank:Checking", "AcctNum": "1010"}]
	rates = [{"Id": "3", "Name": "NY State"}]
	assert qbo_discovery.account_keys(accounts) == [
		Discovered("QuickBooks Account", "35", "Bank:Checking", "1010")
	]
	assert qbo_discovery.tax_rate_keys(rates, "Tax Rate") == [Discovered("Tax Rate", "3", "NY State")]
