"""The GraphQL documents Kraal sends to Shopify's Admin API.

Shopify refuses a query whose requested cost (objects 1, a connection 2 + first x the cost of one node)
exceeds 1000. Pages of products and orders ask for few nested rows (Nested.PAGED: what most records fit
in), so that many records fit in one query; a record whose nested lists a page cut short is read again
alone with room for many more (Nested.FULL). A record cut short even then says so (pageInfo.hasNextPage)
and the mapper refuses it rather than book half.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Nested:
	"""How many rows of each nested list one product or order is read with."""

	variants: int
	line_items: int
	shipping_lines: int
	discounts: int
	transactions: int
	refunds: int
	refund_lines: int
	refund_shipping_lines: int
	refund_transactions: int
	fulfillments: int
	fulfillment_lines: int


# One record alone: as much as one query may ask for.
FULL = Nested(
	variants=100,
	line_items=50,
	shipping_lines=5,
	discounts=10,
	transactions=20,
	refunds=20,
	refund_lines=20,
	refund_shipping_lines=5,
	refund_transactions=5,
	fulfillments=20,
	fulfillment_lines=20,
)
# A record among a page of them: what most products and orders have, so a page holds many of them.
PAGED = Nested(
	variants=10,
	line_items=5,
	shipping_lines=1,
	discounts=3,
	transactions=5,
	refunds=2,
	refund_lines=3,
	refund_shipping_lines=1,
	refund_transactions=2,
	fulfillments=3,
	fulfillment_lines=5,
)


def _more(holder: dict, field: str) -> bool:
	return bool(((holder.get(field) or {}).get("pageInfo") or {}).get("hasNextPage"))


def _full(holder: dict, field: str, size: int) -> bool:
	"""A list (not a connection) says nothing of more rows: one as long as asked for may have more."""
	return len(holder.get(field) or []) >= size


def product_cut_short(product: dict) -> bool:
	"""Whether a product's variants may be more than it came with."""
	return _more(product, "variants")


def order_cut_short(order: dict, n: Nested = PAGED) -> bool:
	"""Whether an order read with n rows a list may have more than it came with."""
	if any(_more(order, f) for f in ("lineItems", "shippingLines", "discountApplications")):
		return True
	if _full(order, "transactions", n.transactions) or _full(order, "refunds", n.refunds):
		return True
	if _full(order, "fulfillments", n.fulfillments):
		return True
	refunds = order.get("refunds") or []
	if any(_more(r, f) for r in refunds for f in ("refundLineItems", "refundShippingLines", "transactions")):
		return True
	return any(_more(f, "fulfillmentLineItems") for f in order.get("fulfillments") or [])


MONEY = """
fragment Money on MoneyBag {
  shopMoney { amount currencyCode }
  presentmentMoney { amount currencyCode }
}
fragment Presentment on MoneyBag {
  presentmentMoney { amount currencyCode }
}
"""

ADDRESS = """
fragment Address on MailingAddress {
  name firstName lastName company address1 address2 city province provinceCode country countryCodeV2 zip phone
}
"""

SHOP = """
query Shop {
  shop { id name email myshopifyDomain currencyCode ianaTimezone weightUnit enabledPresentmentCurrencies }
}
"""

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true) {
    pageInfo { hasNextPage endCursor }
    nodes { id name isActive address { city countryCode } }
  }
}
"""


SHOP_AND_LOCATIONS = """
query ShopAndLocations($first: Int!) {
  shop { id name email myshopifyDomain currencyCode ianaTimezone weightUnit enabledPresentmentCurrencies }
  locations(first: $first, includeInactive: true) {
    nodes { id name isActive address { city countryCode } }
  }
}
"""


def product_fields(n: Nested) -> str:
	return f"""
fragment ProductFields on Product {{
  id title handle status vendor productType descriptionHtml createdAt updatedAt
  options {{ name position values }}
  variants(first: {n.variants}) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      id title sku barcode price position taxable
      selectedOptions {{ name value }}
      inventoryItem {{ id tracked unitCost {{ amount }} measurement {{ weight {{ unit value }} }} }}
    }}
  }}
}}
"""


PRODUCTS = """
query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ProductFields }
  }
}
""" + product_fields(PAGED)

PRODUCT = """
query Product($id: ID!) {
  product(id: $id) { ...ProductFields }
}
""" + product_fields(FULL)

PRODUCT_DELETIONS = """
query ProductDeletions($first: Int!, $after: String, $query: String) {
  events(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ... on BasicEvent { id action subjectId subjectType createdAt } }
  }
}
"""

CUSTOMER_FIELDS = (
	"""
fragment CustomerFields on Customer {
  id firstName lastName displayName note taxExempt createdAt updatedAt
  defaultEmailAddress { emailAddress }
  defaultPhoneNumber { phoneNumber }
  defaultAddress { id }
  addresses(first: 20) { id ...Address }
}
"""
	+ ADDRESS
)

CUSTOMERS = (
	"""
query Customers($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...CustomerFields }
  }
}
"""
	+ CUSTOMER_FIELDS
)

CUSTOMER = (
	"""
query Customer($id: ID!) {
  customer(id: $id) { ...CustomerFields }
}
"""
	+ CUSTOMER_FIELDS
)

TRANSACTION = """
fragment Transaction on OrderTransaction {
  id kind status gateway formattedGateway processedAt createdAt authorizationCode test
  amountSet { ...Money }
  parentTransaction { id }
}
"""


def order_fields(n: Nested) -> str:
	return (
		f"""
fragment OrderFields on Order {{
  id name email createdAt processedAt updatedAt cancelledAt cancelReason
  displayFinancialStatus displayFulfillmentStatus currencyCode presentmentCurrencyCode taxesIncluded test
  subtotalPriceSet {{ ...Money }}
  totalDiscountsSet {{ ...Money }}
  totalShippingPriceSet {{ ...Money }}
  totalTaxSet {{ ...Money }}
  totalPriceSet {{ ...Money }}
  customer {{ id displayName defaultEmailAddress {{ emailAddress }} }}
  billingAddress {{ ...Address }}
  lineItems(first: {n.line_items}) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      id name title variantTitle sku quantity
      variant {{ id }}
      product {{ id }}
      originalUnitPriceSet {{ ...Presentment }}
      discountAllocations {{ allocatedAmountSet {{ ...Presentment }} }}
      taxLines {{ title rate priceSet {{ ...Presentment }} }}
    }}
  }}
  shippingLines(first: {n.shipping_lines}) {{
    pageInfo {{ hasNextPage }}
    nodes {{ id title discountedPriceSet {{ ...Presentment }} taxLines {{ title rate priceSet {{ ...Presentment }} }} }}
  }}
  taxLines {{ title rate priceSet {{ ...Presentment }} }}
  discountApplications(first: {n.discounts}) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      __typename allocationMethod targetSelection targetType
      value {{ __typename ... on MoneyV2 {{ amount currencyCode }} ... on PricingPercentageValue {{ percentage }} }}
      ... on DiscountCodeApplication {{ code }}
      ... on AutomaticDiscountApplication {{ title }}
      ... on ManualDiscountApplication {{ title }}
      ... on ScriptDiscountApplication {{ title }}
    }}
  }}
  transactions(first: {n.transactions}) {{ ...Transaction }}
  refunds(first: {n.refunds}) {{
    id createdAt note
    totalRefundedSet {{ ...Presentment }}
    refundLineItems(first: {n.refund_lines}) {{
      pageInfo {{ hasNextPage }}
      nodes {{
        quantity restockType restocked
        lineItem {{ id }}
        location {{ id }}
        subtotalSet {{ ...Presentment }}
        totalTaxSet {{ ...Presentment }}
      }}
    }}
    refundShippingLines(first: {n.refund_shipping_lines}) {{
      pageInfo {{ hasNextPage }}
      nodes {{ shippingLine {{ id }} subtotalAmountSet {{ ...Presentment }} taxAmountSet {{ ...Presentment }} }}
    }}
    transactions(first: {n.refund_transactions}) {{ pageInfo {{ hasNextPage }} nodes {{ ...Transaction }} }}
  }}
  fulfillments(first: {n.fulfillments}) {{
    id name status createdAt
    location {{ id }}
    fulfillmentLineItems(first: {n.fulfillment_lines}) {{ pageInfo {{ hasNextPage }} nodes {{ quantity lineItem {{ id }} }} }}
  }}
}}
"""
		+ MONEY
		+ ADDRESS
		+ TRANSACTION
	)


ORDERS = """
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
""" + order_fields(PAGED)

ORDER = """
query Order($id: ID!) {
  order(id: $id) { ...OrderFields }
}
""" + order_fields(FULL)

INVENTORY_LEVEL_FIELDS = """
fragment LevelFields on InventoryLevel {
  id updatedAt
  quantities(names: ["available", "on_hand"]) { name quantity }
  item { id sku tracked variant { id product { id } } }
  location { id }
}
"""

INVENTORY_LEVELS = (
	"""
query InventoryLevels($location: ID!, $first: Int!, $after: String, $query: String) {
  location(id: $location) {
    inventoryLevels(first: $first, after: $after, query: $query) {
      pageInfo { hasNextPage endCursor }
      nodes { ...LevelFields }
    }
  }
}
"""
	+ INVENTORY_LEVEL_FIELDS
)

INVENTORY_LEVEL = (
	"""
query InventoryLevel($id: ID!) {
  inventoryLevel(id: $id) { ...LevelFields }
}
"""
	+ INVENTORY_LEVEL_FIELDS
)

VARIANT_INVENTORY_ITEMS = """
query VariantInventoryItems($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ProductVariant { id inventoryItem { id } } }
}
"""

SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($first: Int!, $after: String, $uri: String) {
  webhookSubscriptions(first: $first, after: $after, uri: $uri) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}
"""

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

WEBHOOK_DELETE = """
mutation WebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""
