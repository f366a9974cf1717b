import frappe

# vendor (Kraal Integration.vendor) -> its connector class
CONNECTORS = {
	"Plaid": "kraal_connect.connectors.plaid.integration.PlaidConnector",
	"QuickBooks Online": "kraal_connect.connectors.qbo.integration.QboConnector",
	"Shopify": "kraal_connect.connectors.shopify.integration.ShopifyConnector",
	"Amazon": "kraal_connect.connectors.amazon.integration.AmazonConnector",
}


def connector_class(vendor: str):
	if vendor not in CONNECTORS:
		frappe.throw(frappe._("There is no connector for {0}").format(vendor))
	return frappe.get_attr(CONNECTORS[vendor])
