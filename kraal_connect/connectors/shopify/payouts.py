"""Shopify Payments payouts as Shopify's Admin GraphQL API gives them: a page of paid payouts, and each
payout whole, with every balance transaction it paid out.

A payout record is the ShopifyPaymentsPayout node with its balance transactions added under
"balanceTransactions" ({"nodes": [...]}), so the mapper sees what was paid and why in one record.
Costs (see queries.py): a payout is 15 points, a balance transaction 6, so a page of 50 payouts and
one of 100 balance transactions stay under Shopify's 1000.
"""

from kraal_connect.connectors.shopify.client import Connection, ShopifyApi
from kraal_connect.engine.errors import SyncError

PAYOUT_PAGE = 50
TRANSACTION_PAGE = 100

MONEY = "amount currencyCode"
PAYOUT_FIELDS = f"""
id legacyResourceId issuedAt status transactionType
net {{ {MONEY} }}
summary {{
  chargesGross {{ {MONEY} }} chargesFee {{ {MONEY} }}
  refundsFeeGross {{ {MONEY} }} refundsFee {{ {MONEY} }}
  adjustmentsGross {{ {MONEY} }} adjustmentsFee {{ {MONEY} }}
  reservedFundsGross {{ {MONEY} }} reservedFundsFee {{ {MONEY} }}
  retriedPayoutsGross {{ {MONEY} }} retriedPayoutsFee {{ {MONEY} }}
  advanceGross {{ {MONEY} }} advanceFees {{ {MONEY} }}
}}
"""

PAYOUTS = f"""
query KraalPayouts($first: Int!, $after: String, $query: String) {{
  shopifyPaymentsAccount {{
    payouts(first: $first, after: $after, query: $query, sortKey: ISSUED_AT) {{
      nodes {{ {PAYOUT_FIELDS} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

PAYOUT = f"""
query KraalPayout($id: ID!) {{
  node(id: $id) {{ ... on ShopifyPaymentsPayout {{ {PAYOUT_FIELDS} }} }}
}}
"""

BALANCE_TRANSACTIONS = f"""
query KraalPayoutTransactions($first: Int!, $after: String, $query: String) {{
  shopifyPaymentsAccount {{
    balanceTransactions(first: $first, after: $after, query: $query, sortKey: PROCESSED_AT) {{
      nodes {{
        id type transactionDate adjustmentReason sourceType sourceId sourceOrderTransactionId test
        amount {{ {MONEY} }} fee {{ {MONEY} }} net {{ {MONEY} }}
        associatedOrder {{ id name }}
        associatedPayout {{ id status }}
      }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""


def _account(data: dict) -> dict:
	account = data.get("shopifyPaymentsAccount")
	if account is None:
		raise SyncError("Shopify: the store does not use Shopify Payments, so it has no payouts")
	return account


def _page(connection: dict) -> Connection:
	info = connection.get("pageInfo") or {}
	return Connection(connection.get("nodes") or [], info.get("endCursor"), bool(info.get("hasNextPage")))


def paid_payouts(
	api: ShopifyApi, since: str | None, after: str | None, first: int = PAYOUT_PAGE
) -> Connection:
	"""Paid payouts in the order Shopify issued them, from since on (issued_at >= since).

	Only paid ones: a scheduled payout may still change or fail; Shopify pays them in the order it
	issues them, so the high-water mark never passes one that is still to be paid."""
	terms = ["status:paid", f"issued_at:>='{since}'" if since else ""]
	variables = {"first": first, "after": after, "query": " AND ".join(t for t in terms if t)}
	return _page(_account(api.execute(PAYOUTS, variables))["payouts"])


def payout_transactions(api: ShopifyApi, payout: dict) -> list[dict]:
	"""Every balance transaction of one payout: one record's rows, read through to its last page
	(a busy store's payout holds hundreds), as a record is read whole before it is mapped."""
	query = f"payments_transfer_id:{payout['legacyResourceId']}"
	rows, after = [], None
	while True:
		variables = {"first": TRANSACTION_PAGE, "after": after, "query": query}
		page = _page(_account(api.execute(BALANCE_TRANSACTIONS, variables))["balanceTransactions"])
		rows += page.nodes
		if not page.has_next_page:
			return rows
		after = page.end_cursor


def whole_payout(api: ShopifyApi, payout: dict) -> dict:
	return {**payout, "balanceTransactions": {"nodes": payout_transactions(api, payout)}}


def payout(api: ShopifyApi, payout_id: str) -> dict | None:
	"""One payout by its id, whole; None when Shopify has no such payout."""
	node = api.execute(PAYOUT, {"id": payout_id}).get("node")
	return whole_payout(api, node) if node and node.get("legacyResourceId") else None
