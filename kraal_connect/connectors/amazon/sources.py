"""Links from a synced document to its order in Seller Central. Pure: no frappe."""

from urllib.parse import quote

from kraal_connect.connectors.amazon.mapping import ORDERS

# A marketplace's own Seller Central; a seller signs in there for that marketplace's orders.
SELLER_CENTRAL = {
	"ATVPDKIKX0DER": "sellercentral.amazon.com",  # United States
	"A2EUQ1WTGCTBG2": "sellercentral.amazon.ca",
	"A1AM78C64UM0Y8": "sellercentral.amazon.com.mx",
	"A2Q3Y263D00KWC": "sellercentral.amazon.com.br",
	"A1F83G8C2ARO7P": "sellercentral.amazon.co.uk",
	"A1PA6795UKMFR9": "sellercentral.amazon.de",
	"A13V1IB3VIYZZH": "sellercentral.amazon.fr",
	"APJ6JRA9NG5V4": "sellercentral.amazon.it",
	"A1RKKUPIHCS9HS": "sellercentral.amazon.es",
	"A1805IZSGTT6HS": "sellercentral.amazon.nl",
	"A2NODRKZP88ZB9": "sellercentral.amazon.se",
	"A1C3SOZRARQ6R3": "sellercentral.amazon.pl",
	"AMEN7PMS3EDWL": "sellercentral.amazon.com.be",
	"A33AVAJ2PDY3EV": "sellercentral.amazon.com.tr",
	"A2VIGQ35RCS4UG": "sellercentral.amazon.ae",
	"A17E79C6D8DWNP": "sellercentral.amazon.sa",
	"ARBP9OOSHTCHU": "sellercentral.amazon.eg",
	"A21TJRUUN4KGV": "sellercentral.amazon.in",
	"A1VC38T7YXB528": "sellercentral.amazon.co.jp",
	"A39IBJ37TRP1C6": "sellercentral.amazon.com.au",
	"A19VAU5U5O7RUS": "sellercentral.amazon.sg",
}
# A marketplace not listed above: its region's Seller Central.
REGION_HOSTS = {
	"na": "sellercentral.amazon.com",
	"eu": "sellercentral-europe.amazon.com",
	"fe": "sellercentral.amazon.co.jp",
}
RECORD_TYPES = {"fba_inventory": "FBA inventory", "catalog_item": "Catalog item"}


def admin_url(
	region: str | None, home_marketplace: str | None, external_type: str, external_id: str
) -> str | None:
	"""https://sellercentral.amazon.com/orders-v3/order/<order id> for an order and its invoice, in
	the Seller Central of the integration's home marketplace (its region's when not known)."""
	if external_type.partition(":")[0] != ORDERS or not external_id:
		return None
	host = SELLER_CENTRAL.get(home_marketplace or "") or REGION_HOSTS.get(region or "na")
	return f"https://{host}/orders-v3/order/{quote(external_id)}" if host else None
