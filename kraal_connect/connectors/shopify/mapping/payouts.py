"""A Shopify Payments payout -> one Journal Entry moving the money from the clearing account to the bank.

The order payments Kraal books put Shopify Payments money in the clearing account of the
shopify_payments gateway (its refunds take it out again). A payout pays out a set of balance
transactions, each an amount less Shopify's fee; the entry:

- debits the bank account mapped for the payout's currency ("Shopify Payout Bank") with the payout;
- credits the clearing account with the charges, and debits it with the refunds, it paid out;
- debits every fee to the account mapped for "Fees" (key type "Shopify Payout Type");
- books each other kind of transaction (ADJUSTMENT, DISPUTE: a chargeback, RESERVED_FUNDS, ...) to the
  account mapped for its type, as Amazon's fee types are mapped.

So it equals the payout to the cent, and the clearing account keeps only what is not paid out yet.
PayPal and manual payments have no payouts here: they stay in their own clearing accounts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import CENT, to_decimal
from kraal_connect.connectors.shopify.mapping.records import (
	GATEWAY_MAPPING,
	ShopifyContext,
	connection_nodes,
	legacy_id,
	local_date_time,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.missing_mappings import missing_mapping

PAYOUTS = "payout"
# Kraal Account Mapping key types: the payout's currency -> the bank Account it arrives in, and a
# balance transaction type (or FEES) -> the Account it books to.
PAYOUT_BANK = "Shopify Payout Bank"
PAYOUT_TYPE = "Shopify Payout Type"
FEES = "Fees"
SHOPIFY_PAYMENTS = "shopify_payments"
# Balance transactions of orders' payments and refunds: they settle the clearing account.
CLEARING_TYPES = frozenset({"CHARGE", "REFUND"})
# The payout's own transaction: the money leaving the balance, which the bank line books.
TRANSFER_TYPES = frozenset({"TRANSFER"})
# Only a paid payout has reached the bank; scheduled, in transit, failed and cancelled ones book nothing.
PAID = "PAID"
ZERO = Decimal(0)
CLEARING_REMARK = "Shopify Payments charges less refunds paid out"
FEES_REMARK = "Shopify Payments fees"
TYPE_REMARK = "Shopify Payments "


@dataclass
class _Line:
	"""Credited in the payout's currency when positive, debited when negative."""

	account: str
	amount: Decimal
	remark: str

	def row(self) -> dict:
		return {
			"account": self.account,
			"debit_in_account_currency": float(-self.amount) if self.amount < 0 else 0.0,
			"credit_in_account_currency": float(self.amount) if self.amount > 0 else 0.0,
			"user_remark": self.remark,
		}


def _money(holder: Mapping[str, Any], fieldname: str, label: str) -> tuple[Decimal, str | None]:
	money = holder.get(fieldname)
	if not isinstance(money, Mapping) or money.get("amount") is None:
		raise RecordError(f"{label}: field '{fieldname}' is missing")
	return to_decimal(money["amount"], label, f"{fieldname}.amount").quantize(CENT), money.get("currencyCode")


def payout_totals(payout: Mapping[str, Any]) -> dict[str, Decimal]:
	"""What the payout's balance transactions add up to, per mapping key: the clearing account's share
	under GATEWAY_MAPPING, the fees under FEES, every other type under its name. Their sum is the payout."""
	label = payout_label(payout)
	totals: dict[str, Decimal] = {}
	for row in connection_nodes(payout, "balanceTransactions", label):
		kind = row.get("type") or ""
		row_label = f"{label}, balance transaction {row.get('id')}"
		if not kind:
			raise RecordError(f"{row_label}: field 'type' is missing")
		if kind in TRANSFER_TYPES:
			continue
		amount, _ = _money(row, "amount", row_label)
		fee, _ = _money(row, "fee", row_label)
		net, _ = _money(row, "net", row_label)
		if amount - fee != net:
			raise RecordError(f"{row_label}: amount {amount} less fee {fee} is not its net {net}")
		key = GATEWAY_MAPPING if kind in CLEARING_TYPES else kind
		totals[key] = totals.get(key, ZERO) + amount
		if fee:
			totals[FEES] = totals.get(FEES, ZERO) - fee
	return totals


def line_remark(key: str) -> str:
	"""The remark of a payout entry's line for a payout_totals key; remark_key reads it back (the
	E-commerce view tells fees from chargebacks by it)."""
	if key == GATEWAY_MAPPING:
		return CLEARING_REMARK
	return FEES_REMARK if key == FEES else f"{TYPE_REMARK}{key.lower()}"


def remark_key(remark: str) -> str | None:
	"""The payout_totals key of a payout entry's line, from its remark; None for the bank's line."""
	if remark == CLEARING_REMARK:
		return GATEWAY_MAPPING
	if remark == FEES_REMARK:
		return FEES
	if remark.startswith(TYPE_REMARK):
		return remark.removeprefix(TYPE_REMARK).upper()
	return None


def payout_label(payout: Mapping[str, Any]) -> str:
	return f"Shopify payout {legacy_id(payout.get('id') or '') or '(no id)'}"


def payout_journal_entry(payout: Mapping[str, Any], ctx: ShopifyContext) -> dict | None:
	"""A paid payout as one submitted Journal Entry (see the module); None for one not paid (yet)."""
	label = payout_label(payout)
	if payout.get("status") != PAID:
		return None
	net, currency = _money(payout, "net", label)
	if currency != ctx.company_currency:
		raise RecordError(
			f"{label}: field 'net.currencyCode' is {currency}; company {ctx.company} books in "
			f"{ctx.company_currency}, and Kraal books payouts in the company's currency only"
		)
	sign = Decimal(-1) if payout.get("transactionType") == "WITHDRAWAL" else Decimal(1)
	totals = payout_totals(payout)
	paid_out = sum(totals.values(), ZERO)
	if paid_out != sign * net:
		raise RecordError(
			f"{label}: its balance transactions add up to {paid_out} {currency}, not the payout's "
			f"{sign * net}"
		)
	if not paid_out:
		return None
	bank = ctx.payout_banks.get(currency) or missing_mapping(PAYOUT_BANK, currency, label)
	lines = []
	for key, amount in totals.items():
		if not amount:
			continue
		if key == GATEWAY_MAPPING:
			account = ctx.gateway_accounts.get(SHOPIFY_PAYMENTS) or missing_mapping(
				GATEWAY_MAPPING, SHOPIFY_PAYMENTS, label
			)
		else:
			account = ctx.payout_accounts.get(key) or missing_mapping(PAYOUT_TYPE, key, label)
		lines.append(_Line(account, amount, line_remark(key)))
	lines.append(_Line(bank, -paid_out, f"{label} to the bank"))
	posting_date, _ = local_date_time(payout.get("issuedAt") or "", ctx, label, "issuedAt")
	fees = -totals.get(FEES, ZERO)
	return {
		"doctype": "Journal Entry",
		"docstatus": 1,
		"voucher_type": "Bank Entry",
		"company": ctx.company,
		"posting_date": posting_date,
		"cheque_no": legacy_id(payout["id"]),
		"cheque_date": posting_date,
		"user_remark": f"{label}: {sign * net} {currency} paid out, Shopify Payments fees {fees}",
		"accounts": [line.row() for line in lines],
	}
