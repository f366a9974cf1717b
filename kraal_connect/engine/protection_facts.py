"""The facts engine/protection.py decides on, read from the site for one posted document."""

import frappe
from frappe.utils import getdate

from kraal_connect.engine.protection import LockFacts, lock_reasons

ORDERS = {"Sales Order": "per_delivered", "Purchase Order": "per_received"}
# order -> (invoice item doctype, delivery item doctype, field naming the order in a delivery row)
ORDER_ROWS = {
	"Sales Order": (("Sales Invoice", "sales_order"), ("Delivery Note", "against_sales_order")),
	"Purchase Order": (("Purchase Invoice", "purchase_order"), ("Purchase Receipt", "purchase_order")),
}


def document_lock_reasons(doc) -> list[str]:
	return lock_reasons(lock_facts(doc))


def lock_facts(doc) -> LockFacts:
	posting_date = _posting_date(doc)
	returns = _returns(doc)
	return LockFacts(
		doctype=doc.doctype,
		name=doc.name,
		posting_date=posting_date,
		paid_by=tuple(v for v in _paid_by(doc) if v not in returns),
		cleared_on=getdate(doc.get("clearance_date")) if doc.get("clearance_date") else None,
		bank_transactions=_bank_transactions(doc),
		allocated_to=tuple(
			f"{row.payment_document} {row.payment_entry}" for row in doc.get("payment_entries") or []
		)
		if doc.doctype == "Bank Transaction"
		else (),
		returns=returns,
		per_billed=float(doc.get("per_billed") or 0) if doc.doctype in ORDERS else 0.0,
		per_delivered=float(doc.get(ORDERS[doc.doctype]) or 0) if doc.doctype in ORDERS else 0.0,
		billed_by=_made_from(doc, 0),
		delivered_by=_made_from(doc, 1),
		closed_period=_closed_period(doc, posting_date),
		period_closing_voucher=_period_closing_voucher(doc, posting_date),
		frozen_until=_frozen_until(),
	)


def _posting_date(doc):
	value = doc.get("posting_date") or doc.get("transaction_date") or doc.get("date")
	return getdate(value) if value else None


def _paid_by(doc) -> tuple[str, ...]:
	"""Other vouchers the Payment Ledger applies against this one (payments, journal allocations)."""
	rows = frappe.get_all(
		"Payment Ledger Entry",
		filters={
			"against_voucher_type": doc.doctype,
			"against_voucher_no": doc.name,
			"voucher_no": ("!=", doc.name),
			"delinked": 0,
			"docstatus": 1,
		},
		fields=["voucher_type", "voucher_no"],
		distinct=True,
		order_by="voucher_no",
	)
	return tuple(f"{r.voucher_type} {r.voucher_no}" for r in rows)


def _bank_transactions(doc) -> tuple[str, ...]:
	if doc.doctype == "Bank Transaction":
		return ()
	parents = frappe.get_all(
		"Bank Transaction Payments",
		filters={
			"payment_document": doc.doctype,
			"payment_entry": doc.name,
			"parenttype": "Bank Transaction",
		},
		pluck="parent",
	)
	live = frappe.get_all(
		"Bank Transaction", filters={"name": ("in", parents or [""]), "docstatus": 1}, pluck="name"
	)
	return tuple(f"Bank Transaction {name}" for name in sorted(live))


def _made_from(doc, which: int) -> tuple[str, ...]:
	"""The submitted invoices (which=0) or deliveries (which=1) made against an order."""
	if doc.doctype not in ORDER_ROWS:
		return ()
	doctype, field = ORDER_ROWS[doc.doctype][which]
	parents = frappe.get_all(f"{doctype} Item", filters={field: doc.name}, pluck="parent", distinct=True)
	live = frappe.get_all(doctype, filters={"name": ("in", parents or [""]), "docstatus": 1}, pluck="name")
	return tuple(f"{doctype} {name}" for name in sorted(live))


def _returns(doc) -> tuple[str, ...]:
	if not doc.meta.has_field("return_against"):
		return ()
	names = frappe.get_all(
		doc.doctype, filters={"return_against": doc.name, "docstatus": 1, "is_return": 1}, pluck="name"
	)
	return tuple(f"{doc.doctype} {name}" for name in sorted(names))


def _closed_period(doc, posting_date) -> str | None:
	if not posting_date or not doc.get("company"):
		return None
	period = frappe.qb.DocType("Accounting Period")
	closed = frappe.qb.DocType("Closed Document")
	rows = (
		frappe.qb.from_(period)
		.join(closed)
		.on(closed.parent == period.name)
		.select(period.name)
		.where(
			(period.company == doc.company)
			& (period.start_date <= posting_date)
			& (period.end_date >= posting_date)
			& (closed.document_type == doc.doctype)
			& (closed.closed == 1)
		)
		.limit(1)
		.run()
	)
	return rows[0][0] if rows else None


def _period_closing_voucher(doc, posting_date) -> str | None:
	if not posting_date or not doc.get("company"):
		return None
	return frappe.db.get_value(
		"Period Closing Voucher",
		{"company": doc.company, "docstatus": 1, "period_end_date": (">=", posting_date)},
		"name",
		order_by="period_end_date desc",
	)


def _frozen_until():
	value = frappe.db.get_single_value("Accounts Settings", "acc_frozen_upto")
	return getdate(value) if value else None
