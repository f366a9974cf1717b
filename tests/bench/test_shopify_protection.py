"""What holds a Shopify order's documents, on a real site: a record waiting for a mapping books when a
person fills it in, without a cursor moving; a paid order or a settled refund changed at Shopify is kept
as it was and held for review until a person applies Shopify's version (where ERPNext allows it); a
timestamp that moved without a change writes nothing; a run killed half way through an order resumes
to Shopify's books."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import frappe

from kraal_connect import api
from kraal_connect.connectors.shopify import mapping
from kraal_connect.engine.locks import lock_name
from kraal_connect.engine.runner import run_integration
from tests.bench.shopify_helpers import (
	ABBR,
	COMPANY,
	GATEWAYS,
	TAXES,
	gl_balance,
	linked_docs,
	money,
	settled_by_gateway,
	stock_at_shopify_and_held,
)
from tests.bench.site_helpers import counts, latest_log
from tests.bench.test_failed_records import run_queued_retry

pytest_plugins = ["tests.bench.shopify_helpers"]

ORDER_1002, ORDER_1003, ORDER_1005 = (f"gid://shopify/Order/{n}" for n in (5002, 5003, 5005))
# What a fully synced fixture store books besides returns and refunds (test_shopify_sync proves each
# document against Shopify's order): doctype -> (filters, how many).
BOOKED = {
	"Sales Order": ({}, 6),
	"Sales Invoice": ({"is_return": 0}, 5),
	"Payment Entry": ({"payment_type": "Receive"}, 5),
	"Delivery Note": ({"is_return": 0}, 4),
}


def failed_record(integration: str, external_id: str):
	return frappe.get_doc("Kraal Failed Record", {"integration": integration, "external_id": external_id})


def cursors(integration: str) -> dict[str, str]:
	return {row.entity: row.cursor for row in frappe.get_doc("Kraal Integration", integration).entities}


def drop_mapping(integration: str, key_type: str, key: str) -> None:
	frappe.db.delete(
		"Kraal Account Mapping", {"integration": integration, "key_type": key_type, "external_key": key}
	)
	frappe.db.commit()


def fill_mapping(integration: str, key_type: str, key: str, target: str) -> None:
	"""As a person does on the form: the empty row the failed run added, saved with its target."""
	row = frappe.get_doc(
		"Kraal Account Mapping", {"integration": integration, "key_type": key_type, "external_key": key}
	)
	assert not row.target_name
	row.target_name = target
	row.save()
	frappe.db.commit()


def order_documents(integration: str, order_id: str) -> dict[str, tuple[str, str]]:
	"""External type -> (doctype, name) of what an order's record wrote."""
	return {
		r.external_type: (r.reference_doctype, r.reference_name)
		for r in frappe.get_all(
			"Kraal External Link",
			filters={"integration": integration, "external_id": order_id},
			fields=["external_type", "reference_doctype", "reference_name"],
		)
	}


def books(integration: str) -> dict:
	"""Every document the integration wrote as it stands (status, totals, last change) and its ledger."""
	links = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration},
		fields=["external_type", "external_id", "reference_doctype", "reference_name"],
	)
	documents = {}
	for link in links:
		doc = frappe.get_doc(link.reference_doctype, link.reference_name)
		documents[(link.external_type, link.external_id)] = (
			doc.doctype,
			doc.name,
			doc.docstatus,
			doc.modified,
			money(doc.get("grand_total") or doc.get("paid_amount") or 0),
		)
	vouchers = sorted({link.reference_name for link in links})
	ledger = sorted(
		(g.voucher_no, g.account, money(g.debit), money(g.credit), g.is_cancelled)
		for g in frappe.get_all(
			"GL Entry",
			filters={"voucher_no": ("in", vouchers or [""])},
			fields=["voucher_no", "account", "debit", "credit", "is_cancelled"],
		)
	)
	return {"documents": documents, "ledger": ledger}


def ledger_totals(integration: str) -> dict[str, Decimal]:
	"""Account -> the balance the integration's documents post to it (cancelled entries left out)."""
	vouchers = frappe.get_all(
		"Kraal External Link", filters={"integration": integration}, pluck="reference_name"
	)
	totals: dict[str, Decimal] = {}
	for g in frappe.get_all(
		"GL Entry",
		filters={"voucher_no": ("in", vouchers or [""]), "is_cancelled": 0},
		fields=["account", "debit", "credit"],
	):
		totals[g.account] = totals.get(g.account, Decimal(0)) + money(g.debit) - money(g.credit)
	return {account: total for account, total in totals.items() if total}


def versions_of(integration: str) -> int:
	"""Version rows of the integration's documents: a person's or the engine's saves leave one each."""
	links = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration},
		fields=["reference_doctype", "reference_name"],
	)
	return sum(
		frappe.db.count("Version", {"ref_doctype": link.reference_doctype, "docname": link.reference_name})
		for link in links
	)


def assert_books_equal_shopifys(integration: str, store) -> None:
	"""Each order's documents once, to the cent of Shopify's totals; each gateway's clearing account
	holding what Shopify settled less what it refunded; every invoice settled."""
	for order in store.records("orders"):
		docs = order_documents(integration, order["id"])
		if "order" in docs:
			grand_total = frappe.db.get_value(*docs["order"], "grand_total")
			assert money(grand_total) == mapping.shopify_totals(order).total, order["name"]
	for doctype, (filters, count) in BOOKED.items():
		held = frappe.get_all(doctype, filters={"company": COMPANY, "docstatus": 1, **filters}, pluck="name")
		assert len(held) == count, doctype
	# Nothing of the company's is unaccounted for (no duplicate, no draft left behind): every document
	# is the one link of one record.
	for doctype in BOOKED:
		held = frappe.get_all(doctype, filters={"company": COMPANY, "docstatus": ("<", 2)}, pluck="name")
		assert sorted(held) == sorted(d.name for d in linked_docs(integration, doctype) if d.docstatus == 1)
	vouchers = [d.name for d in linked_docs(integration, "Payment Entry")]
	for gateway, amount in settled_by_gateway(store).items():
		assert gl_balance(f"{GATEWAYS[gateway]} - {ABBR}", vouchers) == amount, gateway
	invoices = linked_docs(integration, "Sales Invoice")
	assert {money(i.outstanding_amount) for i in invoices if i.docstatus == 1} == {Decimal("0.00")}
	assert f"Debtors - {ABBR}" not in ledger_totals(integration)  # every receivable settled
	expected, held = stock_at_shopify_and_held(store)
	assert held == expected


# -- a record waiting for a mapping ------------------------------------------------------------


def test_an_order_waiting_for_a_gateway_mapping_books_when_a_person_fills_it_in(connected, shopify_store):
	integration = connected()
	drop_mapping(integration, mapping.GATEWAY_MAPPING, "paypal")  # only #1003 was paid through PayPal
	run_integration(integration, "Manual")

	log = latest_log(integration)
	assert (log.status, counts(log)["order"]) == ("Partial", (7, 5, 0, 0, 1, 1))
	failure = failed_record(integration, ORDER_1003)
	assert (failure.status, failure.kind, failure.mapping_type, failure.mapping_key) == (
		"Open",
		"Error",
		mapping.GATEWAY_MAPPING,
		"paypal",
	)
	assert failure.message == (
		"Shopify order #1003 transaction 60031: no Shopify Payment Gateway mapping for 'paypal'; "
		"add it under Kraal Account Mapping"
	)
	assert order_documents(integration, ORDER_1003) == {}
	before = cursors(integration)

	fill_mapping(integration, mapping.GATEWAY_MAPPING, "paypal", f"{GATEWAYS['paypal']} - {ABBR}")
	log = frappe.get_doc("Kraal Sync Log", run_queued_retry(integration))

	assert cursors(integration) == before  # the order was fetched by its id, not read again
	assert (log.trigger, log.status, counts(log)) == ("Retry", "Success", {"order": (1, 1, 0, 0, 0, 0)})
	assert [(r.entity, r.external_id, r.failed_record) for r in log.fixed] == [
		("order", ORDER_1003, failure.name)
	]
	failure.reload()
	assert (failure.status, failure.fixed_by) == ("Fixed", log.name)
	docs = order_documents(integration, ORDER_1003)
	payment = frappe.get_doc(*docs["order:payment:60031"])
	assert (payment.docstatus, payment.paid_to, money(payment.paid_amount)) == (
		1,
		f"{GATEWAYS['paypal']} - {ABBR}",
		Decimal("50.43"),
	)
	assert gl_balance(f"{GATEWAYS['paypal']} - {ABBR}", [payment.name]) == Decimal("50.43")
	assert_books_equal_shopifys(integration, shopify_store)


def test_orders_waiting_for_a_tax_mapping_book_on_the_next_scheduled_run(connected, shopify_store):
	integration = connected()
	# New York City's tax is charged on #1002 (fulfilled, partly refunded) and #1005 (cancelled, refunded).
	drop_mapping(integration, mapping.TAX_MAPPING, "New York City Tax")
	run_integration(integration, "Manual")
	assert sorted(f.external_id for f in latest_log(integration).failures) == [ORDER_1002, ORDER_1005]
	assert {failed_record(integration, o).mapping_key for o in (ORDER_1002, ORDER_1005)} == {
		"New York City Tax"
	}
	before = cursors(integration)

	fill_mapping(
		integration, mapping.TAX_MAPPING, "New York City Tax", f"{TAXES['New York City Tax']} - {ABBR}"
	)
	# No worker took the queued retry; the scheduler's next run tries the open failures first.
	run_integration(integration, "Scheduler")

	log = latest_log(integration)
	assert cursors(integration) == before
	assert (log.trigger, log.status) == ("Scheduler", "Success")
	assert sorted(r.external_id for r in log.fixed) == [ORDER_1002, ORDER_1005]
	assert counts(log)["order"][1:] == (2, 0, 0, 1, 0)  # the two booked; the stream's last order again
	assert_books_equal_shopifys(integration, shopify_store)
	# The retry the filled-in row queued finds nothing left to book when a worker gets to it.
	assert run_queued_retry(integration) is None


def test_a_delivery_note_named_as_one_rolled_back_before_sees_the_stock_counted_after_it(
	connected, shopify_store
):
	"""ERPNext remembers, per stock voucher name, which items have stock entries after it; a voucher
	rolled back (a record that failed) gives its name back to the naming series. #1002's Delivery Notes,
	booked after Shopify's count of Brooklyn (20 October) and dated before it (4 and 10 October), take
	names such a voucher of another item held: they still see the count after them."""
	integration = connected()
	drop_mapping(integration, mapping.TAX_MAPPING, "New York City Tax")
	run_integration(integration, "Manual")
	series = f"MAT-DN-{frappe.utils.getdate().year}-"
	taken = frappe.db.sql("select current from `tabSeries` where name=%s", series)
	taken = int(taken[0][0]) if taken else 0
	frappe.local.future_sle = {
		("Delivery Note", f"{series}{taken + n:05d}"): {("TEE-M-BLK", f"Main Warehouse - {ABBR}"): 1}
		for n in range(1, 11)
	}
	fill_mapping(
		integration, mapping.TAX_MAPPING, "New York City Tax", f"{TAXES['New York City Tax']} - {ABBR}"
	)
	run_integration(integration, "Scheduler")

	assert latest_log(integration).status == "Success"
	expected, held = stock_at_shopify_and_held(shopify_store)
	assert held[("TOTE-1", f"Brooklyn Store - {ABBR}")] == 12
	assert held == expected


# -- a paid order changed at Shopify -------------------------------------------------------------


def change_socks_line(store) -> None:
	"""#1003's socks become one pair at the price of two: every total of the order stays as it was."""
	order = store.load("orders", "5003")
	socks = order["lineItems"]["nodes"][0]
	assert (socks["sku"], socks["quantity"]) == ("SOCK-M", 2)
	socks["quantity"] = socks["currentQuantity"] = 1
	for side in ("shopMoney", "presentmentMoney"):
		socks["originalUnitPriceSet"][side]["amount"] = "25.00"
	order["updatedAt"] = "2026-11-02T09:00:00Z"
	store.save("orders", "5003", order)


def test_a_paid_order_changed_at_shopify_is_kept_and_held_for_review(connected, shopify_store):
	integration = connected()
	run_integration(integration, "Manual")
	docs = order_documents(integration, ORDER_1003)
	sales_order, invoice = docs["order"][1], docs["order:invoice"][1]
	payment = docs["order:payment:60031"][1]
	before = books(integration)

	change_socks_line(shopify_store)
	run_integration(integration, "Manual")

	log = latest_log(integration)
	# #1007, the last order the first run read, comes again (Shopify's filter is inclusive) and is skipped.
	assert (log.status, counts(log)["order"]) == ("Partial", (2, 0, 0, 0, 1, 1))
	assert books(integration) == before
	conflict = failed_record(integration, ORDER_1003)
	assert (conflict.status, conflict.kind, conflict.record_version) == (
		"Open",
		"Conflict",
		"2026-11-02T09:00:00Z",
	)
	assert conflict.message == (
		f"Sales Order {sales_order}: Sales Order {sales_order} is 100% billed by Sales Invoice {invoice}. "
		"The source changed items[1].qty, items[1].rate, items[1].price_list_rate; the document was kept"
	)

	api.apply_source_version(conflict.name)
	frappe.db.commit()
	run_queued_retry(integration)
	conflict.reload()
	log = latest_log(integration)
	# ERPNext refuses: a Sales Order an invoice bills cannot be cancelled to be amended. The record stays
	# an open conflict, with ERPNext's own words, for the person to decide again.
	refusal = (
		f"Cannot delete or cancel because Sales Order {sales_order} is linked with Sales Invoice {invoice}"
	)
	assert (log.trigger, log.status, counts(log)) == ("Retry", "Partial", {"order": (1, 0, 0, 0, 0, 1)})
	assert [f.message for f in log.failures] == [refusal]
	assert (conflict.status, conflict.kind, conflict.attempts, conflict.message) == (
		"Open",
		"Conflict",
		2,
		refusal,
	)
	assert books(integration) == before
	assert frappe.db.get_value("Payment Entry", payment, "docstatus") == 1

	# The next run holds it as a conflict again, the documents as they were.
	run_integration(integration, "Scheduler")
	conflict.reload()
	log = latest_log(integration)
	assert {(f.external_id, f.kind, f.message) for f in log.failures} == {
		(ORDER_1003, "Conflict", conflict.message)
	}
	assert (conflict.status, conflict.kind) == ("Open", "Conflict")
	assert conflict.message.startswith(f"Sales Order {sales_order}: Sales Order {sales_order} is 100% billed")
	assert books(integration) == before


def test_a_refund_changed_at_shopify_names_the_payment_that_holds_its_credit_note_until_applied(
	connected, shopify_store
):
	integration = connected()
	run_integration(integration, "Manual")
	docs = order_documents(integration, ORDER_1002)
	credit_note, refund_payment = docs["order:refund:7001"][1], docs["order:refund_payment:60022"][1]
	before, before_totals = books(integration), ledger_totals(integration)

	order = shopify_store.load("orders", "5002")
	order["refunds"][0]["note"] = "Customer returned the tote; strap torn"
	order["updatedAt"] = "2026-11-03T09:00:00Z"
	shopify_store.save("orders", "5002", order)
	run_integration(integration, "Manual")

	assert books(integration) == before
	conflict = failed_record(integration, ORDER_1002)
	assert (conflict.status, conflict.kind) == ("Open", "Conflict")
	assert conflict.message == (
		f"Sales Invoice {credit_note}: Sales Invoice {credit_note} is paid or partly paid by Payment Entry "
		f"{refund_payment}. The source changed remarks; the document was kept"
	)

	api.apply_source_version(conflict.name)
	frappe.db.commit()
	log = frappe.get_doc("Kraal Sync Log", run_queued_retry(integration))

	# ERPNext allows it: the credit note is cancelled (its refund unlinked from it) and amended with the
	# new note, and the refund payment amended to settle the amended credit note.
	assert (log.trigger, log.status, counts(log)) == ("Retry", "Success", {"order": (1, 0, 1, 0, 0, 0)})
	assert [(r.external_id, r.failed_record) for r in log.fixed] == [(ORDER_1002, conflict.name)]
	conflict.reload()
	assert (conflict.status, conflict.fixed_by) == ("Fixed", log.name)
	docs = order_documents(integration, ORDER_1002)
	amended = frappe.get_doc(*docs["order:refund:7001"])
	assert (amended.amended_from, amended.docstatus, money(amended.grand_total)) == (
		credit_note,
		1,
		Decimal("-19.53"),
	)
	assert amended.remarks == "Refund of Shopify order #1002: Customer returned the tote; strap torn"
	payment = frappe.get_doc(*docs["order:refund_payment:60022"])
	assert (payment.amended_from, payment.docstatus, money(payment.paid_amount)) == (
		refund_payment,
		1,
		Decimal("19.53"),
	)
	assert [(r.reference_name, money(r.allocated_amount)) for r in payment.references] == [
		(amended.name, Decimal("-19.53"))
	]
	assert frappe.db.get_value("Sales Invoice", credit_note, "docstatus") == 2
	assert frappe.db.get_value("Payment Entry", refund_payment, "docstatus") == 2
	# What the ledger holds is what it held: the same money, on the amended documents.
	assert ledger_totals(integration) == before_totals
	assert money(amended.outstanding_amount) == Decimal("0.00")
	assert_books_equal_shopifys(integration, shopify_store)


# -- a timestamp that moved without a change ------------------------------------------------------


def test_orders_whose_updated_at_alone_moved_write_nothing(connected, shopify_store):
	integration = connected()
	run_integration(integration, "Manual")
	before, versions = books(integration), versions_of(integration)
	orders = shopify_store.records("orders")
	for second, order in enumerate(orders):
		order["updatedAt"] = f"2026-11-20T10:00:{second:02d}Z"
		shopify_store.save("orders", order["legacyResourceId"], order)
	run_integration(integration, "Manual")

	log = latest_log(integration)
	assert (log.status, counts(log)["order"]) == ("Success", (7, 0, 0, 0, 7, 0))
	assert books(integration) == before
	assert versions_of(integration) == versions
	amended = [d for doctype in BOOKED for d in linked_docs(integration, doctype) if d.get("amended_from")]
	assert amended == []
	# Each link learnt the new version, so the next run compares nothing.
	links = frappe.get_all(
		"Kraal External Link",
		filters={
			"integration": integration,
			"external_type": ("like", "order%"),
			"reference_doctype": ("!=", "Comment"),  # the fallback note is written once, at its version
		},
		fields=["external_id", "external_version"],
	)
	new = {o["id"]: o["updatedAt"] for o in orders}
	assert {(ln.external_id, ln.external_version) for ln in links} == {
		(ln.external_id, new[ln.external_id]) for ln in links
	}


# -- a run killed half way through an order ---------------------------------------------------------

# A worker that runs the integration and, once #1002's documents are written but before its page is
# committed, says so and stalls. It reads orders two to a page (the fixture store's seven would be two
# pages of six and one), so that a page before #1002's is committed when it dies.
STALLING_WORKER = """
import sys, time, frappe
frappe.init(site=sys.argv[1], sites_path='.'); frappe.connect()
from kraal_connect.connectors.shopify import streams
orders_stream = streams.orders_stream
streams.orders_stream = lambda api, page_size=None, **kw: orders_stream(api, 2, **kw)
from kraal_connect.engine.site_store import SiteStore
write = SiteStore.write
def stalling_write(self, stream, change, targets):
	outcome = write(self, stream, change, targets)
	if change.external_id == sys.argv[3]:
		open(sys.argv[4], 'w').close()
		time.sleep(600)
	return outcome
SiteStore.write = stalling_write
from kraal_connect.engine.runner import run_integration
run_integration(sys.argv[2], 'Manual')
"""


def test_a_run_killed_while_writing_an_order_resumes_to_shopifys_books(connected, shopify_store, tmp_path):
	integration = connected()
	marker = tmp_path / "stalled"
	worker = subprocess.Popen(
		[sys.executable, "-c", STALLING_WORKER, frappe.local.site, integration, ORDER_1002, str(marker)],
		cwd=os.getcwd(),
	)
	try:
		deadline = time.monotonic() + 120
		while time.monotonic() < deadline and not marker.exists() and worker.poll() is None:
			time.sleep(0.2)
		assert marker.exists(), "the worker never reached #1002"
	finally:
		worker.send_signal(signal.SIGKILL)
		worker.wait()
	# MariaDB rolls the dead connection's page back, then frees its lock on the integration.
	deadline = time.monotonic() + 60
	while (
		time.monotonic() < deadline
		and not frappe.db.sql("select is_free_lock(%s)", lock_name(integration))[0][0]
	):
		time.sleep(0.2)
	frappe.db.rollback()  # a fresh snapshot of what the worker committed
	booked = {o["name"] for o in shopify_store.records("orders") if order_documents(integration, o["id"])}
	# The page before #1002's (by updatedAt) was committed; #1002 died with its page, #1004 with it.
	assert booked == {"#1001", "#1003"}
	assert frappe.db.get_value("Kraal Sync Log", {"integration": integration}, "status") == "Running"

	assert run_integration(integration, "Manual")

	statuses = frappe.get_all(
		"Kraal Sync Log", filters={"integration": integration}, order_by="creation", pluck="status"
	)
	assert statuses == ["Failed", "Success"]
	log = latest_log(integration)
	# The masters the killed run committed are not written again; the orders go on from the page it
	# committed last (#1004, #1002 and those after them; #1007 books nothing); then stock, which it never
	# reached.
	run_counts = counts(log)
	assert (run_counts["product"][1:4], run_counts["customer"][1:4]) == ((0, 0, 0), (0, 0, 0))
	assert run_counts["order"] == (5, 4, 0, 0, 1, 0)
	assert run_counts["inventory_level"] == (13, 12, 0, 0, 1, 0)
	assert_books_equal_shopifys(integration, shopify_store)
	assert {o["name"] for o in shopify_store.records("orders") if order_documents(integration, o["id"])} == {
		"#1001",
		"#1002",
		"#1003",
		"#1004",
		"#1005",
		"#1006",
	}
