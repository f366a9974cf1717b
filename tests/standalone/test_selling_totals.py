"""engine/selling_totals: ERPNext's arithmetic for selling documents, taxes included in the price booked
to the channel's cent, and conversion rates that leave nothing to round off. The in-bench suite checks
the same documents against ERPNext itself (tests/bench/test_tax_included.py)."""

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from kraal_connect.engine.selling_totals import (
	BANKERS,
	COMMERCIAL,
	LEGACY,
	booked,
	conversion_rate,
	frappe_round,
	inclusive_taxes,
)

CENT = Decimal("0.01")


def half_up(value: Decimal) -> Decimal:
	return value.quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(
	"method, value, expected",
	[
		(LEGACY, 0.125, 0.13),  # the legacy method rounds a half up for cents
		(BANKERS, 0.125, 0.12),
		(COMMERCIAL, 0.125, 0.13),
		(LEGACY, 2.675, 2.68),  # 2.675 is 2.67499999... as a float: frappe still rounds it up
		(COMMERCIAL, -0.125, -0.13),
		(BANKERS, 0.135, 0.14),
	],
)
def test_rounding_is_frappes(method, value, expected):
	assert frappe_round(value, 2, method) == expected


def test_erpnext_taxes_the_summed_nets_so_a_line_by_line_tax_can_differ_by_a_cent():
	# Two rows with 20 % VAT included: ERPNext's nets 19.08 and 27.04, tax 0.2 x 46.12 = 9.224 -> 9.22;
	# the channel's tax line by line: 22.90 / 6 = 3.8167 -> 3.82 and 32.45 / 6 = 5.4083 -> 5.41, 9.23.
	result = booked([22.90, 32.45], [20.0])
	assert result.nets == (19.08, 27.04)
	assert result.taxes == (9.22,)
	# ERPNext keeps the total (55.35) and books the cent nowhere but the Round Off account.
	assert result.grand_total == 55.35
	assert half_up(Decimal("22.90") / 6) + half_up(Decimal("32.45") / 6) == Decimal("9.23")


def test_included_taxes_book_the_channels_tax_and_take_the_cent_off_round_off():
	rows = inclusive_taxes(
		[Decimal("22.90"), Decimal("32.45")],
		{"VAT - KC": Decimal("9.23")},
		{"VAT - KC": Decimal(20)},
		{"VAT - KC": "FR TVA"},
		"Round Off - KC",
		"Shopify",
	)
	assert rows == [
		{
			"charge_type": "On Net Total",
			"account_head": "VAT - KC",
			"description": "FR TVA",
			"rate": 20.0,
			"included_in_print_rate": 1,
		},
		{
			"charge_type": "Actual",
			"account_head": "VAT - KC",
			"description": "FR TVA: rounded line by line as Shopify charged it",
			"tax_amount": 0.01,
		},
		{
			"charge_type": "Actual",
			"account_head": "Round Off - KC",
			"description": "FR TVA: ERPNext's rounding of the tax, taken back",
			"tax_amount": -0.01,
		},
	]
	result = booked([22.90, 32.45], [20.0], [0.01, -0.01])
	assert result.grand_total == 55.35
	vat = Decimal(str(result.taxes[0])) + Decimal(str(result.taxes[1]))
	assert vat == Decimal("9.23")
	# Revenue is the channel's net: the total less the channel's tax.
	assert sum(Decimal(str(n)) for n in result.nets) == Decimal("55.35") - Decimal("9.23")


def test_included_taxes_agree_with_a_line_by_line_channel_whatever_the_prices():
	randomly = random.Random(12)
	for _ in range(300):
		rate = randomly.choice([Decimal(19), Decimal(20), Decimal("5.5"), Decimal(21), Decimal(7)])
		amounts = [Decimal(randomly.randint(1, 40000)) / 100 for _ in range(randomly.randint(1, 6))]
		channel = sum((half_up(a * rate / (100 + rate)) for a in amounts), Decimal(0))
		rows = inclusive_taxes(amounts, {"VAT": channel}, {"VAT": rate}, {}, "RO", "Shopify")
		actual = [r["tax_amount"] for r in rows[1:]]
		result = booked([float(a) for a in amounts], [float(rate)], actual)
		assert result.grand_total == float(sum(amounts)), amounts
		vat = sum(
			Decimal(str(t)) for t, r in zip(result.taxes, rows, strict=True) if r["account_head"] == "VAT"
		)
		assert vat == channel, (amounts, rate)
		# Where ERPNext's own tax already agrees there is no adjustment at all.
		assert (len(rows) == 1) == (
			Decimal(str(booked([float(a) for a in amounts], [float(rate)]).taxes[0])) == channel
		)


def test_a_discount_on_the_net_total_is_shared_as_erpnext_shares_it():
	# 10.00, 20.00 and 30.00 less 10.00: shares 1.6667, 3.3333 and 5.00, each rounded, the cent they
	# lose put back on the row where it appears.
	result = booked([10.0, 20.0, 30.0], actual=[4.0], discount=10.0)
	assert result.nets == (8.33, 16.67, 25.0)
	assert result.taxes == (4.0,)
	assert result.grand_total == 54.0


def converted(parts, rate: float) -> Decimal:
	"""Each part converted and rounded on its own, as ERPNext converts rows (independently, in Decimal)."""
	return sum((half_up(Decimal(str(p)) * Decimal(str(rate))) for p in parts), Decimal(0))


def test_a_conversion_rate_where_rows_and_taxes_add_up_to_the_converted_total():
	# An EUR order of 60.25 paid as 64.81 USD: at 64.81 / 60.25 the converted rows come to 64.80, a cent
	# ERPNext would post to Round Off.
	nets, taxes = [19.08, 9.01, 18.03, 4.08], [10.04, 0.01]
	plain = round(64.81 / 60.25, 9)
	assert converted(nets + taxes, plain) == Decimal("64.80")
	rate, exact = conversion_rate(nets, taxes, 60.25, 64.81)
	assert exact and rate != plain
	assert abs(rate - plain) < 0.0001
	assert half_up(Decimal("60.25") * Decimal(str(rate))) == Decimal("64.81")
	assert converted(nets + taxes, rate) == Decimal("64.81")
	# ... and the converted nets add up to the converted net total, which ERPNext checks on its own
	# (the difference would be its "net total calculation precision loss", on Round Off too).
	assert converted(nets, rate) == half_up(Decimal("50.20") * Decimal(str(rate)))


def test_the_plain_rate_when_it_already_adds_up_or_when_no_rate_can():
	assert conversion_rate([46.0, 15.0], [], 61.0, 67.10) == (1.1, True)
	# At 65.39 USD every rate that converts 60.25 to 65.39 converts these rows to 65.40: none fits.
	nets, taxes = [19.08, 9.01, 18.03, 4.08], [10.04, 0.01]
	rate, exact = conversion_rate(nets, taxes, 60.25, 65.39)
	assert not exact
	assert half_up(Decimal("60.25") * Decimal(str(rate))) == Decimal("65.39")


def test_conversion_rates_found_for_random_orders_are_right():
	randomly = random.Random(7)
	found = 0
	for _ in range(300):
		nets = [randomly.randint(1, 20000) / 100 for _ in range(randomly.randint(1, 6))]
		taxes = [randomly.randint(0, 3000) / 100 for _ in range(randomly.randint(0, 3))]
		total = round(sum(nets) + sum(taxes), 2)
		market = Decimal(randomly.randint(5000, 20000)) / 10000
		target = half_up(Decimal(str(total)) * market)
		rate, exact = conversion_rate(nets, taxes, total, float(target))
		assert half_up(Decimal(str(total)) * Decimal(str(rate))) == target
		if exact:
			found += 1
			assert converted(nets + taxes, rate) == target
			net_total = Decimal(str(round(sum(nets), 2)))
			assert converted(nets, rate) == half_up(net_total * Decimal(str(rate)))
	assert found > 250, found  # nearly always a rate exists
