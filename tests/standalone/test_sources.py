"""Where a synced document came from: its record type in words and its page in the vendor's admin."""

import pytest

from kraal_connect.connectors.amazon import sources as amazon
from kraal_connect.connectors.qbo import sources as qbo
from kraal_connect.connectors.shopify import sources as shopify
from kraal_connect.engine.sources import record_type_label


@pytest.mark.parametrize(
	("vendor", "external_type", "labels", "words"),
	[
		("Shopify", "order", None, "Shopify Order"),
		("Shopify", "order:invoice", None, "Shopify Order · Invoice"),
		("Shopify", "order:payment:5550001", None, "Shopify Order · Payment"),
		("Shopify", "order:restock:77:88", None, "Shopify Order · Restock"),
		("Shopify", "product:variant:4242", None, "Shopify Product · Variant"),
		("Shopify", "inventory_level", shopify.RECORD_TYPES, "Shopify Inventory level"),
		("QuickBooks Online", "journal_entry", None, "QuickBooks Online Journal entry"),
		("QuickBooks Online", "tax_code:sales", None, "QuickBooks Online Tax code · Sales"),
		("Amazon", "fba_inventory:12 from 10", amazon.RECORD_TYPES, "Amazon FBA inventory"),
		(
			"Plaid",
			"account:ledger",
			{"account": "Bank account", "ledger": "Ledger account"},
			"Plaid Bank account · Ledger account",
		),
	],
)
def test_record_type_in_words(vendor, external_type, labels, words):
	assert record_type_label(vendor, external_type, labels) == words


def test_shopify_admin_pages():
	shop = "Kraal-Test.myshopify.com"
	base = "https://admin.shopify.com/store/kraal-test"
	assert shopify.admin_url(shop, "order", "gid://shopify/Order/5001") == f"{base}/orders/5001"
	# An order's invoice, payment or refund opens the order it belongs to.
	assert shopify.admin_url(shop, "order:payment:77", "gid://shopify/Order/5001") == f"{base}/orders/5001"
	assert shopify.admin_url(shop, "customer", "gid://shopify/Customer/9") == f"{base}/customers/9"
	assert shopify.admin_url(shop, "product", "gid://shopify/Product/3") == f"{base}/products/3"
	assert (
		shopify.admin_url(shop, "product:variant:31", "gid://shopify/Product/3")
		== f"{base}/products/3/variants/31"
	)
	assert shopify.admin_url(shop, "inventory_level", "gid://shopify/InventoryLevel/1@2026") is None
	assert shopify.admin_url(None, "order", "gid://shopify/Order/5001") is None


def test_quickbooks_pages_by_environment():
	assert qbo.admin_url("production", "invoice", "130") == "https://app.qbo.intuit.com/app/invoice?txnId=130"
	assert (
		qbo.admin_url("sandbox", "payment", "41")
		== "https://app.sandbox.qbo.intuit.com/app/recvpayment?txnId=41"
	)
	# A sales receipt's payment opens the sales receipt.
	assert (
		qbo.admin_url("sandbox", "sales_receipt:payment", "12")
		== "https://app.sandbox.qbo.intuit.com/app/salesreceipt?txnId=12"
	)
	assert qbo.admin_url(None, "journal_entry", "8") == "https://app.qbo.intuit.com/app/journal?txnId=8"
	assert qbo.admin_url("production", "customer:address", "58") == (
		"https://app.qbo.intuit.com/app/customerdetail?nameId=58"
	)
	assert (
		qbo.admin_url("production", "vendor", "31") == "https://app.qbo.intuit.com/app/vendordetail?nameId=31"
	)
	assert qbo.admin_url("production", "item", "5") is None


def test_seller_central_by_marketplace_then_region():
	order = "112-0000001-0000001"
	assert amazon.admin_url("na", "ATVPDKIKX0DER", "order", order) == (
		f"https://sellercentral.amazon.com/orders-v3/order/{order}"
	)
	assert amazon.admin_url("eu", "A1PA6795UKMFR9", "order:invoice", order) == (
		f"https://sellercentral.amazon.de/orders-v3/order/{order}"
	)
	assert amazon.admin_url("fe", None, "order", order) == (
		f"https://sellercentral.amazon.co.jp/orders-v3/order/{order}"
	)
	assert amazon.admin_url("eu", "UNLISTED", "order", order) == (
		f"https://sellercentral-europe.amazon.com/orders-v3/order/{order}"
	)
	assert amazon.admin_url("na", "ATVPDKIKX0DER", "settlement", "1234") is None
