"""The one lock rule: what in ERPNext holds a posted document so that a change at the source may not
cancel or amend it. The site gathers the facts (engine/protection_facts.py); the reasons are decided
here, purely."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LockFacts:
	doctype: str
	name: str
	posting_date: date | None = None
	# Vouchers that pay or settle it (Payment Ledger), e.g. ("Payment Entry ACC-PAY-0001",).
	paid_by: tuple[str, ...] = ()
	# Bank clearance: the date the voucher cleared the bank, or the Bank Transactions allocated to it.
	cleared_on: date | None = None
	bank_transactions: tuple[str, ...] = ()
	# A Bank Transaction's own reconciliation: vouchers allocated against it.
	allocated_to: tuple[str, ...] = ()
	# Returns (credit notes, debit notes, return deliveries) made against it.
	returns: tuple[str, ...] = ()
	# For orders: how much of it was billed and delivered (per cent), and by which documents.
	per_billed: float = 0.0
	per_delivered: float = 0.0
	billed_by: tuple[str, ...] = ()
	delivered_by: tuple[str, ...] = ()
	# The closed Accounting Period, submitted Period Closing Voucher or accounts-frozen date that the
	# posting date falls in.
	closed_period: str | None = None
	period_closing_voucher: str | None = None
	frozen_until: date | None = None


def lock_reasons(facts: LockFacts) -> list[str]:
	"""Each thing that holds the document, in words an accountant reads; empty when nothing does."""
	doc = f"{facts.doctype} {facts.name}"
	reasons = []
	if facts.paid_by:
		reasons.append(f"{doc} is paid or partly paid by {_some(facts.paid_by)}")
	if facts.allocated_to:
		reasons.append(f"{doc} is reconciled against {_some(facts.allocated_to)}")
	if facts.bank_transactions:
		reasons.append(f"{doc} is reconciled with {_some(facts.bank_transactions)}")
	elif facts.cleared_on:
		reasons.append(f"{doc} cleared the bank on {facts.cleared_on.isoformat()}")
	if facts.returns:
		reasons.append(f"{doc} has returns made against it: {_some(facts.returns)}")
	if facts.per_billed > 0:
		reasons.append(f"{doc} is {facts.per_billed:g}% billed{_by(facts.billed_by)}")
	if facts.per_delivered > 0:
		reasons.append(f"{doc} is {facts.per_delivered:g}% delivered{_by(facts.delivered_by)}")
	when = facts.posting_date.isoformat() if facts.posting_date else ""
	if facts.closed_period:
		reasons.append(f"{doc} is dated {when}, inside the closed Accounting Period {facts.closed_period}")
	if facts.period_closing_voucher:
		reasons.append(
			f"{doc} is dated {when}, before the Period Closing Voucher {facts.period_closing_voucher}"
		)
	if facts.frozen_until and facts.posting_date and facts.posting_date <= facts.frozen_until:
		reasons.append(f"{doc} is dated {when}; accounts are frozen up to {facts.frozen_until.isoformat()}")
	return reasons


def _by(names: tuple[str, ...]) -> str:
	return f" by {_some(names)}" if names else ""


def _some(names: tuple[str, ...], most: int = 3) -> str:
	shown = ", ".join(names[:most])
	return shown + (f" and {len(names) - most} more" if len(names) > most else "")
