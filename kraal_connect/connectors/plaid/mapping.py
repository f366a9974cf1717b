"""Plaid records -> ERPNext document dicts. Pure: everything from the site comes in the context."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kraal_connect.connectors.fields import iso_date, money, required
from kraal_connect.engine.errors import MissingMappingError, RecordError

# The Kraal Account Mapping key type of a Plaid account (it maps to a Bank Account).
PLAID_ACCOUNT = "Plaid Account"


@dataclass(frozen=True)
class PlaidContext:
	company: str
	company_currency: str
	# Plaid account_id -> ERPNext Bank Account name
	bank_accounts: Mapping[str, str] = field(default_factory=dict)
	# Accounts of the item the person left out in Link: their transactions are not booked.
	left_out: frozenset[str] = frozenset()


def _label(txn: Mapping[str, Any]) -> str:
	return f"Plaid transaction {txn.get('transaction_id') or '(no transaction_id)'}"


def bank_transaction(txn: Mapping[str, Any], ctx: PlaidContext) -> dict | None:
	"""A posted Plaid transaction as a submitted Bank Transaction; pending ones are not booked.

	Plaid's amount is positive when money leaves the account (a withdrawal, or a card purchase)
	and negative when it comes in.
	"""
	transaction_id = required(txn, "transaction_id", _label(txn))
	if txn.get("pending"):
		return None
	amount = money(txn.get("amount"), _label(txn), "amount")
	account_id = required(txn, "account_id", _label(txn))
	if account_id in ctx.left_out:
		return None
	bank_account = ctx.bank_accounts.get(account_id)
	if not bank_account:
		raise MissingMappingError(PLAID_ACCOUNT, account_id, _label(txn))
	currency = txn.get("iso_currency_code") or txn.get("unofficial_currency_code")
	if not currency:
		raise RecordError(f"{_label(txn)}: field 'iso_currency_code' is missing")
	payment_meta = txn.get("payment_meta") or {}
	description = " · ".join(p for p in (txn.get("merchant_name"), txn.get("name")) if p)
	return {
		"doctype": "Bank Transaction",
		"docstatus": 1,
		"date": iso_date(txn, "date", _label(txn)),
		"company": ctx.company,
		"bank_account": bank_account,
		"deposit": float(-amount) if amount < 0 else 0.0,
		"withdrawal": float(amount) if amount > 0 else 0.0,
		"currency": currency,
		"description": description or transaction_id,
		"reference_number": payment_meta.get("reference_number") or transaction_id,
		"transaction_id": transaction_id,
		"transaction_type": txn.get("payment_channel") or "",
		"bank_party_name": txn.get("merchant_name") or payment_meta.get("payee") or "",
	}


# Checking and savings are "depository"; credit cards are "credit" and post to a liability account.
SUPPORTED_ACCOUNT_TYPES = frozenset({"depository", "credit"})


def account_label(account: Mapping[str, Any]) -> str:
	name = account.get("official_name") or account.get("name") or account["account_id"]
	mask = account.get("mask")
	return f"{name} {mask}" if mask else name


def free_account_name(label: str, qualifiers: Sequence[str], taken: Callable[[str], bool]) -> str:
	"""The account name itself, or qualified by the first of qualifiers that no Bank Account holds."""
	for name in (label, *(f"{label} ({q})" for q in qualifiers)):
		if not taken(name):
			return name
	raise RecordError(f"Bank Account name {label!r} is taken under every qualifier {list(qualifiers)!r}")


def bank_account(account: Mapping[str, Any], bank: str, company: str, gl_account: str) -> dict:
	"""An ERPNext Bank Account for a Plaid account (checking, savings or credit card)."""
	return {
		"doctype": "Bank Account",
		"account_name": account_label(account),
		"bank": bank,
		"company": company,
		"account": gl_account,
		"is_company_account": 1,
		"account_type": account.get("type") or "",
		"account_subtype": account.get("subtype") or "",
		"mask": account.get("mask") or "",
	}


def gl_account(account: Mapping[str, Any], company: str, parent_account: str, currency: str) -> dict:
	"""The ledger account a new Bank Account posts to."""
	return {
		"doctype": "Account",
		"account_name": account_label(account),
		"company": company,
		"parent_account": parent_account,
		"account_type": "Bank",
		"account_currency": (account.get("balances") or {}).get("iso_currency_code") or currency,
		"is_group": 0,
	}


def chosen_account_ids(text: str | None) -> frozenset[str]:
	"""The accounts chosen in Link, as the integration keeps them: a line each, the Plaid account id
	first and then its name for the person reading the form. Empty: every account of the bank."""
	return frozenset(line.split(None, 1)[0] for line in (text or "").splitlines() if line.strip())


def chosen_accounts_text(accounts: Sequence[Mapping[str, Any]]) -> str:
	return "\n".join(f"{account['account_id']} {account_label(account)}" for account in accounts)


def is_supported_account(account: Mapping[str, Any]) -> bool:
	return account.get("type") in SUPPORTED_ACCOUNT_TYPES
