"""The fiscal years a history needs, and QBO's trial balance compared with ERPNext's, to the cent."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import cents
from kraal_connect.connectors.qbo.mapping.records import ZERO
from kraal_connect.engine.errors import RecordError

MONTHS = (
	"January",
	"February",
	"March",
	"April",
	"May",
	"June",
	"July",
	"August",
	"September",
	"October",
	"November",
	"December",
)


@dataclass(frozen=True)
class FiscalYearSpan:
	name: str
	start: date
	end: date


def fiscal_year_start_month(company_info: Mapping[str, Any]) -> int:
	"""CompanyInfo.FiscalYearStartMonth ("April") as a month number."""
	name = company_info.get("FiscalYearStartMonth") or "January"
	if name not in MONTHS:
		raise RecordError(f"QuickBooks CompanyInfo: field 'FiscalYearStartMonth' is not a month: {name!r}")
	return MONTHS.index(name) + 1


def fiscal_years(first: date, last: date, start_month: int) -> list[FiscalYearSpan]:
	"""Every fiscal year from the one holding `first` to the one holding `last`, named as ERPNext
	names them: "2024" for calendar years, "2023-2024" otherwise."""
	year = first.year if first.month >= start_month else first.year - 1
	spans = []
	while True:
		start = date(year, start_month, 1)
		end = date(year + 1, start_month, 1) if start_month > 1 else date(year + 1, 1, 1)
		end = date.fromordinal(end.toordinal() - 1)
		spans.append(FiscalYearSpan(str(year) if start_month == 1 else f"{year}-{year + 1}", start, end))
		if end >= last:
			return spans
		year += 1


# -- the books compared ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceDifference:
	"""One ERPNext account whose balance (debit - credit) differs from the QBO accounts mapped to it;
	erpnext_account is None for a QBO account with a balance that maps to nothing."""

	erpnext_account: str | None
	qbo_account_ids: tuple[str, ...]
	qbo_balance: Decimal
	erpnext_balance: Decimal

	@property
	def difference(self) -> Decimal:
		return self.erpnext_balance - self.qbo_balance


def report_rows(rows: Iterable[Mapping[str, Any]]) -> Iterable[list]:
	for row in rows:
		if row.get("ColData"):
			yield row["ColData"]
		yield from report_rows((row.get("Rows") or {}).get("Row") or [])


def report_amount(cell: Mapping[str, Any]) -> Decimal:
	value = str(cell.get("value") or "").replace(",", "")
	return Decimal(value) if value else ZERO


def qbo_trial_balance(report: Mapping[str, Any]) -> dict[str, tuple[str, Decimal]]:
	"""QBO's TrialBalance report as {account id: (name, debit - credit)}."""
	balances = {}
	for columns in report_rows((report.get("Rows") or {}).get("Row") or []):
		account_cell = columns[0]
		key = str(account_cell.get("id") or account_cell.get("value"))
		balances[key] = (
			account_cell.get("value") or key,
			report_amount(columns[1]) - report_amount(columns[2]),
		)
	return balances


def compare_trial_balance(
	report: Mapping[str, Any], erpnext_balances: Mapping[str, Any], accounts: Mapping[str, str]
) -> list[BalanceDifference]:
	"""Account by account, to the cent: QBO's TrialBalance against ERPNext's balances (debit - credit
	per ERPNext account, counted as QBO's report counts them: income and expenses from the start of
	the fiscal year, earlier years' profit inside retained earnings). `accounts` is QBO account id ->
	ERPNext account; several QBO accounts may share one. Empty when the books agree."""
	qbo = qbo_trial_balance(report)
	differences = [
		BalanceDifference(None, (account_id,), balance, ZERO)
		for account_id, (_, balance) in qbo.items()
		if account_id not in accounts and balance
	]
	mapped_ids: dict[str, list[str]] = {}
	for account_id, erpnext_account in accounts.items():
		mapped_ids.setdefault(erpnext_account, []).append(account_id)
	for erpnext_account in sorted(set(mapped_ids) | set(erpnext_balances)):
		ids = mapped_ids.get(erpnext_account, [])
		qbo_balance = sum((qbo[i][1] for i in ids if i in qbo), ZERO)
		erpnext_balance = cents(Decimal(str(erpnext_balances.get(erpnext_account) or 0)))
		if erpnext_balance != qbo_balance:
			differences.append(BalanceDifference(erpnext_account, tuple(ids), qbo_balance, erpnext_balance))
	return differences
