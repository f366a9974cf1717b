"""Plaid's TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION: the engine pages again from the cursor the
loop began with, alone with a fake stream and through the real client against the emulator."""

import json

from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.plaid.streams import TRANSACTIONS
from kraal_connect.engine.errors import PaginationRestart
from kraal_connect.engine.records import Change, Page, Stream
from kraal_connect.engine.retry import ApiCaller, RetryPolicy
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import PAGINATION_RESTARTS, sync_streams
from tests.standalone.memory_store import MemoryStore
from tests.standalone.test_plaid_sync import source_transactions, sync

PLATYPUS = "item-platypus"


# -- the engine alone ------------------------------------------------------------------------------
def mutating_source(pages: dict, mutate_at: str, mutations: int):
	"""fetch() over pages keyed by cursor, each (ids, next cursor, has_more); the call at mutate_at
	finds the data changed, the first `mutations` times."""
	left = [mutations]
	calls = []

	def fetch(cursor):
		calls.append(cursor)
		if cursor == mutate_at and left[0]:
			left[0] -= 1
			raise PaginationRestart("TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION: data changed")
		ids, next_cursor, has_more = pages[cursor]
		return Page([Change(i, {"id": i}) for i in ids], next_cursor, has_more)

	fetch.calls = calls
	return fetch


PAGES = {"s": (["a", "b"], "c1", True), "c1": (["c"], "c2", True), "c2": (["d", "e"], "end", False)}


def row(record, context):
	return {"doctype": "Row", "id": record["id"]}


def run(streams, store, slept):
	stats = RunStats()
	sync_streams(streams, store, ApiCaller(RetryPolicy(max_attempts=5), sleep=slept.append), None, stats)
	return stats


def test_a_mutation_pages_again_from_the_cursor_the_loop_began_with():
	fetch = mutating_source(PAGES, mutate_at="c2", mutations=1)
	store, slept = MemoryStore(), []
	store.cursors["row"] = "s"
	stats = run([Stream("row", fetch, row)], store, slept)
	assert fetch.calls == ["s", "c1", "c2", "s", "c1", "c2"]
	assert slept == []  # not retried as a transient error: the same cursor would fail again
	assert sorted(store.live("row")) == ["a", "b", "c", "d", "e"]
	assert store.inserts == 5
	counts = stats.counts["row"]
	assert (counts.created, counts.skipped, counts.failed) == (5, 3, 0)
	assert stats.status == "Success"
	assert store.cursor("row") == "end"


def test_a_loop_cursor_is_stored_only_once_the_loop_is_read_through():
	"""Killed in the middle of a loop, the next run starts where the loop began, as Plaid requires;
	the pages written before the kill are kept and skipped when read again."""
	died = mutating_source(PAGES, mutate_at="c2", mutations=0)
	store, slept = MemoryStore(), []
	store.cursors["row"] = "s"
	stats = run([Stream("row", died, row, cursor_per_loop=True)], store, slept)
	assert store.checkpoints == [("row", "s"), ("row", "s"), ("row", "end")]
	assert (stats.counts["row"].created, stats.status) == (5, "Success")


def test_a_source_that_keeps_changing_stops_its_stream_with_a_failure_and_the_next_stream_runs():
	restless = mutating_source(PAGES, mutate_at="c1", mutations=99)
	calm = mutating_source({None: (["z"], "z1", False)}, mutate_at="never", mutations=0)
	store, slept = MemoryStore(), []
	store.cursors["row"] = "s"
	stats = run([Stream("row", restless, row), Stream("ok", calm, row)], store, slept)
	assert restless.calls == ["s", "c1"] * (PAGINATION_RESTARTS + 1)
	assert stats.aborted_entities == ["row"]
	assert "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION" in stats.failures[-1].message
	assert sorted(store.live("row")) == ["a", "b"]
	assert sorted(store.live("ok")) == ["z"]
	assert stats.status == "Partial"


# -- Plaid through the emulator --------------------------------------------------------------------
def spied_api(plaid_emulator, monkeypatch) -> tuple[PlaidApi, list]:
	"""The real client, with the cursor of each /transactions/sync call written down."""
	api = PlaidApi("client-id", "secret", base_url=plaid_emulator.url, timeout=10)
	cursors = []
	sync = api.sync_transactions

	def spy(access_token, cursor, count=500):
		cursors.append(cursor)
		return sync(access_token, cursor, count)

	monkeypatch.setattr(api, "sync_transactions", spy)
	return api, cursors


def test_plaids_mutation_on_page_two_restarts_the_first_sync_from_its_start(
	plaid_emulator, plaid_data, monkeypatch
):
	api, cursors = spied_api(plaid_emulator, monkeypatch)
	pages = sorted((plaid_data / f"items/{PLATYPUS}/transactions_sync").glob("*.json"))
	first, second, _ = (json.loads(p.read_text())["next_cursor"] for p in pages)
	plaid_emulator.mutate_during_pagination(PLATYPUS)
	store = MemoryStore()
	stats = sync(api, plaid_data, PLATYPUS, store)
	assert cursors == [None, first, None, first, second]
	booked = store.live(TRANSACTIONS)
	assert sorted(booked) == sorted(source_transactions(plaid_data, PLATYPUS))
	assert store.inserts == len(booked)
	assert stats.status == "Success"


def test_a_later_loop_restarts_from_the_cursor_it_began_with(plaid_emulator, plaid_data, monkeypatch):
	api, cursors = spied_api(plaid_emulator, monkeypatch)
	store = MemoryStore()
	sync(api, plaid_data, PLATYPUS, store)
	began = store.cursor(TRANSACTIONS)
	sync_dir = plaid_data / f"items/{PLATYPUS}/transactions_sync"
	template = json.loads((sync_dir / "0001.json").read_text())["added"][0]
	for number, (cursor, has_more) in enumerate((("later-1", True), ("later-2", False)), 4):
		txn = dict(template, transaction_id=f"later-txn-{number}", amount=number, pending=False)
		page = {"added": [txn], "modified": [], "removed": [], "next_cursor": cursor, "has_more": has_more}
		(sync_dir / f"{number:04}.json").write_text(json.dumps(page))
	plaid_emulator.mutate_during_pagination(PLATYPUS)
	cursors.clear()
	stats = sync(api, plaid_data, PLATYPUS, store)
	assert cursors == [began, "later-1", began, "later-1"]
	assert {"later-txn-4", "later-txn-5"} <= set(store.live(TRANSACTIONS))
	assert (stats.counts[TRANSACTIONS].created, stats.counts[TRANSACTIONS].skipped) == (2, 1)
	assert store.cursor(TRANSACTIONS) == "later-2"
