"""Failed records kept until they book, Retry now / Dismiss / Apply source version from the form, and
the one lock rule, on a real site with Plaid's emulator (the other vendors' cases sit with their
own tests)."""

from decimal import Decimal

import frappe
import pytest
from frappe.utils.background_jobs import get_queue

from kraal_connect import api
from kraal_connect.engine.runner import retry_failures, run_integration
from tests.bench.plaid_helpers import (
	add_sync_page,
	bank_accounts_of,
	booked_transactions,
	connect_bank,
	first_transactions,
	purge_integration,
)
from tests.bench.site_helpers import ensure_user, latest_log

PLATYPUS = "item-platypus"
CLERK = "kraal-failures-clerk@example.com"


@pytest.fixture
def bank(plaid_emulator):
	name = connect_bank(PLATYPUS, plaid_emulator.url)
	run_integration(name, "Manual")
	yield name
	purge_integration(name)


def failed_record(integration: str, external_id: str):
	return frappe.get_doc("Kraal Failed Record", {"integration": integration, "external_id": external_id})


def cursor(integration: str) -> str:
	return frappe.get_doc("Kraal Integration", integration).entity_row("transaction").cursor


def run_queued_retry(integration: str) -> str:
	"""Run the retry job the form's button queued, as a worker would, and take it off the queue."""
	queue = get_queue("long")
	[job] = [
		j
		for j in queue.jobs
		if j.kwargs.get("method") == "kraal_connect.engine.runner.retry_failures"
		and j.kwargs["kwargs"]["integration"] == integration
	]
	job.delete()
	# A worker starts each job on a fresh frappe.local; this test process has kept Frappe's
	# per-process caches since its first test, among them the map of what links to what dynamically,
	# built from the rows present then. A stale one lets ERPNext cancel an invoice a payment names.
	frappe.local.dynamic_link_map = None
	frappe.flags.link_fields = {}
	return retry_failures(**job.kwargs["kwargs"])


def test_a_transaction_fixed_at_the_bank_books_and_the_log_names_it_fixed(bank, plaid_data):
	(bad,) = (dict(t) for t in first_transactions(plaid_data, PLATYPUS, 1))
	bad.update(transaction_id="new-bad-1", amount="12,50")
	add_sync_page(plaid_data, PLATYPUS, added=[bad])
	run_integration(bank, "Manual")

	failure = failed_record(bank, "new-bad-1")
	assert (failure.status, failure.kind, failure.attempts) == ("Open", "Error", 1)
	assert failure.message == "Plaid transaction new-bad-1: field 'amount' is not a number: '12,50'"
	assert failure.first_log == latest_log(bank).name
	assert '"amount": "12,50"' in failure.record  # Plaid cannot return one transaction: it is kept
	cursor_after_failure = cursor(bank)

	# The bank corrects it; Plaid reports it as modified on the next page, after the cursor.
	add_sync_page(plaid_data, PLATYPUS, modified=[dict(bad, amount=12.5)])
	run_integration(bank, "Manual")

	log = latest_log(bank)
	assert booked_transactions(bank)["new-bad-1"] == Decimal("12.50")
	assert [(r.entity, r.external_id, r.failed_record, r.first_seen) for r in log.fixed] == [
		("transaction", "new-bad-1", failure.name, failure.first_seen)
	]
	assert (log.status, len(log.failures), log.entities[0].fetched) == ("Success", 0, 1)
	failure.reload()
	assert (failure.status, failure.fixed_by) == ("Fixed", log.name)
	assert cursor(bank) != cursor_after_failure  # read on from where it was, not from the start


def test_a_transaction_waiting_for_a_mapping_books_when_a_person_fills_it_in(bank, plaid_data):
	(txn,) = first_transactions(plaid_data, PLATYPUS, 1)
	# An account Plaid does not list among the item's checking, savings and card accounts.
	stray = dict(txn, transaction_id="stray-1", account_id="acct-brokerage-cash", amount=-5.25)
	add_sync_page(plaid_data, PLATYPUS, added=[stray])
	run_integration(bank, "Manual")
	failure = failed_record(bank, "stray-1")
	assert (failure.status, failure.mapping_type, failure.mapping_key) == (
		"Open",
		"Plaid Account",
		"acct-brokerage-cash",
	)
	cursor_before = cursor(bank)

	row = frappe.get_doc(
		"Kraal Account Mapping",
		{"integration": bank, "key_type": "Plaid Account", "external_key": "acct-brokerage-cash"},
	)
	row.target_name = frappe.db.get_value("Bank Account", {"name": ("in", bank_accounts_of(bank))}, "name")
	row.save()
	frappe.db.commit()
	run_queued_retry(bank)

	assert booked_transactions(bank)["stray-1"] == Decimal("-5.25")
	assert cursor(bank) == cursor_before
	log = latest_log(bank)
	assert (log.trigger, [r.external_id for r in log.fixed]) == ("Retry", ["stray-1"])
	assert failed_record(bank, "stray-1").status == "Fixed"


def test_retry_now_and_dismiss_from_the_form_check_who_asks(bank, plaid_data):
	(txn,) = first_transactions(plaid_data, PLATYPUS, 1)
	add_sync_page(
		plaid_data,
		PLATYPUS,
		added=[dict(txn, transaction_id="bad-a", amount="x"), dict(txn, transaction_id="bad-b", amount="y")],
	)
	run_integration(bank, "Manual")
	bad_a, bad_b = failed_record(bank, "bad-a"), failed_record(bank, "bad-b")
	listed = api.open_failures(bank)
	assert listed["total"] == 2
	# The form's list shows when each was seen (frappe.get_all would drop fields named *_seen).
	assert {(r.external_id, r.first_seen, r.last_seen) for r in listed["rows"]} == {
		(f.external_id, f.first_seen, f.last_seen) for f in (bad_a, bad_b)
	}

	clerk()
	frappe.set_user(CLERK)
	try:
		for action in (
			lambda: api.retry_failure(bad_a.name),
			lambda: api.retry_all_failures(bank),
			lambda: api.dismiss_failure(bad_b.name, "duplicate line the bank sent"),
		):
			with pytest.raises(frappe.PermissionError):
				action()
	finally:
		frappe.set_user("Administrator")

	api.retry_failure(bad_a.name)
	frappe.db.commit()
	run_queued_retry(bank)
	bad_a.reload()
	assert (bad_a.status, bad_a.attempts) == ("Open", 2)  # still malformed: tried, still open
	assert latest_log(bank).trigger == "Retry"

	with pytest.raises(frappe.ValidationError):
		api.dismiss_failure(bad_b.name, "  ")
	api.dismiss_failure(bad_b.name, "duplicate line the bank sent")
	bad_b.reload()
	assert (bad_b.status, bad_b.dismissed_by, bad_b.dismiss_reason) == (
		"Dismissed",
		"Administrator",
		"duplicate line the bank sent",
	)
	assert api.open_failures(bank)["total"] == 1
	with pytest.raises(frappe.ValidationError):
		api.retry_failure(bad_b.name)  # dismissed stays dismissed


def test_a_reconciled_transaction_removed_at_the_bank_stays_until_a_person_applies_the_removal(
	bank, plaid_data
):
	from tests.bench.test_plaid_sync import reconcile

	(txn,) = first_transactions(plaid_data, PLATYPUS, 1)
	bank_transaction = frappe.get_doc(
		"Bank Transaction", {"transaction_id": txn["transaction_id"], "docstatus": 1}
	)
	reconcile(bank_transaction)
	journal = bank_transaction.payment_entries[0].payment_entry
	add_sync_page(plaid_data, PLATYPUS, removed=[{"transaction_id": txn["transaction_id"]}])
	run_integration(bank, "Manual")

	bank_transaction.reload()
	assert bank_transaction.docstatus == 1
	conflict = failed_record(bank, txn["transaction_id"])
	assert (conflict.kind, conflict.status) == ("Conflict", "Open")
	assert conflict.message == (
		f"Bank Transaction {bank_transaction.name}: Bank Transaction {bank_transaction.name} is reconciled "
		f"against Journal Entry {journal}. The source cancelled it; the document was kept"
	)

	api.apply_source_version(conflict.name)
	frappe.db.commit()
	run_queued_retry(bank)
	bank_transaction.reload()
	conflict.reload()
	assert (bank_transaction.docstatus, conflict.status) == (2, "Fixed")


def clerk():
	ensure_user(CLERK, "Accounts User", "Clerk")
