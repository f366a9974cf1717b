"""Plaid Link's account choice on a real site: only the accounts chosen in Link sync, a choice
widened later reads the new account's history, and a public token typed in is exchanged like Link's."""

import json

import frappe
import pytest

from kraal_connect.connectors.plaid.link import bank_accounts, choose_accounts, exchange_public_token
from kraal_connect.engine.runner import run_integration
from tests.bench.conftest import COMPANY
from tests.bench.plaid_helpers import (
	CLIENT_SECRET,
	bank_accounts_of,
	booked_transactions,
	purge_integration,
	source_transactions,
)
from tests.bench.site_helpers import counts, latest_log

PLATYPUS = "item-platypus"
CHECKING, SAVINGS, CARD = "0ab4b0ce2d30fb71b5833aba", "f1010fc550c58a990ace3975", "d68488fff66851fb7666b8fc"


@pytest.fixture
def integration(plaid_emulator):
	"""A Plaid integration of the emulator, not linked yet; purged afterwards."""
	name = f"Plaid Link {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": name,
			"vendor": "Plaid",
			"company": COMPANY,
			"client_id": "kraal-bench",
			"client_secret": CLIENT_SECRET,
			"api_base_url": plaid_emulator.url,
		}
	).insert()
	frappe.db.commit()
	yield name
	purge_integration(name)


def of_accounts(plaid_data, account_ids: set[str]) -> dict:
	"""The bank's posted transactions of these accounts only, id -> signed amount."""
	accounts = {}
	for page in sorted((plaid_data / f"items/{PLATYPUS}/transactions_sync").glob("*.json")):
		for txn in json.loads(page.read_text())["added"]:
			accounts[txn["transaction_id"]] = txn["account_id"]
	every = source_transactions(plaid_data, PLATYPUS)
	return {txn: amount for txn, amount in every.items() if accounts[txn] in account_ids}


def test_only_the_accounts_chosen_in_link_sync(integration, plaid_data):
	# Link's onSuccess metadata.accounts, as the form sends their ids (JSON).
	linked = exchange_public_token(integration, f"public-emulator-{PLATYPUS}", json.dumps([CHECKING]))
	frappe.db.commit()
	assert linked["accounts"] == 1
	assert frappe.db.get_value("Kraal Integration", integration, "plaid_accounts") == (
		f"{CHECKING} First Platypus Bank Plaid Checking 0000"
	)
	assert run_integration(integration, "Manual")
	checking_only = of_accounts(plaid_data, {CHECKING})
	assert checking_only and booked_transactions(integration) == checking_only
	assert len(bank_accounts_of(integration)) == 1
	log = latest_log(integration)
	assert log.status == "Success"
	# The other accounts' transactions are passed over, not failed.
	_fetched, created, _updated, _cancelled, skipped, failed = counts(log)["transaction"]
	assert (created, failed) == (len(checking_only), 0)
	assert skipped >= len(source_transactions(plaid_data, PLATYPUS)) - len(checking_only)
	assert not frappe.get_all("Kraal Failed Record", filters={"integration": integration, "status": "Open"})

	listed = {a["account_id"]: a["chosen"] for a in bank_accounts(integration)}
	assert listed == {CHECKING: True, SAVINGS: False, CARD: False}

	# Ticking savings later books its history too (the cursor had passed it), and nothing twice.
	choose_accounts(integration, json.dumps([CHECKING, SAVINGS]))
	frappe.db.commit()
	assert run_integration(integration, "Manual")
	assert booked_transactions(integration) == of_accounts(plaid_data, {CHECKING, SAVINGS})
	assert len(bank_accounts_of(integration)) == 2


def test_a_public_token_typed_in_links_every_account_until_some_are_chosen(integration, plaid_data):
	# The emulator's (and sandbox's) token entered by hand: no account list from Link.
	exchange_public_token(integration, f"public-emulator-{PLATYPUS}")
	frappe.db.commit()
	assert not frappe.db.get_value("Kraal Integration", integration, "plaid_accounts")
	assert all(a["chosen"] for a in bank_accounts(integration))
	with pytest.raises(frappe.ValidationError, match="not-an-account"):
		choose_accounts(integration, json.dumps([CHECKING, "not-an-account"]))
	frappe.db.rollback()
	with pytest.raises(frappe.ValidationError):
		exchange_public_token(integration, "public-emulator-no-such-item")
	frappe.db.rollback()
	assert run_integration(integration, "Manual")
	assert booked_transactions(integration) == source_transactions(plaid_data, PLATYPUS)
