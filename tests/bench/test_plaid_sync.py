"""Plaid bank feeds on a real site, against the Plaid emulator over HTTP."""

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from decimal import Decimal

import frappe
import pytest
from frappe.utils import now_datetime

from kraal_connect.engine.runner import run_integration
from tests.bench.plaid_helpers import (
	CLIENT_SECRET,
	add_sync_page,
	bank_accounts_of,
	booked_transactions,
	connect_bank,
	delete_bank_transactions,
	first_transactions,
	purge_integration,
	source_transactions,
)
from tests.bench.site_helpers import another_connection, latest_log

PLATYPUS, TATTERSALL = "item-platypus", "item-tattersall"


@pytest.fixture
def connected(plaid_emulator):
	"""connected(item_id) -> a linked integration; all of them are purged afterwards."""
	names = []

	def connect(item_id):
		names.append(connect_bank(item_id, plaid_emulator.url))
		return names[-1]

	yield connect
	for name in names:
		purge_integration(name)


def test_two_banks_with_three_accounts_each_land_with_exact_amounts(connected, plaid_data):
	for item_id in (PLATYPUS, TATTERSALL):
		integration = connected(item_id)
		assert run_integration(integration, "Manual")
		assert booked_transactions(integration) == source_transactions(plaid_data, item_id)
		accounts = frappe.get_all(
			"Bank Account",
			filters={"name": ("in", bank_accounts_of(integration))},
			fields=["account", "mask"],
		)
		assert len(accounts) == 3
		assert {frappe.db.get_value("Account", a.account, "account_type") for a in accounts} == {"Bank"}
		log = latest_log(integration)
		assert log.status == "Success"
		assert [(r.entity, r.fetched, r.created, r.failed) for r in log.entities] == [
			("transaction", 13 if item_id == PLATYPUS else 12, 12, 0)
		]
		assert frappe.db.get_value("Kraal Integration", integration, "status") == "Active"


def test_a_second_run_creates_nothing_even_from_an_empty_cursor(connected, plaid_data):
	integration = connected(PLATYPUS)
	run_integration(integration, "Manual")
	count = frappe.db.count("Bank Transaction", {"bank_account": ("in", bank_accounts_of(integration))})
	run_integration(integration, "Manual")
	assert [(r.fetched, r.created) for r in latest_log(integration).entities] == [(0, 0)]
	frappe.db.set_value("Kraal Integration Entity", {"parent": integration}, "cursor", "")
	frappe.db.commit()
	run_integration(integration, "Manual")
	log = latest_log(integration)
	assert [(r.fetched, r.created, r.skipped) for r in log.entities] == [(13, 0, 13)]
	assert (
		frappe.db.count("Bank Transaction", {"bank_account": ("in", bank_accounts_of(integration))}) == count
	)


def test_modified_at_the_source_is_amended_and_removed_is_cancelled(connected, plaid_data):
	integration = connected(PLATYPUS)
	run_integration(integration, "Manual")
	changed, gone = first_transactions(plaid_data, PLATYPUS)
	changed = dict(changed, amount=123.45, name="CORRECTED BY BANK")
	add_sync_page(
		plaid_data,
		PLATYPUS,
		modified=[changed],
		removed=[{"account_id": gone["account_id"], "transaction_id": gone["transaction_id"]}],
	)
	run_integration(integration, "Manual")

	assert booked_transactions(integration) == source_transactions(plaid_data, PLATYPUS)
	assert booked_transactions(integration)[changed["transaction_id"]] == Decimal("123.45")
	versions = frappe.get_all(
		"Bank Transaction",
		filters={"transaction_id": changed["transaction_id"]},
		fields=["name", "docstatus", "amended_from", "withdrawal"],
		order_by="creation",
	)
	assert [v.docstatus for v in versions] == [2, 1]
	assert versions[1].amended_from == versions[0].name
	link = frappe.db.get_value(
		"Kraal External Link",
		{"integration": integration, "external_id": changed["transaction_id"]},
		"reference_name",
	)
	assert link == versions[1].name
	assert frappe.get_all(
		"Bank Transaction", filters={"transaction_id": gone["transaction_id"]}, pluck="status"
	) == ["Cancelled"]
	counts = latest_log(integration).entities[0]
	assert (counts.updated, counts.cancelled) == (1, 1)


def test_a_reconciled_transaction_is_not_changed_and_the_conflict_is_logged(connected, plaid_data):
	integration = connected(PLATYPUS)
	run_integration(integration, "Manual")
	txn = first_transactions(plaid_data, PLATYPUS, 1)[0]
	bank_transaction = frappe.get_doc(
		"Bank Transaction", {"transaction_id": txn["transaction_id"], "docstatus": 1}
	)
	reconcile(bank_transaction)
	add_sync_page(plaid_data, PLATYPUS, modified=[dict(txn, amount=1.0)])
	run_integration(integration, "Manual")

	bank_transaction.reload()
	assert bank_transaction.docstatus == 1
	assert bank_transaction.status == "Reconciled"
	log = latest_log(integration)
	assert log.status == "Partial"
	assert [(f.external_id, f.kind) for f in log.failures] == [(txn["transaction_id"], "Conflict")]
	assert "is reconciled" in log.failures[0].message


def reconcile(bank_transaction):
	"""Match the bank line with a Journal Entry, as the Bank Reconciliation Tool does."""
	gl_account = frappe.db.get_value("Bank Account", bank_transaction.bank_account, "account")
	company = bank_transaction.company
	other = frappe.db.get_value("Account", {"company": company, "account_type": "Cash", "is_group": 0})
	amount = bank_transaction.deposit or bank_transaction.withdrawal
	bank_side = "debit_in_account_currency" if bank_transaction.deposit else "credit_in_account_currency"
	other_side = "credit_in_account_currency" if bank_transaction.deposit else "debit_in_account_currency"
	journal = frappe.get_doc(
		{
			"doctype": "Journal Entry",
			"company": company,
			"posting_date": bank_transaction.date,
			"cheque_no": bank_transaction.reference_number,
			"cheque_date": bank_transaction.date,
			"accounts": [
				{"account": gl_account, bank_side: amount},
				{"account": other, other_side: amount},
			],
		}
	)
	journal.insert()
	journal.submit()
	bank_transaction.add_payment_entries([{"payment_doctype": "Journal Entry", "payment_name": journal.name}])
	bank_transaction.save()
	frappe.db.commit()


def test_a_malformed_transaction_fails_alone_with_its_id_in_the_log(connected, plaid_data):
	integration = connected(PLATYPUS)
	run_integration(integration, "Manual")
	good, bad = (dict(t) for t in first_transactions(plaid_data, PLATYPUS))
	good.update(transaction_id="new-good-1", amount=-88.12)
	bad.update(transaction_id="new-bad-1", amount="12,50")
	add_sync_page(plaid_data, PLATYPUS, added=[bad, good])
	run_integration(integration, "Manual")

	booked = booked_transactions(integration)
	assert booked["new-good-1"] == Decimal("-88.12")
	assert "new-bad-1" not in booked
	log = latest_log(integration)
	assert log.status == "Partial"
	assert [(f.entity, f.external_id, f.message) for f in log.failures] == [
		("transaction", "new-bad-1", "Plaid transaction new-bad-1: field 'amount' is not a number: '12,50'")
	]
	assert len(booked) == 13


def test_a_killed_run_resumes_and_ends_with_each_source_transaction_once(
	connected, plaid_data, plaid_emulator
):
	integration = connected(PLATYPUS)
	# Page 1 answers at once; page 2 hangs long enough for the worker to be killed while waiting.
	plaid_emulator.add_fault(path="/transactions/sync", skip=1, delay=60)
	worker = subprocess.Popen(
		[
			sys.executable,
			"-c",
			"import sys, frappe; frappe.init(site=sys.argv[1], sites_path='.'); frappe.connect();"
			"from kraal_connect.engine.runner import run_integration; run_integration(sys.argv[2], 'Manual')",
			frappe.local.site,
			integration,
		],
		cwd=os.getcwd(),
	)
	try:
		deadline = time.monotonic() + 60
		while time.monotonic() < deadline and len(booked_transactions(integration)) < 5:
			frappe.db.rollback()  # a fresh snapshot of what the worker committed
			time.sleep(0.5)
		assert len(booked_transactions(integration)) == 5, "page 1 was never committed"
		assert run_integration(integration, "Manual") is None, "a second run started beside the first"
	finally:
		worker.send_signal(signal.SIGKILL)
		worker.wait()
	plaid_emulator.clear_faults()
	frappe.db.rollback()
	assert frappe.db.get_value("Kraal Sync Log", {"integration": integration}, "status") == "Running"

	run_integration(integration, "Manual")
	assert booked_transactions(integration) == source_transactions(plaid_data, PLATYPUS)
	statuses = frappe.get_all(
		"Kraal Sync Log", filters={"integration": integration}, order_by="creation", pluck="status"
	)
	assert statuses == ["Failed", "Success"]
	assert latest_log(integration).entities[0].created == 7


def test_item_login_required_asks_for_reauthentication_and_stops_only_that_bank(connected, plaid_data):
	broken, healthy = connected(PLATYPUS), connected(TATTERSALL)
	(plaid_data / f"items/{PLATYPUS}/error.json").write_text(
		json.dumps(
			{"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED", "error_message": "log in again"}
		)
	)
	run_integration(broken, "Scheduler")
	run_integration(healthy, "Scheduler")

	status, reason = frappe.db.get_value("Kraal Integration", broken, ["status", "status_reason"])
	assert status == "Needs Re-authentication"
	assert reason == "ITEM_LOGIN_REQUIRED: log in again"
	assert latest_log(broken).status == "Failed"
	assert frappe.db.get_value("Kraal Integration", healthy, "status") == "Active"
	assert len(booked_transactions(healthy)) == 12

	from kraal_connect.connectors.plaid.link import create_link_token

	assert create_link_token(broken).startswith("link-emulator-update-")
	assert run_integration(broken, "Scheduler") is None  # not retried until someone re-authenticates


def test_secrets_never_reach_the_sync_log(connected, plaid_emulator):
	integration = connected(PLATYPUS)
	access_token = frappe.get_doc("Kraal Integration", integration).get_password("access_token")
	plaid_emulator.add_fault(
		path="/transactions/sync",
		status=400,
		times=0,
		body={
			"error_type": "INVALID_REQUEST",
			"error_code": "INVALID_FIELD",
			"error_message": f"bad request for {access_token} with secret {CLIENT_SECRET}",
			"display_message": None,
			"request_id": "r",
		},
	)
	run_integration(integration, "Manual")
	log = latest_log(integration)
	text = json.dumps(log.as_dict(), default=str)
	assert "INVALID_FIELD" in text
	assert access_token not in text
	assert CLIENT_SECRET not in text


def test_disconnect_keeps_links_and_reconnect_resumes_without_reimporting(connected, plaid_data):
	from kraal_connect.api import disconnect, reconnect

	integration = connected(PLATYPUS)
	run_integration(integration, "Manual")
	links = frappe.db.count("Kraal External Link", {"integration": integration})
	disconnect(integration)
	frappe.db.commit()
	assert run_integration(integration, "Scheduler") is None
	assert frappe.db.count("Kraal External Link", {"integration": integration}) == links
	reconnect(integration)
	frappe.db.commit()
	run_integration(integration, "Manual")
	assert [(r.fetched, r.created) for r in latest_log(integration).entities] == [(0, 0)]
	assert booked_transactions(integration) == source_transactions(plaid_data, PLATYPUS)


def test_an_existing_bank_account_with_the_same_digits_is_linked_not_duplicated(connected, plaid_emulator):
	from tests.bench.conftest import COMPANY

	ledger = frappe.get_doc(
		{
			"doctype": "Account",
			"account_name": "Kraal Existing Checking",
			"company": COMPANY,
			"parent_account": frappe.db.get_value(
				"Account", {"company": COMPANY, "account_type": "Bank", "is_group": 1}
			),
			"account_type": "Bank",
		}
	).insert()
	if not frappe.db.exists("Bank", "First Platypus Bank"):
		frappe.get_doc({"doctype": "Bank", "bank_name": "First Platypus Bank"}).insert()
	existing = frappe.get_doc(
		{
			"doctype": "Bank Account",
			"account_name": "Our Platypus Checking",
			"bank": "First Platypus Bank",
			"company": COMPANY,
			"account": ledger.name,
			"is_company_account": 1,
			"mask": "0000",
		}
	).insert()
	frappe.db.commit()
	try:
		integration = connected(PLATYPUS)
		run_integration(integration, "Manual")
		assert existing.name in bank_accounts_of(integration)
		assert frappe.db.count("Bank Account", {"bank": "First Platypus Bank", "mask": "0000"}) == 1
		assert frappe.db.count("Bank Transaction", {"bank_account": existing.name, "docstatus": 1}) == 4
	finally:
		purge_existing_bank_account(existing.name, ledger.name)


def purge_existing_bank_account(bank_account: str, ledger: str) -> None:
	delete_bank_transactions([bank_account])
	frappe.db.delete("Kraal Account Mapping", {"target_name": bank_account})
	frappe.delete_doc("Bank Account", bank_account, force=True)
	frappe.delete_doc("Account", ledger, force=True)
	frappe.db.commit()


@contextmanager
def bank_transaction_numbers_held():
	"""Another connection holds the naming series every new Bank Transaction takes its number from, as a
	long transaction elsewhere on the site would; this connection gives up on a lock after a second."""
	series = f"ACC-BTN-{now_datetime():%Y}-"
	wait = frappe.db.sql("select @@session.innodb_lock_wait_timeout")[0][0]
	with another_connection() as other:
		other.sql("insert ignore into tabSeries (name, current) values (%s, 0)", series)
		other.commit()
		other.sql("select current from tabSeries where name = %s for update", series)
		frappe.db.sql("set session innodb_lock_wait_timeout = 1")
		try:
			yield
		finally:
			frappe.db.sql("set session innodb_lock_wait_timeout = %s", wait)


def test_a_page_that_waits_too_long_for_a_lock_is_left_for_the_next_run_not_failed(connected, plaid_data):
	integration = connected(PLATYPUS)
	with bank_transaction_numbers_held():
		run_integration(integration, "Manual")
	log = latest_log(integration)
	assert log.status == "Failed"
	assert [r.created for r in log.entities] == [0]
	# The stream stopped where its cursor stands; no record is blamed, so none is left behind.
	assert [(f.external_id, f.message.split(":")[0]) for f in log.failures] == [("", "stopped after retries")]
	assert "database busy" in log.failures[0].message
	assert frappe.db.get_value("Kraal Integration Entity", {"parent": integration}, "cursor") in (None, "")
	assert booked_transactions(integration) == {}

	run_integration(integration, "Manual")
	assert latest_log(integration).status == "Success"
	assert booked_transactions(integration) == source_transactions(plaid_data, PLATYPUS)


def test_a_sync_with_nothing_new_asks_plaid_once_an_entity(connected, plaid_emulator):
	"""A run that finds nothing new reads the item's accounts once and its transactions once."""
	integration = connected(PLATYPUS)
	run_integration(integration, "Manual")
	plaid_emulator.requests.clear()
	run_integration(integration, "Manual")
	log = latest_log(integration)
	assert log.status == "Success"
	assert [(r.fetched, r.created) for r in log.entities] == [(0, 0)]
	assert [r["path"] for r in plaid_emulator.requests] == ["/accounts/get", "/transactions/sync"]
	assert log.api_calls == 2
