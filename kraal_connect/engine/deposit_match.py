"""Which payout or settlement a bank transaction is: the decision, pure (engine/deposits acts on it).

A marketplace pays a payout (Shopify) or settlement (Amazon) into the bank some days after it issues it;
Kraal books each as a Journal Entry whose bank line is the deposit. A bank transaction (from Plaid or
entered by hand) is that deposit when it is on the same ledger account, in the same currency, of the
same amount to the cent, and dated from the payout's day to WINDOW_DAYS after it.

- unique: exactly one payout fits, and no other bank transaction of this run fits only it: reconcile;
- ambiguous: several payouts fit (two payouts of the same amount a few days apart), or several bank
  transactions compete for the one payout: left for a person, the candidates offered as suggestions;
- none: nothing fits (a deposit of something else, or a payout not booked yet).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

# Shopify pays out in 2 business days (more over a weekend or a holiday), Amazon in 3 to 5.
WINDOW_DAYS = 5
UNIQUE, AMBIGUOUS, NONE = "unique", "ambiguous", "none"


@dataclass(frozen=True)
class BankLine:
	"""An unreconciled bank transaction: what is left of it to reconcile, signed (money in > 0)."""

	name: str
	account: str  # the ledger account of its Bank Account
	currency: str
	amount: Decimal
	date: date


@dataclass(frozen=True)
class Deposit:
	"""A payout's or settlement's Journal Entry as it moves one bank ledger account (money in > 0)."""

	voucher: str
	account: str
	currency: str
	amount: Decimal
	date: date
	label: str = ""


@dataclass(frozen=True)
class Match:
	kind: str
	deposits: tuple[Deposit, ...] = ()


def fits(line: BankLine, deposit: Deposit, window_days: int = WINDOW_DAYS) -> bool:
	return (
		line.account == deposit.account
		and line.currency == deposit.currency
		and line.amount == deposit.amount
		and deposit.date <= line.date <= deposit.date + timedelta(days=window_days)
	)


def decide(line: BankLine, deposits: Iterable[Deposit], window_days: int = WINDOW_DAYS) -> Match:
	"""One bank transaction against the deposits not reconciled yet."""
	found = tuple(
		sorted((d for d in deposits if fits(line, d, window_days)), key=lambda d: (d.date, d.voucher))
	)
	if not found:
		return Match(NONE)
	return Match(UNIQUE if len(found) == 1 else AMBIGUOUS, found)


def plan(
	lines: Sequence[BankLine], deposits: Sequence[Deposit], window_days: int = WINDOW_DAYS
) -> dict[str, Match]:
	"""Every bank transaction's match (by its name). A deposit that two bank transactions would each
	take as their only one is taken by neither: both are offered it as a suggestion."""
	matches = {line.name: decide(line, deposits, window_days) for line in lines}
	claims: dict[str, int] = {}
	for match in matches.values():
		if match.kind == UNIQUE:
			claims[match.deposits[0].voucher] = claims.get(match.deposits[0].voucher, 0) + 1
	return {
		name: Match(AMBIGUOUS, match.deposits)
		if match.kind == UNIQUE and claims[match.deposits[0].voucher] > 1
		else match
		for name, match in matches.items()
	}
