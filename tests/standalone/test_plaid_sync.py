"""The engine running Plaid's transactions stream against the emulator, into an in-memory store."""

import json
from decimal import Decimal

from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.plaid.mapping import PlaidContext
from kraal_connect.connectors.plaid.streams import TRANSACTIONS, transactions_stream
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import sync_streams
from tests.standalone.memory_store import MemoryStore

ITEMS = ("item-platypus", "item-tattersall")


def source_transactions(plaid_data, item):
	"""Posted transactions by id with their amounts, read straight from the dataset."""
	result = {}
	for page in sorted((plaid_data / f"items/{item}/transactions_sync").glob("*.json")):
		for txn in json.loads(page.read_text())["added"]:
			if not txn["pending"]:
				result[txn["transaction_id"]] = Decimal(str(txn["amount"]))
	return result


def context_for(plaid_data, item):
	accounts = json.loads((plaid_data / f"items/{item}/accounts.json").read_text())["accounts"]
	return PlaidContext("Kraal Test Co", "USD", {a["account_id"]: f"{a['name']} - {item}" for a in accounts})


def sync(api, plaid_data, item, store):
	stats = RunStats()
	stream = transactions_stream(api, f"access-emulator-{item}", page_size=5)
	sync_streams([stream], store, ApiCaller(), context_for(plaid_data, item), stats)
	return stats


def test_two_banks_sync_with_exact_amounts_and_a_second_run_writes_nothing(plaid_emulator, plaid_data):
	api = PlaidApi("client-id", "secret", base_url=plaid_emulator.url)
	for item in ITEMS:
		store = MemoryStore()
		stats = sync(api, plaid_data, item, store)
		booked = {
			tid: Decimal(str(doc["withdrawal"])) - Decimal(str(doc["deposit"]))
			for tid, doc in store.live(TRANSACTIONS).items()
		}
		assert booked == source_transactions(plaid_data, item)
		assert len({doc["bank_account"] for doc in store.live(TRANSACTIONS).values()}) == 3
		assert stats.status == "Success"
		again = sync(api, plaid_data, item, store)
		assert again.counts[TRANSACTIONS].fetched == 0
		assert store.inserts == len(booked)


def test_a_pending_transaction_is_booked_once_when_it_posts(plaid_emulator, plaid_data):
	api = PlaidApi("client-id", "secret", base_url=plaid_emulator.url)
	store = MemoryStore()
	sync(api, plaid_data, "item-platypus", store)
	sync_dir = plaid_data / "items/item-platypus/transactions_sync"
	pending = next(t for t in json.loads((sync_dir / "0002.json").read_text())["added"] if t["pending"])
	posted = dict(
		pending, transaction_id="posted-1", pending=False, pending_transaction_id=pending["transaction_id"]
	)
	(sync_dir / "0004.json").write_text(
		json.dumps(
			{
				"added": [posted],
				"modified": [],
				"removed": [
					{"account_id": pending["account_id"], "transaction_id": pending["transaction_id"]}
				],
				"next_cursor": "after-posting",
				"has_more": False,
			}
		)
	)
	stats = sync(api, plaid_data, "item-platypus", store)
	assert store.live(TRANSACTIONS)["posted-1"]["withdrawal"] == 42.17
	assert pending["transaction_id"] not in store.live(TRANSACTIONS)
	counts = stats.counts[TRANSACTIONS]
	assert (counts.created, counts.cancelled, counts.skipped) == (1, 0, 1)
