"""The accounts chosen in Plaid Link: how the integration keeps them, and what the mapper does with
the transactions of an account left out."""

import json
from pathlib import Path

from kraal_connect.connectors.plaid import mapping

ITEM = Path(__file__).resolve().parents[2] / "fixtures/plaid/items/item-platypus"
ACCOUNTS = json.loads((ITEM / "accounts.json").read_text())["accounts"]


def test_the_choice_is_kept_as_ids_with_names_and_read_back_as_ids():
	text = mapping.chosen_accounts_text(ACCOUNTS[:2])
	assert text.splitlines()[0] == f"{ACCOUNTS[0]['account_id']} {mapping.account_label(ACCOUNTS[0])}"
	assert mapping.chosen_account_ids(text) == {ACCOUNTS[0]["account_id"], ACCOUNTS[1]["account_id"]}
	assert mapping.chosen_account_ids("") == frozenset()
	assert mapping.chosen_account_ids(None) == frozenset()


def test_a_transaction_of_an_account_left_out_is_not_booked():
	txn = json.loads((ITEM / "transactions_sync/0001.json").read_text())["added"][0]
	txn = {**txn, "pending": False}
	booked = mapping.PlaidContext("Co", "USD", bank_accounts={txn["account_id"]: "Checking - Bank"})
	assert mapping.bank_transaction(txn, booked)["bank_account"] == "Checking - Bank"
	left_out = mapping.PlaidContext("Co", "USD", left_out=frozenset({txn["account_id"]}))
	assert mapping.bank_transaction(txn, left_out) is None
