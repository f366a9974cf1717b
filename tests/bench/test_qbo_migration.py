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

from kraal_connect.connectors.qbo.integration import ensure_fiscal_years
from kraal_connect.connectors.qbo.mapping import DocumentDifference
from kraal_connect.connectors.qbo.reconciliation import reconcile, reconcile_books
from kraal_connect.engine.locks import lock_name
from kraal_connect.engine.runner import run_integration
from kraal_connect.kraal_connect.report.quickbooks_reconciliation.quickbooks_reconciliation import execute
from tests.bench.qbo_helpers import (
	ABBR,
	COMPANY,
	LINK,
	MIGRATED,
	REALM,
	check_exact_parity,
	delete_fiscal_years_of,
	gl_balances,
	linked,
	source_records,
)
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.qbo_helpers"]


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
	assert balances[f"1010 - Checking - {ABBR}"] == Decimal("39133.13")
	assert balances[f"3100 - Retained Earnings - {ABBR}"] == Decimal("-202.50")  # 2023's profit
	assert reconcile(qbo_integration, "2024-12-31")["migration_status"] == "Complete"
	assert frappe.db.get_value("Kraal Integration", qbo_integration, "migration_status") == "Complete"
	check_accounts(qbo_integration)

	_, rows, message, _, summary = execute({"integration": qbo_integration, "as_of_date": "2024-12-31"})
	assert {row["status"] for row in rows} == {"Matches"}
	assert message is None
	assert [s["value"] for s in summary[:4]] == ["Complete", 0, 0, 0]

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
	assert len(rows) == 24 and all(r.target_name for r in rows)
	targets = {r.external_key: r.target_name for r in rows}
	assert (targets["81"], targets["84"], targets["33"]) == (
		f"Stock In Hand - {ABBR}",
		f"Debtors - {ABBR}",
		f"Creditors - {ABBR}",
	)
	assert targets["85"] == f"1101 - Accounts Receivable (A/R) - EUR - {ABBR}"
	assert targets["91"] == f"Exchange Gain/Loss - {ABBR}"  # where ERPNext books it by itself
	assert targets["92"] == f"6400 - Postage - {ABBR}"  # inactive in QuickBooks, still booked to
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
	assert [(t.account_head, t.tax_amount) for t in discounted.taxes] == [
		(f"4900 - Discounts given - {ABBR}", -40)
	]
	assert discounted.discount_amount == 0
	hours = linked(integration, "invoice", "134")
	assert [(row.item_code, row.qty, row.uom, row.amount) for row in hours.items] == [
		("Consulting", 3.5, "QuickBooks Unit", 525)
	]
	assert frappe.db.get_value("Item", "Consulting", "stock_uom") == "QuickBooks Unit"

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

	# The CAD invoice was booked at 0.74 (592.00) and paid at 0.72 (576.00): ERPNext's exchange journal
	# for the payment clears the other 16.00 from A/R to the company's Exchange Gain/Loss account.
	payment = linked(integration, "payment", "154")
	assert (payment.paid_amount, payment.source_exchange_rate, payment.received_amount) == (800, 0.72, 576)
	exchange = frappe.get_all(
		"Journal Entry Account",
		filters={"reference_type": "Payment Entry", "reference_name": payment.name, "docstatus": 1},
		fields=["account", "debit", "credit"],
	)
	assert exchange == [{"account": f"Exchange Gain/Loss - {ABBR}", "debit": 16, "credit": 0}]

	# Purchases come over before the sales that took from them, so the stock ledger was written out of
	# date order: the reconciliation ran ERPNext's reposts, and each item holds what QBO holds at its
	# FIFO cost: copper at 4.00 a metre; of the solder bought at 8.00 and then 9.00 a kilo, 7.75 kg at
	# 9.00.
	assert not frappe.db.exists("Repost Item Valuation", {"company": COMPANY, "status": "Queued"})
	bins = {
		b.item_code: (b.actual_qty, b.stock_value)
		for b in frappe.get_all(
			"Bin",
			filters={"warehouse": f"Stores - {ABBR}"},
			fields=["item_code", "actual_qty", "stock_value"],
		)
	}
	assert bins == {"Copper Pipe": (95, 380), "Solder Wire": (7.75, 69.75)}
	rates = frappe.get_all(
		"Stock Ledger Entry", filters={"item_code": "Copper Pipe", "is_cancelled": 0}, pluck="valuation_rate"
	)
	assert set(rates) == {4}
	sold = frappe.get_all(
		"Stock Ledger Entry",
		filters={"item_code": "Solder Wire", "is_cancelled": 0, "voucher_type": "Sales Invoice"},
		fields=["posting_date", "actual_qty", "stock_value_difference"],
		order_by="posting_date",
	)
	assert [(s.actual_qty, s.stock_value_difference) for s in sold] == [(-4.25, -34), (-10.5, -86.25)]


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


# Settings every company of the site shares: a migration changes none of them by itself.
SITE_SETTINGS = (
	"Selling Settings",
	"Buying Settings",
	"Stock Settings",
	"Accounts Settings",
	"System Settings",
	"Global Defaults",
)


def site_settings() -> dict:
	return {doctype: frappe.db.get_singles_dict(doctype) for doctype in SITE_SETTINGS}


def whole_number_uoms() -> dict[str, int]:
	return dict(frappe.get_all("UOM", fields=["name", "must_be_whole_number"], as_list=True))


def test_qbos_exchange_account_mapped_onto_an_existing_one_books_the_difference_there_and_nothing_site_wide(
	qbo_integration, by_hand
):
	settings, uoms = site_settings(), whole_number_uoms()
	realised = frappe.get_doc(
		{
			"doctype": "Account",
			"account_name": "Realised Exchange Differences",
			"account_number": "7150",
			"parent_account": f"Indirect Expenses - {ABBR}",
			"company": COMPANY,
		}
	).insert()
	by_hand.append(("Account", realised.name))
	frappe.db.set_value(
		"Kraal Account Mapping",
		{"integration": qbo_integration, "key_type": "QuickBooks Account", "external_key": "91"},
		"target_name",
		realised.name,
	)
	frappe.db.commit()

	run_integration(qbo_integration, "Manual")
	log = latest_log(qbo_integration)
	assert (log.status, log.failures) == ("Success", [])
	# ERPNext books a payment's exchange difference to the company's account: pointed at the one
	# chosen for QBO's, and the company's timeline says so.
	assert frappe.db.get_value("Company", COMPANY, "exchange_gain_loss_account") == realised.name
	assert frappe.db.exists(
		"Comment",
		{
			"reference_doctype": "Company",
			"reference_name": COMPANY,
			"content": ("like", f"%{realised.name}%"),
		},
	)
	# CAD 800.00 invoiced at 0.74 (592.00), paid at 0.72 (576.00): 16.00 lost.
	assert gl_balances(COMPANY)[realised.name] == Decimal("16.00")

	# 30 September 2023, before the year-end, and 30 June 2024, after it (2023's profit then in retained
	# earnings) and after the CAD payment: every account, and each item's stock at QBO's FIFO cost.
	expected_stock = {
		"2023-09-30": {"Copper Pipe": (75, 300), "Solder Wire": (Decimal("8.25"), 66)},
		"2024-06-30": {"Copper Pipe": (95, 380), "Solder Wire": (Decimal("7.75"), Decimal("69.75"))},
	}
	for as_of, stock in expected_stock.items():
		result = reconcile_books(qbo_integration, as_of)
		assert (result.status, result.differences, result.failed, result.stock_differences) == (
			"Complete",
			[],
			[],
			[],
		), as_of
		assert {item.item_code: (item.erpnext_qty, item.erpnext_value) for item in result.stock} == stock
	balances = {row.erpnext_account: row.erpnext_balance for row in result.balances}
	assert balances[realised.name] == Decimal("16.00")
	assert balances[f"3100 - Retained Earnings - {ABBR}"] == Decimal("-202.50")
	_, _, message, _, summary = execute({"integration": qbo_integration, "as_of_date": "2024-06-30"})
	assert (message, [s["value"] for s in summary[:4]]) == (None, ["Complete", 0, 0, 0])

	# Nothing every company shares was changed; the one UOM made for QBO's quantities takes fractions.
	assert site_settings() == settings
	assert whole_number_uoms() == {**uoms, "QuickBooks Unit": 0}

	# A second migration from the start writes nothing.
	books = gl_balances(COMPANY)
	frappe.db.set_value("Kraal Integration Entity", {"parent": qbo_integration}, "cursor", "")
	frappe.db.commit()
	run_integration(qbo_integration, "Manual")
	log = latest_log(qbo_integration)
	assert log.status == "Success"
	assert {entity: c[1:4] for entity, c in counts(log).items()} == {entity: (0, 0, 0) for entity in MIGRATED}
	assert gl_balances(COMPANY) == books


def test_a_sale_that_did_not_come_over_shows_in_stock_and_in_the_accounts_it_posts_to(
	qbo_integration, qbo_emulator
):
	invoice = qbo_emulator.realms[REALM].records["Invoice"]["137"]  # 10.5 kg of solder
	invoice["CustomerRef"] = {"value": "404"}
	run_integration(qbo_integration, "Manual")
	assert [(f.entity, f.external_id) for f in latest_log(qbo_integration).failures] == [("invoice", "137")]

	result = reconcile_books(qbo_integration, "2024-12-31")
	assert result.status == "Differences Found"
	# ERPNext still holds the 10.5 kg: 8.25 kg at 8.00 and 10 kg at 9.00.
	[solder] = result.stock_differences
	assert (solder.item_code, solder.qbo_qty, solder.qbo_value, solder.erpnext_qty, solder.erpnext_value) == (
		"Solder Wire",
		Decimal("7.75"),
		Decimal("69.75"),
		Decimal("18.25"),
		Decimal("156.00"),
	)
	stock_account = next(d for d in result.differences if d.erpnext_account == f"Stock In Hand - {ABBR}")
	assert result.documents[stock_account] == [
		DocumentDifference("invoice", "137", "1010", (), Decimal("-86.25"), Decimal(0))
	]
	_, _, message, _, summary = execute({"integration": qbo_integration, "as_of_date": "2024-12-31"})
	assert "Stock that differs" in message and "Solder Wire" in message
	assert [s["value"] for s in summary[:4]] == ["Differences Found", len(result.differences), 1, 1]


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
	# Each differing account names the transaction that makes it differ: JE-2, which has no document.
	checking, vehicles = result.differences
	assert result.documents == {
		checking: [DocumentDifference("journal_entry", "171", "JE-2", (), Decimal("-12000.00"), Decimal(0))],
		vehicles: [DocumentDifference("journal_entry", "171", "JE-2", (), Decimal("-12000.00"), Decimal(0))],
	}
	assert [(f.entity, f.external_id) for f in result.failed] == [("journal_entry", "171")]
	assert reconcile(qbo_integration, "2024-12-31")["migration_status"] == "Differences Found"
	_, _, message, _, summary = execute({"integration": qbo_integration, "as_of_date": "2024-12-31"})
	assert "JournalEntry 171" in message and "journal_entry 171" in message and "JE-2" in message
	assert "Retry now" in message  # and what to do about it
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
		"differing_items": 0,
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

	check_exact_parity(qbo_integration, qbo_data)


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
