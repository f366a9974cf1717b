"""plaid-python 7.2.1's own Client, over real HTTP, against the local Plaid emulator."""

import json

import pytest
import requests

from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.plaid.streams import transactions_stream
from kraal_connect.engine.errors import AuthenticationError, PaginationRestart, SyncError, TransientError
from kraal_connect.engine.retry import ApiCaller, RetryPolicy

PLATYPUS = "access-emulator-item-platypus"


@pytest.fixture
def api(plaid_emulator):
	return PlaidApi("client-id", "secret", "sandbox", base_url=plaid_emulator.url, timeout=10)


def test_link_token_public_token_exchange_and_accounts(api, plaid_emulator):
	assert api.create_link_token("user-1", "Kraal").startswith("link-emulator-create-")
	assert api.create_link_token("user-1", "Kraal", access_token=PLATYPUS).startswith("link-emulator-update-")
	access_token, item_id = api.exchange_public_token("public-emulator-item-platypus")
	assert (access_token, item_id) == (PLATYPUS, "item-platypus")
	accounts = api.get_accounts(access_token)
	assert [(a["type"], a["subtype"], a["mask"]) for a in accounts] == [
		("depository", "checking", "0000"),
		("depository", "savings", "1111"),
		("credit", "credit card", "3333"),
	]
	item = api.get_item(access_token)["item"]
	assert api.get_institution_name(item["institution_id"]) == "First Platypus Bank"
	assert [r["path"] for r in plaid_emulator.requests] == [
		"/link/token/create",
		"/link/token/create",
		"/item/public_token/exchange",
		"/accounts/get",
		"/item/get",
		"/institutions/get_by_id",
	]


def test_transactions_sync_pages_until_has_more_is_false(api):
	stream = transactions_stream(api, PLATYPUS, page_size=5)
	cursor, seen, pages = None, [], 0
	while True:
		page = stream.fetch(cursor)
		pages += 1
		seen += [c.external_id for c in page.changes]
		cursor = page.next_cursor
		if not page.has_more:
			break
	assert pages == 3
	assert len(seen) == len(set(seen)) == 13  # twelve posted and one pending
	assert stream.fetch(cursor).changes == []


def test_removed_transactions_become_deletions(api, plaid_data):
	sync_dir = plaid_data / "items/item-platypus/transactions_sync"
	last = json.loads((sync_dir / "0003.json").read_text())
	(sync_dir / "0004.json").write_text(
		json.dumps(
			{
				"added": [],
				"modified": [],
				"removed": [{"account_id": "x", "transaction_id": "gone-1"}],
				"next_cursor": "after-removal",
				"has_more": False,
				"request_id": "r",
			}
		)
	)
	page = transactions_stream(api, PLATYPUS).fetch(last["next_cursor"])
	assert [(c.external_id, c.deleted) for c in page.changes] == [("gone-1", True)]


def test_item_login_required_is_an_authentication_error(api, plaid_emulator):
	plaid_emulator.add_fault(
		path="/transactions/sync",
		status=400,
		body={
			"error_type": "ITEM_ERROR",
			"error_code": "ITEM_LOGIN_REQUIRED",
			"error_message": "the login details of this item have changed",
			"display_message": "Please log in to First Platypus Bank again",
			"request_id": "r1",
			"causes": [],
		},
	)
	with pytest.raises(AuthenticationError, match="ITEM_LOGIN_REQUIRED: Please log in"):
		api.sync_transactions(PLATYPUS, None)


def test_item_error_file_makes_every_call_fail(api, plaid_data):
	(plaid_data / "items/item-platypus/error.json").write_text(
		json.dumps(
			{"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED", "error_message": "log in again"}
		)
	)
	with pytest.raises(AuthenticationError):
		api.get_accounts(PLATYPUS)


def test_unknown_access_token_needs_reauthentication(api):
	with pytest.raises(AuthenticationError, match="INVALID_ACCESS_TOKEN"):
		api.get_accounts("access-emulator-nope")


def test_rate_limit_and_server_errors_are_retried_by_the_engine(api, plaid_emulator):
	plaid_emulator.add_fault(
		path="/transactions/sync",
		status=429,
		times=2,
		body={
			"error_type": "RATE_LIMIT_EXCEEDED",
			"error_code": "TRANSACTIONS_SYNC_LIMIT",
			"error_message": "rate limit exceeded",
			"display_message": None,
			"request_id": "r2",
		},
	)
	plaid_emulator.add_fault(path="/transactions/sync", status=500, body="<html>upstream error</html>")
	slept = []
	caller = ApiCaller(RetryPolicy(base_delay=0.01), sleep=slept.append)
	body = caller(api.sync_transactions, PLATYPUS, None)
	assert len(body["added"]) == 5
	assert caller.calls == 4
	assert len(slept) == 3
	assert [r["path"] for r in plaid_emulator.requests].count("/transactions/sync") == 4


def test_single_transient_error_without_retry_is_transient(api, plaid_emulator):
	plaid_emulator.add_fault(path="/accounts/get", status=500, body="oops")
	with pytest.raises(TransientError):
		api.get_accounts(PLATYPUS)


def test_invalid_cursor_is_a_plain_error(api):
	with pytest.raises(SyncError, match="INVALID_FIELD"):
		api.sync_transactions(PLATYPUS, "not-a-cursor")


def test_unreachable_host_is_transient(plaid_emulator):
	plaid_emulator.stop()
	api = PlaidApi("client-id", "secret", base_url="http://127.0.0.1:9", timeout=2)
	caller = ApiCaller(RetryPolicy(max_attempts=2), sleep=lambda s: None)
	with pytest.raises(TransientError, match="could not reach Plaid"):
		caller(api.get_accounts, PLATYPUS)
	assert caller.calls == 2


def test_a_mutation_during_pagination_asks_for_a_restart_and_is_not_retried(api, plaid_emulator):
	first = api.sync_transactions(PLATYPUS, None, 5)
	answer = requests.post(
		f"{plaid_emulator.url}/_emulator/mutate_during_pagination",
		json={"item_id": "item-platypus"},
		timeout=10,
	)
	assert answer.status_code == 200
	assert api.sync_transactions(PLATYPUS, None, 5) == first  # a loop's first call is never mid-loop
	caller = ApiCaller(sleep=lambda s: None)
	with pytest.raises(PaginationRestart, match="TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION: Underlying"):
		caller(api.sync_transactions, PLATYPUS, first["next_cursor"], 5)
	assert caller.calls == 1
	assert api.sync_transactions(PLATYPUS, first["next_cursor"], 5)["added"]  # once only
