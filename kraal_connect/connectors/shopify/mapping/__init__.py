"""Shopify records -> ERPNext documents. Pure: everything from the site comes in the ShopifyContext.

Orders are booked in the currency the customer paid in (Shopify's presentment currency) at the rate
Shopify used, so every ERPNext total equals Shopify's to the cent: items at their original unit price,
every discount allocation in the document's additional discount (on the net total), taxes and shipping
as fixed amounts. Payments move the amounts Shopify settled in the store's currency, which must be the
company's currency.

One module per kind of record; this package names what the streams, the site side and the tests use.
"""

from kraal_connect.connectors.shopify.mapping.customers import customer_targets
from kraal_connect.connectors.shopify.mapping.inventory import (
	inventory_level_key,
	inventory_quantities,
	stock_reconciliation,
)
from kraal_connect.connectors.shopify.mapping.order_parts import fallback_lines, order_lines
from kraal_connect.connectors.shopify.mapping.orders import order_targets
from kraal_connect.connectors.shopify.mapping.payouts import (
	FEES,
	PAYOUT_BANK,
	PAYOUT_TYPE,
	PAYOUTS,
	payout_journal_entry,
	payout_totals,
)
from kraal_connect.connectors.shopify.mapping.products import (
	product_targets,
	required_attributes,
	variant_item_code,
)
from kraal_connect.connectors.shopify.mapping.records import (
	CUSTOMERS,
	GATEWAY_MAPPING,
	INVENTORY,
	LOCATION_MAPPING,
	ORDERS,
	PRODUCTS,
	TAX_MAPPING,
	ShopifyContext,
	legacy_id,
)
from kraal_connect.connectors.shopify.mapping.totals import erpnext_totals, shopify_totals

__all__ = [
	"CUSTOMERS",
	"FEES",
	"GATEWAY_MAPPING",
	"INVENTORY",
	"LOCATION_MAPPING",
	"ORDERS",
	"PAYOUTS",
	"PAYOUT_BANK",
	"PAYOUT_TYPE",
	"PRODUCTS",
	"TAX_MAPPING",
	"ShopifyContext",
	"customer_targets",
	"erpnext_totals",
	"fallback_lines",
	"inventory_level_key",
	"inventory_quantities",
	"legacy_id",
	"order_lines",
	"order_targets",
	"payout_journal_entry",
	"payout_totals",
	"product_targets",
	"required_attributes",
	"shopify_totals",
	"stock_reconciliation",
	"variant_item_code",
]
