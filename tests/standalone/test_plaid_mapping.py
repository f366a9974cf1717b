import json
from pathlib import Path

import pytest

from kraal_connect.connectors.plaid import mapping
from kraal_connect.engine.errors import MissingMappingError, RecordError

FIXTURE_PAGE = (
	Path(__file__).resolve().parents[2] / "fixtures/plaid/items/item-platypus/transactions_sync/0001.json"
)
CTX = mapping.PlaidContext(
	company="Kraal Test Co", company_currency="USD", bank_accounts={"acc-1": "Checking - Bank"}
)


def txn(**overrides):
	base = json.loads(FIXTURE_PAGE.read_text())["added"][0]
	base.update(account_id="acc-1", transaction_id="tx-1")
	base.update(overrides)
	return base


def test_money_out_is_a_withdrawal_to_the_cent():
	doc = mapping.bank_transaction(txn(amount=89.4, date="2026-10-03"), CTX)
	assert (doc["withdrawal"], doc["deposit"]) == (89.4, 0.0)
	assert doc["date"] == "2026-10-03"
	assert doc["bank_account"] == "Checking - Bank"
	assert doc["company"] == "Kraal Test Co"
	assert doc["transaction_id"] == doc["reference_number"] == "tx-1"
	assert doc["docstatus"] == 1
	assert doc["doctype"] == "Bank Transaction"


def test_money_in_is_a_deposit_and_float_noise_is_rounded_away():
	doc = mapping.bank_transaction(txn(amount=-1234.5600000001), CTX)
	assert (doc["deposit"], doc["withdrawal"]) == (1234.56, 0.0)


def test_reference_description_and_party_come_from_the_record():
	record = txn(merchant_name="Krusty Burger", name="KRUSTY BURGER 1234", currency=None)
	record["payment_meta"] = dict(record["payment_meta"], reference_number="CHK-42")
	doc = mapping.bank_transaction(record, CTX)
	assert doc["reference_number"] == "CHK-42"
	assert doc["description"] == "Krusty Burger · KRUSTY BURGER 1234"
	assert doc["bank_party_name"] == "Krusty Burger"
	assert doc["currency"] == "USD"


def test_unofficial_currency_is_used_when_iso_is_absent():
	assert (
		mapping.bank_transaction(txn(iso_currency_code=None, unofficial_currency_code="BTC"), CTX)["currency"]
		== "BTC"
	)


def test_pending_transactions_are_not_booked():
	assert mapping.bank_transaction(txn(pending=True), CTX) is None


@pytest.mark.parametrize(
	("overrides", "message"),
	[
		({"amount": None}, "Plaid transaction tx-1: field 'amount' is missing"),
		({"amount": "12,50"}, "Plaid transaction tx-1: field 'amount' is not a number: '12,50'"),
		({"amount": "NaN"}, "Plaid transaction tx-1: field 'amount' is not a number: 'NaN'"),
		({"amount": True}, "Plaid transaction tx-1: field 'amount' is not a number: True"),
		({"date": "2026-13-01"}, "Plaid transaction tx-1: field 'date' is not a date: '2026-13-01'"),
		({"date": None}, "Plaid transaction tx-1: field 'date' is missing"),
		({"iso_currency_code": None}, "Plaid transaction tx-1: field 'iso_currency_code' is missing"),
		(
			{"transaction_id": None},
			"Plaid transaction (no transaction_id): field 'transaction_id' is missing",
		),
	],
)
def test_malformed_transactions_name_the_record_and_field(overrides, message):
	with pytest.raises(RecordError) as raised:
		mapping.bank_transaction(txn(**overrides), CTX)
	assert str(raised.value) == message


def test_unmapped_account_names_the_key():
	with pytest.raises(MissingMappingError) as raised:
		mapping.bank_transaction(txn(account_id="acc-unknown"), CTX)
	assert raised.value.key == "acc-unknown"
	assert "no Plaid Account mapping for 'acc-unknown'" in str(raised.value)


def test_accounts_become_bank_and_ledger_accounts():
	account = {
		"account_id": "a1",
		"mask": "3333",
		"name": "Plaid Credit Card",
		"official_name": "First Platypus Bank Plaid Credit Card",
		"type": "credit",
		"subtype": "credit card",
		"balances": {"iso_currency_code": "CAD"},
	}
	bank_account = mapping.bank_account(account, "First Platypus Bank", "Kraal Test Co", "Card - KTC")
	assert bank_account["account_name"] == "First Platypus Bank Plaid Credit Card 3333"
	assert (bank_account["bank"], bank_account["account"], bank_account["mask"]) == (
		"First Platypus Bank",
		"Card - KTC",
		"3333",
	)
	ledger = mapping.gl_account(account, "Kraal Test Co", "Credit Cards - KTC", "USD")
	assert (ledger["account_type"], ledger["account_currency"], ledger["parent_account"]) == (
		"Bank",
		"CAD",
		"Credit Cards - KTC",
	)
	assert mapping.is_supported_account(account)
	assert not mapping.is_supported_account({"type": "investment"})


def test_a_bank_account_linked_into_a_second_company_is_named_apart():
	held = {"Plaid Checking 0000"}
	name = mapping.free_account_name("Plaid Checking 0000", ("KB2", "Plaid 2"), held.__contains__)
	assert name == "Plaid Checking 0000 (KB2)"
	held.add(name)
	assert mapping.free_account_name("Plaid Checking 0000", ("KB2", "Plaid 2"), held.__contains__) == (
		"Plaid Checking 0000 (Plaid 2)"
	)
	assert mapping.free_account_name("Plaid Saving 1111", ("KB2",), held.__contains__) == "Plaid Saving 1111"
