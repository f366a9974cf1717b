"""QBO's chart of accounts -> ERPNext Accounts, and the ERPNext ledger a QBO account id posts to."""

from collections.abc import Mapping
from typing import Any

from kraal_connect.connectors.fields import required
from kraal_connect.connectors.qbo.mapping.records import (
	ACCOUNT,
	OWN_POSTINGS,
	QboContext,
	currency_of,
	record_label,
	ref_id,
)
from kraal_connect.engine.errors import MissingMappingError, RecordError
from kraal_connect.engine.missing_mappings import missing_mapping
from kraal_connect.engine.records import Mapped, Ref, Target

ROOT_TYPES = {
	"Asset": "Asset",
	"Liability": "Liability",
	"Equity": "Equity",
	"Revenue": "Income",
	"Expense": "Expense",
}
CLASSIFICATIONS = {
	"Bank": "Asset",
	"Accounts Receivable": "Asset",
	"Other Current Asset": "Asset",
	"Fixed Asset": "Asset",
	"Other Asset": "Asset",
	"Accounts Payable": "Liability",
	"Credit Card": "Liability",
	"Other Current Liability": "Liability",
	"Long Term Liability": "Liability",
	"Equity": "Equity",
	"Income": "Revenue",
	"Other Income": "Revenue",
	"Cost of Goods Sold": "Expense",
	"Expense": "Expense",
	"Other Expense": "Expense",
}
# Credit cards are "Bank" so that payments can be made from them; fixed assets carry no type, since
# ERPNext reserves "Fixed Asset" accounts for its Asset documents, which QBO's history has none of.
ACCOUNT_TYPES = {
	"Bank": "Bank",
	"Accounts Receivable": "Receivable",
	"Accounts Payable": "Payable",
	"Credit Card": "Bank",
	"Equity": "Equity",
	"Income": "Income Account",
	"Other Income": "Income Account",
	"Cost of Goods Sold": "Cost of Goods Sold",
	"Expense": "Expense Account",
	"Other Expense": "Expense Account",
}
# Undeposited Funds is "Cash": ERPNext receives payments only into Bank or Cash accounts.
SUBTYPE_ACCOUNT_TYPES = {
	"UndepositedFunds": "Cash",
	"CashOnHand": "Cash",
	"Inventory": "Stock",
	"SalesTaxPayable": "Tax",
	"GlobalTaxPayable": "Tax",
	"AccumulatedDepreciation": "Accumulated Depreciation",
}
# Where each QBO AccountType sits in ERPNext's standard chart of accounts.
STANDARD_GROUPS = {
	"Bank": "Bank Accounts",
	"Accounts Receivable": "Accounts Receivable",
	"Other Current Asset": "Current Assets",
	"Fixed Asset": "Fixed Assets",
	"Other Asset": "Application of Funds (Assets)",
	"Accounts Payable": "Accounts Payable",
	"Credit Card": "Current Liabilities",
	"Other Current Liability": "Current Liabilities",
	"Long Term Liability": "Source of Funds (Liabilities)",
	"Equity": "Equity",
	"Income": "Direct Income",
	"Other Income": "Indirect Income",
	"Cost of Goods Sold": "Stock Expenses",
	"Expense": "Indirect Expenses",
	"Other Expense": "Indirect Expenses",
}


def standard_account_groups(abbr: str) -> dict[str, str]:
	"""QBO AccountType -> group account of a company set up with ERPNext's standard chart."""
	return {account_type: f"{group} - {abbr}" for account_type, group in STANDARD_GROUPS.items()}


def _has_sub_accounts(ctx: QboContext, account_id: str) -> bool:
	return any(str((a.get("ParentRef") or {}).get("value")) == account_id for a in ctx.qbo_accounts.values())


def account(record: Mapping[str, Any], ctx: QboContext) -> Mapped:
	"""A QBO account as an ERPNext Account; nothing when it is mapped onto an existing one."""
	label = record_label(ACCOUNT, record)
	account_id = str(required(record, "Id", label))
	if account_id in ctx.mapped_accounts:
		return None
	name = required(record, "Name", label)
	account_type = required(record, "AccountType", label)
	classification = record.get("Classification") or CLASSIFICATIONS.get(account_type)
	root_type = ROOT_TYPES.get(classification or "")
	if not root_type:
		raise RecordError(f"{label}: field 'Classification' is not one QBO uses: {classification!r}")
	parent_id = ref_id(record, "ParentRef", label, required=False)
	if parent_id:
		parent = ctx.mapped_accounts.get(parent_id) or Ref(ACCOUNT, parent_id)
	else:
		parent = ctx.account_groups.get(account_type)
		if not parent:
			raise MissingMappingError("Account Group", account_type, label)
	doc = {
		"doctype": "Account",
		"account_name": name,
		"account_number": record.get("AcctNum") or "",
		"company": ctx.company,
		"parent_account": parent,
		"root_type": root_type,
		"report_type": "Profit and Loss" if root_type in ("Income", "Expense") else "Balance Sheet",
		"account_type": SUBTYPE_ACCOUNT_TYPES.get(
			record.get("AccountSubType"), ACCOUNT_TYPES.get(account_type, "")
		),
		"account_currency": currency_of(record, ctx),
		"is_group": 0,
	}
	if ctx.disable_inactive:
		doc["disabled"] = 0 if record.get("Active", True) else 1
	if not _has_sub_accounts(ctx, account_id):
		return doc
	own_postings = {
		**doc,
		"account_name": f"{name} (own postings)",
		"account_number": "",
		"parent_account": Ref(ACCOUNT, account_id),
	}
	return [Target("", {**doc, "is_group": 1}), Target(OWN_POSTINGS, own_postings)]


# Kraal Account Mapping key type of QBO accounts: QBO account id -> ERPNext Account (read the other
# way when pushing).
QBO_ACCOUNT = "QuickBooks Account"


def posting_account(ctx: QboContext, account_id: str, label: str, fieldname: str) -> str:
	name = ctx.accounts.get(account_id)
	if not name:
		return missing_mapping(QBO_ACCOUNT, account_id, f"{label} ({fieldname})")
	return name


def account_currency_of(ctx: QboContext, account_id: str) -> str:
	return currency_of(ctx.qbo_accounts.get(account_id) or {}, ctx)


def _account_of_type(ctx: QboContext, account_type: str, currency: str, label: str) -> str:
	"""QBO's default account of a type in a currency (A/R or A/P), when a transaction names none."""
	for account_id, qbo_account in ctx.qbo_accounts.items():
		if qbo_account.get("AccountType") == account_type and currency_of(qbo_account, ctx) == currency:
			return account_id
	raise RecordError(f"{label}: QuickBooks has no {account_type} account in {currency}")


def undeposited_funds(ctx: QboContext, label: str) -> str:
	for account_id, qbo_account in ctx.qbo_accounts.items():
		if qbo_account.get("AccountSubType") == "UndepositedFunds":
			return account_id
	raise RecordError(f"{label}: QuickBooks has no Undeposited Funds account")


def party_ledger(
	record: Mapping[str, Any], ctx: QboContext, label: str, fieldname: str, account_type: str
) -> tuple[str, str]:
	"""(QBO id, ERPNext account) of the A/R or A/P account a transaction books to."""
	account_id = ref_id(record, fieldname, label, required=False)
	account_id = account_id or _account_of_type(ctx, account_type, currency_of(record, ctx), label)
	return account_id, posting_account(ctx, account_id, label, fieldname)
