"""The decision that ties a bank transaction to the payout or settlement it deposits."""

from datetime import date
from decimal import Decimal

from kraal_connect.engine.deposit_match import AMBIGUOUS, NONE, UNIQUE, BankLine, Deposit, decide, plan

BANK = "Kookaburra Checking - KTC"


def line(name="BT-1", amount="61.82", day=18, month=9, account=BANK, currency="USD") -> BankLine:
	return BankLine(name, account, currency, Decimal(amount), date(2026, month, day))


def deposit(voucher="JE-1", amount="61.82", day=17, month=9, account=BANK, currency="USD") -> Deposit:
	return Deposit(voucher, account, currency, Decimal(amount), date(2026, month, day))


def test_one_payout_of_the_amount_in_the_window_is_the_deposit():
	match = decide(line(), [deposit(), deposit("JE-2", amount="61.83")])
	assert (match.kind, [d.voucher for d in match.deposits]) == (UNIQUE, ["JE-1"])


def test_the_window_runs_from_the_payout_day_to_five_days_after():
	assert decide(line(day=17), [deposit()]).kind == UNIQUE
	assert decide(line(day=22), [deposit()]).kind == UNIQUE
	assert decide(line(day=23), [deposit()]).kind == NONE
	assert decide(line(day=16), [deposit()]).kind == NONE  # the bank cannot have it before it was paid


def test_account_currency_and_the_cent_must_agree():
	assert decide(line(account="Other Bank - KTC"), [deposit()]).kind == NONE
	assert decide(line(currency="CAD"), [deposit()]).kind == NONE
	assert decide(line(amount="61.81"), [deposit()]).kind == NONE
	assert decide(line(amount="-61.82"), [deposit()]).kind == NONE  # a withdrawal is not a deposit


def test_two_payouts_of_the_same_amount_in_the_window_are_a_suggestion_of_both():
	payouts = [deposit("JE-3", "43.73", day=14, month=10), deposit("JE-2", "43.73", day=10, month=10)]
	match = decide(line(amount="43.73", day=14, month=10), payouts)
	assert (match.kind, [d.voucher for d in match.deposits]) == (AMBIGUOUS, ["JE-2", "JE-3"])


def test_two_bank_transactions_taking_the_same_only_payout_are_both_left_as_suggestions():
	lines = [line("BT-1"), line("BT-2", day=19), line("BT-3", amount="22.66", day=19, month=10)]
	payouts = [deposit(), deposit("JE-9", "22.66", day=17, month=10)]
	matches = plan(lines, payouts)
	assert {name: m.kind for name, m in matches.items()} == {
		"BT-1": AMBIGUOUS,
		"BT-2": AMBIGUOUS,
		"BT-3": UNIQUE,
	}
	assert [d.voucher for d in matches["BT-1"].deposits] == ["JE-1"]


def test_nothing_to_match_against_is_none():
	assert plan([line()], []) == {"BT-1": decide(line(), [])}
	assert decide(line(), []).kind == NONE
