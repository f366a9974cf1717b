import frappe

# vendor (Kraal Integration.vendor) -> its connector class
CONNECTORS = {
	"Plaid": "kraal_connect.connectors.plaid.integration.PlaidConnector",
}


def connector_class(vendor: str):
	if vendor not in CONNECTORS:
		frappe.throw(frappe._("There is no connector for {0}").format(vendor))
	return frappe.get_attr(CONNECTORS[vendor])
