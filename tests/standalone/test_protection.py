"""The one lock rule: what holds a posted document, in an accountant's words."""

from datetime import date

from kraal_connect.engine.protection import LockFacts, lock_reasons


def facts(**kw):
	return LockFacts(doctype="Sales Invoice", name="SINV-1", posting_date=date(2026, 3, 31), **kw)


def test_nothing_holds_a_fresh_document():
	assert lock_reasons(facts()) == []
	# A frozen date before the posting date does not hold it either.
	assert lock_reasons(facts(frozen_until=date(2026, 3, 30))) == []


def test_each_holder_is_named():
	assert lock_reasons(facts(paid_by=("Payment Entry PE-1",))) == [
		"Sales Invoice SINV-1 is paid or partly paid by Payment Entry PE-1"
	]
	assert lock_reasons(facts(returns=("Sales Invoice SINV-RET-1",))) == [
		"Sales Invoice SINV-1 has returns made against it: Sales Invoice SINV-RET-1"
	]
	assert lock_reasons(facts(closed_period="Q1 2026")) == [
		"Sales Invoice SINV-1 is dated 2026-03-31, inside the closed Accounting Period Q1 2026"
	]
	assert lock_reasons(facts(period_closing_voucher="PCV-1")) == [
		"Sales Invoice SINV-1 is dated 2026-03-31, before the Period Closing Voucher PCV-1"
	]
	assert lock_reasons(facts(frozen_until=date(2026, 3, 31))) == [
		"Sales Invoice SINV-1 is dated 2026-03-31; accounts are frozen up to 2026-03-31"
	]


def test_bank_reconciliation_both_ways():
	payment = LockFacts("Payment Entry", "PE-1", date(2026, 1, 5), cleared_on=date(2026, 1, 9))
	assert lock_reasons(payment) == ["Payment Entry PE-1 cleared the bank on 2026-01-09"]
	matched = LockFacts("Payment Entry", "PE-1", bank_transactions=("Bank Transaction BT-1",))
	assert lock_reasons(matched) == ["Payment Entry PE-1 is reconciled with Bank Transaction BT-1"]
	bank = LockFacts("Bank Transaction", "BT-1", allocated_to=("Payment Entry PE-1",))
	assert lock_reasons(bank) == ["Bank Transaction BT-1 is reconciled against Payment Entry PE-1"]


def test_orders_billed_or_delivered():
	order = LockFacts("Sales Order", "SO-1", per_billed=100, per_delivered=50)
	assert lock_reasons(order) == ["Sales Order SO-1 is 100% billed", "Sales Order SO-1 is 50% delivered"]
	named = LockFacts(
		"Sales Order",
		"SO-1",
		per_billed=100,
		billed_by=("Sales Invoice SINV-1",),
		delivered_by=("Delivery Note DN-1",),
	)
	assert lock_reasons(named) == ["Sales Order SO-1 is 100% billed by Sales Invoice SINV-1"]


def test_many_payments_are_summed_up():
	paid = facts(paid_by=tuple(f"Payment Entry PE-{i}" for i in range(5)))
	assert lock_reasons(paid) == [
		"Sales Invoice SINV-1 is paid or partly paid by Payment Entry PE-0, Payment Entry PE-1, "
		"Payment Entry PE-2 and 2 more"
	]
