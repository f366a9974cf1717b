"""Migrating a whole QuickBooks company into ERPNext, and proving the books match."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

import frappe
import pytest
from erpnext.stock.doctype.repost_item_valuation.repost_item_valuation import repost_entries

from kraal_connect.connectors.qbo.integration import ensure_fiscal_years
from kraal_connect.connectors.qbo.reconciliation import reconcile, reconcile_books
from kraal_connect.engine.locks import lock_name
from kraal_connect.engine.runner import run_integration
from kraal_connect.kraal_connect.report.quickbooks_reconciliation.quickbooks_reconciliation import execute
from tests.bench.qbo_helpers import (
	ABBR,
	COMPANY,
	LINK,
	REALM,
	delete_fiscal_years_of,
	gl_balances,
	linked,
	source_records,
)
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.qbo_helpers"]

MIGRATED = {
	# Inventory Asset goes to the warehouse's stock account, A/R and A/P to the company's defaults.
	"account": (21, 18, 0, 0, 3, 0),
	"term": (3, 3, 0, 0, 0, 0),
	"customer": (4, 4, 0, 0, 0, 0),
	"vendor": (3, 3, 0, 0, 0, 0),
	"item": (4, 3, 0, 0, 1, 0),  # a category books nothing
	"tax_code": (1, 1, 0, 0, 0, 0),
	"bill": (4, 4, 0, 0, 0, 0),
	"vendor_credit": (1, 1, 0, 0, 0, 0),
	"invoice": (4, 4, 0, 0, 0, 0),
	"credit_memo": (1, 1, 0, 0, 0, 0),
	"sales_receipt": (1, 1, 0, 0, 0, 0),
	"payment": (4, 4, 0, 0, 0, 0),
	"bill_payment": (4, 4, 0, 0, 0, 0),
	"deposit": (2, 2, 0, 0, 0, 0),
	"transfer": (1, 1, 0, 0, 0, 0),
	"journal_entry": (3, 3, 0, 0, 0, 0),
}


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_whole_company_comes_over_and_the_books_match_to_the_cent(qbo_integration, qbo_data):
	assert run_integration(qbo_integration, "Manual")
	log = latest_log(qbo_integration)
	assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
	assert counts(log) == MIGRATED

	for as_of in ("2023-06-30", "2023-12-31", "2024-12-31"):
		result = reconcile_books(qbo_integration, as_of)
		assert result.differences == [], as_of
		assert result.failed == []
	result = reconcile_books(qbo_integration, "2024-12-31")
	balances = {row.erpnext_account: row.erpnext_balance for row in result.balances}
	assert balances[f"1010 - Checking - {ABBR}"] == Decimal("38032.13")
	assert balances[f"3100 - Retained Earnings - {ABBR}"] == Decimal("-164.00")  # 2023's profit
	assert reconcile(qbo_integration, "2024-12-31")["migration_status"] == "Complete"
	assert frappe.db.get_value("Kraal Integration", qbo_integration, "migration_status") == "Complete"
	check_accounts(qbo_integration)

	_, rows, message, _, summary = execute({"integration": qbo_integration, "as_of_date": "2024-12-31"})
	assert {row["status"] for row in rows} == {"Matches"}
	assert message is None
	assert [s["value"] for s in summary[:3]] == ["Complete", 0, 0]

	check_documents(qbo_integration, qbo_data)


def check_accounts(integration: str) -> None:
	"""Sub-accounts under a group that keeps its own postings beside them; every QBO account has a
	mapping row naming where its postings go."""
	equipment = f"1500 - Equipment - {ABBR}"
	assert frappe.db.get_value("Account", equipment, "is_group") == 1
	assert sorted(frappe.get_all("Account", filters={"parent_account": equipment}, pluck="name")) == [
		f"1510 - Vehicles - {ABBR}",
		f"Equipment (own postings) - {ABBR}",
	]
	assert frappe.db.get_value("Account", f"1015 - Checking EUR - {ABBR}", "account_currency") == "EUR"
	rows = frappe.get_all(
		"Kraal Account Mapping",
		filters={"integration": integration, "key_type": "QuickBooks Account"},
		fields=["external_key", "target_name"],
	)
	assert len(rows) == 21 and all(r.target_name for r in rows)
	targets = {r.external_key: r.target_name for r in rows}
	assert (targets["81"], targets["84"], targets["33"]) == (
		f"Stock In Hand - {ABBR}",
		f"Debtors - {ABBR}",
		f"Creditors - {ABBR}",
	)
	assert targets["85"] == f"1101 - Accounts Receivable (A/R) - EUR - {ABBR}"
	assert frappe.get_all(
		"Party Account", filters={"parenttype": "Customer", "parent": "Berliner Bau GmbH"}, pluck="account"
	) == [targets["85"]]
	assert targets["37"] == f"Equipment (own postings) - {ABBR}"
	assert not frappe.db.exists("Account", {"account_name": "Inventory Asset", "company": COMPANY})


def check_documents(integration: str, qbo_data) -> None:
	"""Each QBO transaction as its ERPNext document, submitted, with QBO's amounts."""
	for record in source_records(qbo_data, "Invoice") + source_records(qbo_data, "SalesReceipt"):
		entity = "sales_receipt" if "DepositToAccountRef" in record else "invoice"
		invoice = linked(integration, entity, record["Id"])
		assert (invoice.doctype, invoice.docstatus, invoice.is_return) == ("Sales Invoice", 1, 0)
		assert money(invoice.grand_total) == money(record["TotalAmt"])
		assert money(invoice.base_grand_total) == money(
			Decimal(str(record["TotalAmt"])) * Decimal(str(record["ExchangeRate"]))
		)
		assert invoice.currency == record["CurrencyRef"]["value"]
	receipt = linked(integration, "sales_receipt", "145")
	assert receipt.outstanding_amount == 0
	assert linked(integration, "sales_receipt:payment", "145").paid_amount == 53.63

	credit = linked(integration, "credit_memo", "140")
	assert (credit.is_return, money(credit.grand_total)) == (1, Decimal("-53.63"))
	discounted = linked(integration, "invoice", "131")
	assert (discounted.discount_amount, discounted.additional_discount_account) == (
		40,
		f"4900 - Discounts given - {ABBR}",
	)

	for record in source_records(qbo_data, "Bill"):
		bill = linked(integration, "bill", record["Id"])
		assert (bill.doctype, bill.docstatus, money(bill.grand_total)) == (
			"Purchase Invoice",
			1,
			money(record["TotalAmt"]),
		)
	vendor_credit = linked(integration, "vendor_credit", "104")
	assert (vendor_credit.is_return, vendor_credit.grand_total) == (1, -40)

	for record in source_records(qbo_data, "Payment"):
		payment = linked(integration, "payment", record["Id"])
		assert (payment.payment_type, payment.docstatus) == ("Receive", 1)
		assert money(payment.paid_amount) == money(record["TotalAmt"])
		allocated = {(r.reference_doctype, money(r.allocated_amount)) for r in payment.references}
		assert allocated == {
			("Sales Invoice", money(line["Amount"]) * (-1 if link["TxnType"] == "CreditMemo" else 1))
			for line in record["Line"]
			for link in line["LinkedTxn"]
		}
	assert linked(integration, "invoice", "133").outstanding_amount == pytest.approx(321.75 - 200 - 53.63)
	for record in source_records(qbo_data, "BillPayment"):
		payment = linked(integration, "bill_payment", record["Id"])
		assert (payment.payment_type, money(payment.paid_amount)) == ("Pay", money(record["TotalAmt"]))

	for entity, qbo_entity in (
		("deposit", "Deposit"),
		("transfer", "Transfer"),
		("journal_entry", "JournalEntry"),
	):
		for record in source_records(qbo_data, qbo_entity):
			journal = linked(integration, entity, record["Id"])
			assert (journal.doctype, journal.docstatus) == ("Journal Entry", 1)
			assert money(journal.total_debit) == money(record.get("TotalAmt") or record.get("Amount"))

	# Purchases come over before the sales that took from them, so the stock ledger was written out
	# of date order: once ERPNext reposts it (its hourly job), every move is at QBO's cost of 4.00
	# a metre, the warehouse holds what QBO's Inventory Asset holds, and the books still match.
	repost_entries()
	frappe.db.commit()
	bin_qty, stock_value = frappe.db.get_value(
		"Bin", {"item_code": "Copper Pipe", "warehouse": f"Stores - {ABBR}"}, ["actual_qty", "stock_value"]
	)
	assert (bin_qty, stock_value) == (95, 380)
	rates = frappe.get_all(
		"Stock Ledger Entry", filters={"item_code": "Copper Pipe", "is_cancelled": 0}, pluck="valuation_rate"
	)
	assert set(rates) == {4}
	assert reconcile_books(integration, "2024-12-31").differences == []


def test_a_second_run_creates_nothing_even_from_the_start(qbo_integration, qbo_emulator):
	run_integration(qbo_integration, "Manual")
	written = frappe.db.count("Kraal External Link", {"integration": qbo_integration})
	run_integration(qbo_integration, "Manual")
	assert {c[0] for c in counts(latest_log(qbo_integration)).values()} == {0}

	frappe.db.set_value("Kraal Integration Entity", {"parent": qbo_integration}, "cursor", "")
	# QBO's rate limit on the first query: the run waits as told and goes on.
	qbo_emulator.add_fault(path=f"/v3/company/{REALM}/query", status=429, headers={"Retry-After": "1"})
	frappe.db.commit()
	run_integration(qbo_integration, "Manual")
	log = latest_log(qbo_integration)
	assert log.status == "Success"
	again = counts(log)
	assert {entity: (c[0], c[1], c[2]) for entity, c in again.items()} == {
		entity: (c[0], 0, 0) for entity, c in MIGRATED.items()
	}
	assert frappe.db.count("Kraal External Link", {"integration": qbo_integration}) == written


def test_every_record_read_again_at_a_new_version_writes_nothing(qbo_integration):
	"""Each document holds what its record maps to, compared by value: QBO bumping every SyncToken
	without a change that books amends nothing, holds nothing (most of it is paid) and moves no GL."""
	run_integration(qbo_integration, "Manual")
	books = gl_balances(COMPANY)
	documents = frappe.get_all(
		LINK, filters={"integration": qbo_integration}, fields=["reference_doctype", "reference_name"]
	)
	frappe.db.set_value(LINK, {"integration": qbo_integration}, "external_version", "before")
	frappe.db.set_value("Kraal Integration Entity", {"parent": qbo_integration}, "cursor", "")
	frappe.db.commit()

	run_integration(qbo_integration, "Manual")
	log = latest_log(qbo_integration)
	assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
	assert counts(log) == {entity: (c[0], 0, 0, 0, c[0], 0) for entity, c in MIGRATED.items()}
	assert (
		frappe.get_all(
			LINK, filters={"integration": qbo_integration}, fields=["reference_doctype", "reference_name"]
		)
		== documents
	)
	# Each link learnt its record's version, so the next run skips it without comparing.
	assert not frappe.db.exists(LINK, {"integration": qbo_integration, "external_version": "before"})
	assert gl_balances(COMPANY) == books


def test_an_account_mapped_onto_an_existing_one_is_not_created(qbo_integration):
	"""The mapping rows exist from the moment of connecting, before any transaction comes over."""
	rent = frappe.db.get_value(
		"Kraal Account Mapping",
		{"integration": qbo_integration, "external_key": "17"},
		["name", "external_name"],
	)
	assert rent[1] == "Rent or Lease"
	frappe.db.set_value("Kraal Account Mapping", rent[0], "target_name", f"Office Rent - {ABBR}")
	frappe.db.commit()

	run_integration(qbo_integration, "Manual")
	assert latest_log(qbo_integration).status == "Success"
	assert not frappe.db.exists("Account", f"6100 - Rent or Lease - {ABBR}")
	rent_bill = linked(qbo_integration, "bill", "102")
	assert [row.expense_account for row in rent_bill.items] == [f"Office Rent - {ABBR}"]
	assert reconcile_books(qbo_integration, "2024-12-31").differences == []


def test_a_malformed_record_fails_alone_and_the_result_lists_it(qbo_integration, qbo_emulator):
	journal = qbo_emulator.realms[REALM].records["JournalEntry"]["171"]
	journal["Line"][0]["JournalEntryLineDetail"]["PostingType"] = "Sideways"  # QBO books it as a credit
	run_integration(qbo_integration, "Manual")

	log = latest_log(qbo_integration)
	assert log.status == "Partial"
	assert [(f.entity, f.external_id, f.message) for f in log.failures] == [
		(
			"journal_entry",
			"171",
			"QuickBooks JournalEntry 171: field 'Line 1.PostingType' is not Debit or Credit: 'Sideways'",
		)
	]
	assert counts(log)["journal_entry"] == (3, 2, 0, 0, 0, 1)
	assert counts(log)["invoice"] == MIGRATED["invoice"]

	result = reconcile_books(qbo_integration, "2024-12-31")
	assert [(d.erpnext_account, d.difference) for d in result.differences] == [
		(f"1010 - Checking - {ABBR}", Decimal("12000.00")),
		(f"1510 - Vehicles - {ABBR}", Decimal("12000.00")),
	]
	assert [(f.entity, f.external_id) for f in result.failed] == [("journal_entry", "171")]
	assert reconcile(qbo_integration, "2024-12-31")["migration_status"] == "Differences Found"
	_, _, message, _, summary = execute({"integration": qbo_integration, "as_of_date": "2024-12-31"})
	assert "JournalEntry 171" in message
	assert [s["value"] for s in summary[:3]] == ["Differences Found", 2, 1]

	# Someone corrects it in QuickBooks: the next run reads it fresh by its id before any stream, books
	# it and names it fixed; the journal stream's cursor, past it already, stays where it was.
	failure = frappe.get_doc("Kraal Failed Record", {"integration": qbo_integration, "external_id": "171"})
	assert (failure.entity, failure.status, failure.kind, failure.attempts) == (
		"journal_entry",
		"Open",
		"Error",
		1,
	)
	cursor = frappe.db.get_value(
		"Kraal Integration Entity", {"parent": qbo_integration, "entity": "journal_entry"}, "cursor"
	)
	journal["Line"][0]["JournalEntryLineDetail"]["PostingType"] = "Debit"
	journal["SyncToken"] = "1"
	run_integration(qbo_integration, "Manual")
	log = latest_log(qbo_integration)
	assert (log.status, [(r.entity, r.external_id, r.failed_record) for r in log.fixed]) == (
		"Success",
		[("journal_entry", "171", failure.name)],
	)
	assert linked(qbo_integration, "journal_entry", "171").total_debit == 12000
	assert (
		frappe.db.get_value(
			"Kraal Integration Entity", {"parent": qbo_integration, "entity": "journal_entry"}, "cursor"
		)
		== cursor
	)
	assert reconcile(qbo_integration, "2024-12-31") == {
		"migration_status": "Complete",
		"as_of_date": "2024-12-31",
		"differing_accounts": 0,
		"failed_records": 0,
	}


# A worker that runs the integration and, once it has written the Nth record of an entity (its page not
# yet committed), leaves a marker and hangs there, to be killed.
HANGING_WORKER = """
import sys, time, frappe
from kraal_connect.engine.site_store import SiteStore

site, integration, entity, after, marker = sys.argv[1:]
write, written = SiteStore.write, []

def write_then_hang(self, stream, change, targets):
	outcome = write(self, stream, change, targets)
	if stream.entity == entity:
		written.append(change.external_id)
		if len(written) == int(after):
			with open(marker, "w") as f:
				f.write(",".join(written))
			time.sleep(600)
	return outcome

SiteStore.write = write_then_hang
frappe.init(site=site, sites_path=".")
frappe.connect()
from kraal_connect.engine.runner import run_integration
run_integration(integration, "Manual")
"""
# QBO entity -> the ERPNext documents its records book (a sales receipt: its invoice and its payment).
BOOKS = {
	"Sales Invoice": ("Invoice", "CreditMemo", "SalesReceipt"),
	"Purchase Invoice": ("Bill", "VendorCredit"),
	"Payment Entry": ("Payment", "BillPayment", "SalesReceipt"),
	"Journal Entry": ("Deposit", "Transfer", "JournalEntry"),
}


def test_a_run_killed_in_the_middle_of_a_page_resumes_to_exact_parity(qbo_integration, qbo_data, tmp_path):
	"""Killed after writing two of the four payments, before their page committed: payments settle
	invoices (outstanding amounts, the payment ledger), and all of it is undone with the page."""
	marker = tmp_path / "hung"
	worker = subprocess.Popen(
		[
			sys.executable,
			"-c",
			HANGING_WORKER,
			frappe.local.site,
			qbo_integration,
			"payment",
			"2",
			str(marker),
		],
		cwd=os.getcwd(),
	)
	try:
		deadline = time.monotonic() + 300
		while not marker.exists() and worker.poll() is None and time.monotonic() < deadline:
			time.sleep(0.5)
		assert marker.read_text() == "150,151", "the worker never reached the payments"
	finally:
		worker.send_signal(signal.SIGKILL)
		worker.wait()
	frappe.db.rollback()  # a fresh snapshot of what the worker committed
	for _ in range(60):  # MariaDB frees the dead connection's lock once it sees it closed
		if frappe.db.sql("select is_free_lock(%s)", lock_name(qbo_integration))[0][0]:
			break
		time.sleep(0.5)

	cursors = {
		row.entity: row.cursor for row in frappe.get_doc("Kraal Integration", qbo_integration).entities
	}
	assert cursors["credit_memo"] == "2" and not cursors["payment"]
	assert frappe.db.count(LINK, {"integration": qbo_integration, "external_type": "payment"}) == 0
	assert linked(qbo_integration, "invoice", "130").outstanding_amount == 1714.5  # the payment undone
	assert frappe.db.get_value("Kraal Sync Log", {"integration": qbo_integration}, "status") == "Running"

	run_integration(qbo_integration, "Manual")
	log = latest_log(qbo_integration)
	assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
	resumed = {entity: c for entity, c in counts(log).items() if c[0]}
	assert resumed == {
		entity: MIGRATED[entity]
		for entity in ("payment", "bill_payment", "deposit", "transfer", "journal_entry")
	}
	statuses = frappe.get_all(
		"Kraal Sync Log", filters={"integration": qbo_integration}, order_by="creation", pluck="status"
	)
	assert statuses == ["Failed", "Success"]

	# Each QBO record once, and nothing missing: the records each entity's links name (a record's
	# documents are linked as "<entity>" and "<entity>:<key>"), and the documents of each doctype.
	links = frappe.get_all(
		LINK,
		filters={"integration": qbo_integration},
		fields=["external_type", "external_id", "reference_doctype", "reference_name"],
	)
	for entity, migrated in MIGRATED.items():
		records = {ln.external_id for ln in links if ln.external_type.partition(":")[0] == entity}
		assert len(records) == migrated[1], entity  # one a record that books
	assert all(frappe.db.exists(ln.reference_doctype, ln.reference_name) for ln in links)
	for doctype, entities in BOOKS.items():
		expected = sum(len(source_records(qbo_data, e)) for e in entities)
		assert frappe.db.count(doctype, {"company": COMPANY}) == expected, doctype
		assert frappe.db.count(doctype, {"company": COMPANY, "docstatus": 1}) == expected, doctype
	# The replay wrote, it did not cancel and book again.
	assert frappe.db.count("GL Entry", {"company": COMPANY, "is_cancelled": 1}) == 0
	assert linked(qbo_integration, "invoice", "130").outstanding_amount == 0
	assert reconcile_books(qbo_integration, "2024-12-31").differences == []
	assert reconcile(qbo_integration, "2024-12-31")["migration_status"] == "Complete"


def test_fiscal_years_the_history_needs_are_created_for_the_company(qbo_company):
	try:
		created = ensure_fiscal_years(COMPANY, date(2009, 3, 1), date(2010, 6, 30), 1)
		assert len(created) == 2
		for name, start in zip(created, (date(2009, 1, 1), date(2010, 1, 1)), strict=True):
			year = frappe.get_doc("Fiscal Year", name)
			assert (year.year_start_date, [c.company for c in year.companies]) == (start, [COMPANY])
		assert ensure_fiscal_years(COMPANY, date(2009, 3, 1), date(2010, 6, 30), 1) == []
		# Years other fiscal years already cover are left alone.
		assert ensure_fiscal_years(COMPANY, date(2023, 3, 1), date(2024, 6, 30), 1) == []
	finally:
		delete_fiscal_years_of(COMPANY)
		frappe.db.commit()
