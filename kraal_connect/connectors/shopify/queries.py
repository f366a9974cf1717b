"""The GraphQL documents Kraal sends to Shopify's Admin API.

Shopify refuses a query whose requested cost (objects 1, a connection 2 + first x the cost of one node)
exceeds 1000, so nested page sizes are chosen to keep one page of each entity under that. A record whose
nested list was cut short says so (pageInfo.hasNextPage) and the mapper refuses it rather than book half.
"""

VARIANTS_PER_PRODUCT = 100
LINE_ITEMS_PER_ORDER = 50
NESTED_ROWS = 20

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

PRODUCT_FIELDS = f"""
fragment ProductFields on Product {{
  id title handle status vendor productType descriptionHtml createdAt updatedAt
  options {{ name position values }}
  variants(first: {VARIANTS_PER_PRODUCT}) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      id title sku barcode price position taxable
      selectedOptions {{ name value }}
      inventoryItem {{ id tracked unitCost {{ amount }} measurement {{ weight {{ unit value }} }} }}
    }}
  }}
}}
"""

PRODUCTS = (
	"""
query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ProductFields }
  }
}
"""
	+ PRODUCT_FIELDS
)

PRODUCT = (
	"""
query Product($id: ID!) {
  product(id: $id) { ...ProductFields }
}
"""
	+ PRODUCT_FIELDS
)

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

ORDER_FIELDS = (
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
  lineItems(first: {LINE_ITEMS_PER_ORDER}) {{
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
  shippingLines(first: 5) {{
    pageInfo {{ hasNextPage }}
    nodes {{ id title discountedPriceSet {{ ...Presentment }} taxLines {{ title rate priceSet {{ ...Presentment }} }} }}
  }}
  taxLines {{ title rate priceSet {{ ...Presentment }} }}
  discountApplications(first: 10) {{
    nodes {{
      __typename allocationMethod targetSelection targetType
      value {{ __typename ... on MoneyV2 {{ amount currencyCode }} ... on PricingPercentageValue {{ percentage }} }}
      ... on DiscountCodeApplication {{ code }}
      ... on AutomaticDiscountApplication {{ title }}
      ... on ManualDiscountApplication {{ title }}
      ... on ScriptDiscountApplication {{ title }}
    }}
  }}
  transactions(first: {NESTED_ROWS}) {{ ...Transaction }}
  refunds(first: {NESTED_ROWS}) {{
    id createdAt note
    totalRefundedSet {{ ...Presentment }}
    refundLineItems(first: {NESTED_ROWS}) {{
      pageInfo {{ hasNextPage }}
      nodes {{
        quantity restockType restocked
        lineItem {{ id }}
        location {{ id }}
        subtotalSet {{ ...Presentment }}
        totalTaxSet {{ ...Presentment }}
      }}
    }}
    refundShippingLines(first: 5) {{
      nodes {{ shippingLine {{ id }} subtotalAmountSet {{ ...Presentment }} taxAmountSet {{ ...Presentment }} }}
    }}
    transactions(first: 5) {{ nodes {{ ...Transaction }} }}
  }}
  fulfillments(first: {NESTED_ROWS}) {{
    id name status createdAt
    location {{ id }}
    fulfillmentLineItems(first: {NESTED_ROWS}) {{ pageInfo {{ hasNextPage }} nodes {{ quantity lineItem {{ id }} }} }}
  }}
}}
"""
	+ MONEY
	+ ADDRESS
	+ TRANSACTION
)

ORDERS = (
	"""
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
"""
	+ ORDER_FIELDS
)

ORDER = (
	"""
query Order($id: ID!) {
  order(id: $id) { ...OrderFields }
}
"""
	+ ORDER_FIELDS
)

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
