"""QuickBooks records that fail stay open until they book: a missing mapping a person fills in, and a
paid invoice QuickBooks changed, held until a person applies QuickBooks' version."""

import copy

import frappe

from kraal_connect import api
from kraal_connect.connectors.qbo.reconciliation import reconcile, reconcile_books
from kraal_connect.engine.runner import run_integration
from tests.bench.qbo_helpers import ABBR, COMPANY, REALM, gl_balances, linked, source
from tests.bench.site_helpers import counts, latest_log
from tests.bench.test_failed_records import run_queued_retry

pytest_plugins = ["tests.bench.qbo_helpers"]

# An item whose income account QuickBooks does not list, so the migration never sees account 99.
BACKFLOW_TESTING = {
	"Id": "9",
	"SyncToken": "0",
	"Name": "Backflow Testing",
	"FullyQualifiedName": "Backflow Testing",
	"Type": "Service",
	"Active": True,
	"UnitPrice": 95,
	"IncomeAccountRef": {"value": "99", "name": "Testing Income"},
	"MetaData": {"CreateTime": "2023-01-10T09:00:00-08:00", "LastUpdatedTime": "2023-01-10T09:00:00-08:00"},
}


def failed_record(integration: str, entity: str, external_id: str):
	return frappe.get_doc(
		"Kraal Failed Record", {"integration": integration, "entity": entity, "external_id": external_id}
	)


def cursors(integration: str) -> dict[str, str]:
	return {row.entity: row.cursor for row in frappe.get_doc("Kraal Integration", integration).entities}


def test_an_item_waiting_for_an_account_mapping_books_when_a_person_fills_it_in(
	qbo_integration, qbo_emulator
):
	qbo_emulator.realms[REALM].records["Item"]["9"] = copy.deepcopy(BACKFLOW_TESTING)
	run_integration(qbo_integration, "Manual")

	log = latest_log(qbo_integration)
	assert log.status == "Partial"
	assert counts(log)["item"] == (6, 4, 0, 0, 1, 1)
	failure = failed_record(qbo_integration, "item", "9")
	assert (failure.status, failure.kind, failure.mapping_type, failure.mapping_key) == (
		"Open",
		"Error",
		"QuickBooks Account",
		"99",
	)
	assert failure.message == (
		"QuickBooks Item 9 (IncomeAccountRef): no QuickBooks Account mapping for '99'; "
		"add it under Kraal Account Mapping"
	)
	assert not frappe.db.exists("Item", "Backflow Testing")
	# The item books nothing, so the books match; the migration is still not complete.
	assert reconcile(qbo_integration, "2024-12-31") == {
		"migration_status": "Failed Records Open",
		"as_of_date": "2024-12-31",
		"differing_accounts": 0,
		"differing_items": 0,
		"failed_records": 1,
	}
	assert frappe.db.get_value("Kraal Integration", qbo_integration, "migration_status") == (
		"Failed Records Open"
	)
	before = cursors(qbo_integration)

	# The run left an empty row for account 99; a person points it at ERPNext's service income.
	row = frappe.get_doc(
		"Kraal Account Mapping",
		{"integration": qbo_integration, "key_type": "QuickBooks Account", "external_key": "99"},
	)
	assert row.target_name is None
	row.target_name = f"Service - {ABBR}"
	row.save()
	frappe.db.commit()
	run_queued_retry(qbo_integration)

	item = linked(qbo_integration, "item", "9")
	assert (item.name, item.is_sales_item) == ("Backflow Testing", 1)
	assert [(d.company, d.income_account) for d in item.item_defaults] == [(COMPANY, f"Service - {ABBR}")]
	log = latest_log(qbo_integration)
	assert (log.trigger, log.status) == ("Retry", "Success")
	assert [(r.entity, r.external_id, r.failed_record) for r in log.fixed] == [("item", "9", failure.name)]
	failure.reload()
	assert (failure.status, failure.fixed_by) == ("Fixed", log.name)
	assert cursors(qbo_integration) == before  # read fresh by its id: no stream moved
	assert reconcile(qbo_integration, "2024-12-31")["migration_status"] == "Complete"

	run_integration(qbo_integration, "Manual")  # and nothing is left for the next run to try
	log = latest_log(qbo_integration)
	assert (log.status, len(log.fixed), len(log.failures)) == ("Success", 0, 0)
	assert cursors(qbo_integration) == before


def test_a_paid_invoice_changed_in_quickbooks_is_held_until_a_person_applies_the_change(
	parallel_run, qbo_emulator
):
	invoice = linked(parallel_run, "invoice", "130")
	payment = linked(parallel_run, "payment", "150")
	assert (invoice.grand_total, invoice.outstanding_amount) == (1714.5, 0)
	invoice_gl = gl_entries("Sales Invoice", invoice.name)
	books = gl_balances(COMPANY)

	# Someone in QuickBooks bills two more hours of consulting on the paid invoice.
	qbo = source(parallel_run, qbo_emulator)
	record = qbo.read("Invoice", "130")
	lines = copy.deepcopy(record["Line"])
	lines[0]["SalesItemLineDetail"]["Qty"] = 12
	lines[0]["Amount"] = 1800
	changed = qbo.update("Invoice", {"Id": "130", "SyncToken": record["SyncToken"], "Line": lines})
	assert (changed["SyncToken"], changed["TotalAmt"]) == ("1", 2014.5)

	run_integration(parallel_run, "Manual")
	log = latest_log(parallel_run)
	assert log.status == "Partial"
	assert [(f.entity, f.external_id, f.kind) for f in log.failures] == [("invoice", "130", "Conflict")]
	conflict = failed_record(parallel_run, "invoice", "130")
	assert (conflict.status, conflict.kind) == ("Open", "Conflict")
	assert conflict.message == (
		f"Sales Invoice {invoice.name}: Sales Invoice {invoice.name} is paid or partly paid by "
		f"Payment Entry {payment.name}. The source changed items[1].qty; the document was kept"
	)
	invoice.reload()
	assert (invoice.docstatus, invoice.grand_total, invoice.outstanding_amount) == (1, 1714.5, 0)
	assert linked(parallel_run, "invoice", "130").name == invoice.name
	assert gl_entries("Sales Invoice", invoice.name) == invoice_gl
	assert gl_balances(COMPANY) == books

	# ERPNext cancels a paid invoice only when Accounts Settings lets it unlink the payment.
	settings = ("Accounts Settings", "unlink_payment_on_cancellation_of_invoice")
	unlink = frappe.db.get_single_value(*settings)
	try:
		frappe.db.set_single_value(*settings, 0)
		frappe.db.commit()
		api.apply_source_version(conflict.name)
		frappe.db.commit()
		run_queued_retry(parallel_run)
		conflict.reload()
		assert (conflict.status, conflict.attempts) == ("Open", 2)
		assert conflict.message == (
			f"Cannot delete or cancel because Sales Invoice {invoice.name} is linked with "
			f"Payment Entry {payment.name} at Row: 1"
		)
		assert frappe.db.get_value("Sales Invoice", invoice.name, "docstatus") == 1
		assert gl_balances(COMPANY) == books

		# The person lets ERPNext unlink payments, sees the invoice is still held, and applies it.
		frappe.db.set_single_value(*settings, 1)
		frappe.db.commit()
		api.retry_failure(conflict.name)
		frappe.db.commit()
		run_queued_retry(parallel_run)
		conflict.reload()
		assert (conflict.status, conflict.kind) == ("Open", "Conflict")
		api.apply_source_version(conflict.name)
		frappe.db.commit()
		run_queued_retry(parallel_run)
	finally:
		frappe.db.set_single_value(*settings, unlink)
		frappe.db.commit()

	log = latest_log(parallel_run)
	assert (log.trigger, log.status, [(r.entity, r.external_id) for r in log.fixed]) == (
		"Retry",
		"Success",
		[("invoice", "130")],
	)
	conflict.reload()
	assert (conflict.status, conflict.fixed_by) == ("Fixed", log.name)
	amended = linked(parallel_run, "invoice", "130")
	assert frappe.db.get_value("Sales Invoice", invoice.name, "docstatus") == 2
	assert (amended.amended_from, amended.docstatus, amended.grand_total) == (invoice.name, 1, 2014.5)
	assert [(row.qty, row.amount) for row in amended.items] == [(12, 1800), (20, 200)]
	assert gl_entries("Sales Invoice", invoice.name) == []
	assert gl_entries("Sales Invoice", amended.name) == [
		(f"2200 - Board of Equalization Payable - {ABBR}", 0, 14.5),
		(f"4000 - Sales of Product Income - {ABBR}", 0, 200),
		(f"4100 - Services - {ABBR}", 0, 1800),
		(f"5000 - Cost of Goods Sold - {ABBR}", 80, 0),
		(f"Debtors - {ABBR}", 2014.5, 0),
		(f"Stock In Hand - {ABBR}", 0, 80),
	]
	# ERPNext unlinked the payment: it stays submitted, its ledger as it was, now an unallocated
	# advance of the customer, and the amended invoice is outstanding in full. QuickBooks still
	# applies the payment to the invoice; the books agree all the same, account by account.
	payment.reload()
	assert (payment.docstatus, payment.references, payment.unallocated_amount) == (1, [], 1714.5)
	assert frappe.get_all(
		"Payment Ledger Entry",
		filters={"voucher_no": payment.name, "delinked": 0},
		fields=["against_voucher_no", "amount"],
	) == [{"against_voucher_no": payment.name, "amount": -1714.5}]
	assert amended.outstanding_amount == 2014.5
	after = gl_balances(COMPANY)
	moved = {a: after.get(a, 0) - books.get(a, 0) for a in set(after) | set(books)}
	assert {a: m for a, m in moved.items() if m} == {
		f"Debtors - {ABBR}": 300,
		f"4100 - Services - {ABBR}": -300,
	}
	assert reconcile_books(parallel_run).differences == []


def test_a_new_quickbooks_version_that_books_the_same_writes_nothing(parallel_run, qbo_emulator):
	"""QBO bumps the SyncToken for what books nothing (an invoice printed, a receipt emailed): the
	link learns the version, the paid documents are neither amended nor held."""
	receipt = linked(parallel_run, "sales_receipt", "145")
	invoice = linked(parallel_run, "invoice", "130")
	books = gl_balances(COMPANY)
	qbo = source(parallel_run, qbo_emulator)
	qbo.update("SalesReceipt", {"Id": "145", "SyncToken": "0", "EmailStatus": "EmailSent"})
	qbo.update("Invoice", {"Id": "130", "SyncToken": "0", "PrintStatus": "PrintComplete"})

	run_integration(parallel_run, "Manual")
	log = latest_log(parallel_run)
	assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
	assert {e: c for e, c in counts(log).items() if c[0]} == {
		"invoice": (1, 0, 0, 0, 1, 0),
		"sales_receipt": (1, 0, 0, 0, 1, 0),
	}
	for entity, external_id, doc in (("sales_receipt", "145", receipt), ("invoice", "130", invoice)):
		now = linked(parallel_run, entity, external_id)
		assert (now.name, now.docstatus, now.modified) == (doc.name, 1, doc.modified)
		link_version = frappe.db.get_value(
			"Kraal External Link",
			{"integration": parallel_run, "external_type": entity, "external_id": external_id},
			"external_version",
		)
		assert link_version == "1"
	assert gl_balances(COMPANY) == books


def gl_entries(voucher_type: str, voucher_no: str) -> list[tuple]:
	return [
		(row.account, row.debit, row.credit)
		for row in frappe.get_all(
			"GL Entry",
			filters={"voucher_type": voucher_type, "voucher_no": voucher_no, "is_cancelled": 0},
			fields=["account", "debit", "credit"],
			order_by="account, debit, credit",
		)
	]
