"""Links from a synced document to its record in the Shopify admin. Pure: no frappe."""

from urllib.parse import quote

from kraal_connect.connectors.shopify.mapping.payouts import PAYOUTS
from kraal_connect.connectors.shopify.mapping.records import CUSTOMERS, ORDERS, PRODUCTS, legacy_id

ADMIN_PAGES = {
	ORDERS: "orders",
	PRODUCTS: "products",
	CUSTOMERS: "customers",
	PAYOUTS: "payments/payouts",
}
RECORD_TYPES = {"inventory_level": "Inventory level"}


def admin_url(shop_domain: str | None, external_type: str, external_id: str) -> str | None:
	"""https://admin.shopify.com/store/<store>/orders/<id> (products, customers alike); an order's
	invoice, payments, deliveries and refunds open the order, a variant's Item its variant page."""
	parts = external_type.split(":")
	page = ADMIN_PAGES.get(parts[0])
	if not page or not shop_domain or not external_id:
		return None
	store = shop_domain.strip().lower().removesuffix(".myshopify.com")
	url = f"https://admin.shopify.com/store/{quote(store)}/{page}/{quote(legacy_id(external_id))}"
	if parts[0] == PRODUCTS and len(parts) == 3 and parts[1] == "variant":
		url += f"/variants/{quote(parts[2])}"
	return url
