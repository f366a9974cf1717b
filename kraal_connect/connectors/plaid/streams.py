from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.plaid.mapping import bank_transaction
from kraal_connect.engine.records import Change, Page, Stream

TRANSACTIONS = "transaction"


def transactions_stream(api: PlaidApi, access_token: str, page_size: int = 500) -> Stream:
	"""/transactions/sync: added and modified become upserts, removed become cancellations."""

	def fetch(cursor: str | None) -> Page:
		body = api.sync_transactions(access_token, cursor, page_size)
		changes = [
			Change(external_id=str(txn.get("transaction_id") or ""), record=txn)
			for txn in body.get("added", []) + body.get("modified", [])
		]
		changes += [
			Change(external_id=str(gone["transaction_id"]), deleted=True) for gone in body.get("removed", [])
		]
		return Page(changes, next_cursor=body["next_cursor"], has_more=bool(body["has_more"]))

	return Stream(entity=TRANSACTIONS, fetch=fetch, map=bank_transaction, cursor_per_loop=True)
