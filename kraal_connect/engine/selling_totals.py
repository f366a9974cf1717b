"""What ERPNext will book for a selling document (Sales Order, Sales Invoice), and the choices that make
it equal a sales channel's amounts to the cent. Pure: the arithmetic of ERPNext v15's
erpnext.controllers.taxes_and_totals, in the same float operations and with frappe's rounding, for the
rows the connectors write (item rows, "On Net Total" taxes included in the price, "Actual" charges, a
discount on the net total).

Two places where ERPNext loses a cent, and how they are closed:

- Prices that include tax (EU VAT). ERPNext derives each row's net amount (amount / (1 + rate)) and then
  taxes the sum of the nets, where the channel rounded the tax line by line. When the two disagree,
  ERPNext keeps the document's total and its ledger posts the cent to the company's Round Off account,
  so tax or revenue is a cent out. inclusive_taxes() adds the difference to the tax account ("Actual",
  after the included rows) and takes it off the Round Off account in the same document; the invoice's
  ledger then balances without ERPNext's round-off entry, which it drops (general_ledger.make_round_off_gle
  removes a round-off row whose amount the other rows no longer need). Tax is the channel's, revenue
  the channel's net, the total the channel's.
- Foreign currency. ERPNext converts each item row and each tax row to the company currency and rounds
  each, and converts the total on its own; whatever the roundings leave goes to the Round Off account.
  conversion_rate() picks, among the rates (to ERPNext's 9 places) that convert the total to the
  channel's converted total, one at which the converted rows add up to it too.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

LEGACY, BANKERS, COMMERCIAL = "Banker's Rounding (legacy)", "Banker's Rounding", "Commercial Rounding"
RATE_PLACES = 9  # ERPNext keeps conversion rates to 9 places
# ERPNext absorbs an included tax's rounding into the total only up to 5 cents (adjust_grand_total_for_
# inclusive_tax); a larger difference would change the total, so it is refused instead.
MAX_INCLUSIVE_DIFF = 0.05


def frappe_round(num: float, precision: int = 2, method: str = LEGACY) -> float:
	"""frappe.utils.flt(num, precision) under the site's rounding method (System Settings)."""
	if method == BANKERS:
		multiplier = 10**precision
		num = round(num * multiplier, 12)
		if num == 0:
			return 0.0
		floor_num = math.floor(num)
		epsilon = 2.0 ** (math.log(abs(num), 2) - 52.0)
		if abs(num - floor_num - 0.5) < epsilon:
			num = floor_num if floor_num % 2 == 0 else floor_num + 1
		else:
			num = round(num)
		return num / multiplier
	if method == COMMERCIAL:
		if num == 0:
			return 0.0
		epsilon = 2.0 ** (math.log(abs(num), 2) - 52.0)
		return round(num + math.copysign(epsilon, num), precision)
	multiplier = 10**precision
	num = round(num * multiplier if precision else num, 8)
	floor_num = math.floor(num)
	if num - floor_num == 0.5:
		num = floor_num + 1 if precision or floor_num % 2 else floor_num
	else:
		num = round(num)
	return (num / multiplier) if precision else num


@dataclass(frozen=True)
class Booked:
	"""A document as ERPNext computes it, in the document's currency."""

	nets: tuple[float, ...]  # each item row's net amount
	taxes: tuple[float, ...]  # each tax row's amount (after discount)
	grand_total: float

	@property
	def net_total(self) -> float:
		return frappe_round(sum(self.nets))


def booked(
	amounts: Sequence[float],
	included: Sequence[float] = (),
	actual: Sequence[float] = (),
	discount: float = 0.0,
	method: str = LEGACY,
) -> Booked:
	"""ERPNext's net amounts, tax amounts and grand total for item rows of these amounts (qty x rate),
	tax rows "On Net Total" included in the price at these rates (percent), then "Actual" rows of these
	amounts, and a discount on the net total (not with included taxes, which the connectors never mix).
	"""
	if included and discount:
		raise ValueError("a discount on the net total with taxes included in the price is not modelled")
	amounts = [frappe_round(a, 2, method) for a in amounts]
	nets = list(amounts)
	if any(included):
		fraction = 0.0
		for rate in included:
			fraction += rate / 100.0
		nets = [frappe_round(a / (1 + fraction), 2, method) for a in amounts]
	taxes, grand = _taxes(nets, included, actual, method)
	if discount:
		net_total = frappe_round(sum(nets), 2, method)
		expected = total = 0.0
		for i, net in enumerate(nets):
			distributed = discount * net / net_total
			adjusted = net - distributed
			expected += adjusted
			nets[i] = frappe_round(adjusted, 2, method)
			total += nets[i]
			difference = frappe_round(expected - total, 2, method)
			if difference:
				nets[i] = frappe_round(nets[i] + difference, 2, method)
				total += difference
		taxes, grand = _taxes(nets, included, actual, method)
	elif any(included):
		last_total = frappe_round(sum(nets), 2, method)
		for tax in taxes:
			last_total = frappe_round(last_total + tax, 2, method)
		diff = frappe_round(
			frappe_round(sum(amounts), 2, method) + sum(taxes[len(included) :]) - last_total, 2, method
		)
		if diff and abs(diff) <= MAX_INCLUSIVE_DIFF:
			grand = frappe_round(grand + diff, 2, method)
	return Booked(tuple(nets), tuple(taxes), grand)


def _taxes(nets: list[float], included: Sequence[float], actual: Sequence[float], method: str):
	"""calculate_taxes and calculate_totals: each row's amount and the grand total before an included
	tax's adjustment."""
	net_total = frappe_round(sum(nets), 2, method)
	rows = [0.0] * (len(included) + len(actual))
	remaining = [frappe_round(a, 2, method) for a in actual]
	for n, net in enumerate(nets):
		for i, rate in enumerate(included):
			rows[i] += (rate / 100.0) * net
		for j, amount in enumerate(remaining):
			share = net * frappe_round(actual[j], 2, method) / net_total if net_total else 0.0
			remaining[j] = amount - share
			rows[len(included) + j] += share + (remaining[j] if n == len(nets) - 1 else 0.0)
	taxes = [frappe_round(row, 2, method) for row in rows]
	total = net_total
	for tax in taxes:
		total = frappe_round(total + tax, 2, method)
	return taxes, total


def inclusive_taxes(
	amounts: Sequence[Decimal],
	channel_taxes: Mapping[str, Decimal],
	rates: Mapping[str, Decimal],
	descriptions: Mapping[str, str],
	round_off_account: str,
	channel: str,
	method: str = LEGACY,
) -> list[dict]:
	"""The Sales Taxes and Charges rows for item rows of these amounts, whose prices include the channel's
	taxes: per tax account its rate ("On Net Total", included in the print rate), then, for an account
	where ERPNext's tax of the summed nets differs from the channel's line-by-line tax, the difference on
	that account and its opposite on the Round Off account (see the module's note).

	amounts: each item row's amount including tax; channel_taxes: account -> the tax the channel charged
	(included in the amounts); rates: account -> percent, every row taxed at it. Raises ValueError when
	ERPNext cannot book the total (a rounding difference over 5 cents).
	"""
	accounts = [account for account in channel_taxes if rates.get(account)]
	included = [float(rates[account]) for account in accounts]
	result = booked([float(a) for a in amounts], included, method=method)
	rows = [
		{
			"charge_type": "On Net Total",
			"account_head": account,
			"description": descriptions.get(account) or account,
			"rate": float(rates[account]),
			"included_in_print_rate": 1,
		}
		for account in accounts
	]
	adjustments = []
	for account, tax in zip(accounts, result.taxes, strict=True):
		difference = float(channel_taxes[account]) - tax
		difference = frappe_round(difference, 2, method)
		if not difference:
			continue
		description = descriptions.get(account) or account
		adjustments += [
			{
				"charge_type": "Actual",
				"account_head": account,
				"description": f"{description}: rounded line by line as {channel} charged it",
				"tax_amount": difference,
			},
			{
				"charge_type": "Actual",
				"account_head": round_off_account,
				"description": f"{description}: ERPNext's rounding of the tax, taken back",
				"tax_amount": -difference,
			},
		]
	expected = frappe_round(float(sum(amounts, Decimal(0))), 2, method)
	grand = booked(
		[float(a) for a in amounts], included, [r["tax_amount"] for r in adjustments], method=method
	)
	if grand.grand_total != expected:
		raise ValueError(
			f"ERPNext would book a total of {grand.grand_total:.2f} instead of {expected:.2f}: its rounding of "
			f"the included tax differs from {channel}'s by more than {MAX_INCLUSIVE_DIFF}"
		)
	return rows + adjustments


def conversion_rate(
	nets: Sequence[float],
	taxes: Sequence[float],
	total: float,
	converted_total: float,
	method: str = LEGACY,
) -> tuple[float, bool]:
	"""A conversion rate (9 places) at which ERPNext converts `total` to `converted_total`, and the
	ledger rows of a Sales Invoice add up to it with nothing for its Round Off account: each item row's
	converted net (`nets`: the rows' net amounts) and each tax row's converted amount (`taxes`: every
	tax row but those on the Round Off account, in the document currency), with the converted nets
	adding up to the converted net total (ERPNext posts the difference of those two to Round Off as its
	"net total calculation precision loss"). The rate nearest converted_total / total: (rate, True).

	When no rate of the window does it: (a rate without that precision loss, or the plain rate, False).
	"""
	plain = round(converted_total / total, RATE_PLACES) if total else 1.0
	if not total:
		return plain, False
	low, high = sorted(((converted_total - 0.005) / total, (converted_total + 0.005) / total))
	net_total = frappe_round(sum(nets), 2, method)
	# Each converted amount changes cent at rate (k + 0.5) / 100 / amount: try the rates around every
	# such point inside the window, and the plain rate first.
	candidates = {plain}
	for part in [*nets, *taxes, net_total]:
		if not part:
			continue
		first, last = sorted((low * part * 100, high * part * 100))
		for k in range(math.floor(first - 0.5), math.ceil(last + 0.5) + 1):
			edge = (k + 0.5) / 100 / part
			if low <= edge <= high:
				step = 10.0**-RATE_PLACES
				candidates.update(round(edge + d * step, RATE_PLACES) for d in (-2, -1, 1, 2))
	nearest = sorted(candidates, key=lambda r: abs(r - plain))
	target = frappe_round(converted_total, 2, method)

	def converts(rate: float) -> bool:
		return frappe_round(total * rate, 2, method) == target

	def net_kept(rate: float) -> bool:
		converted_nets = frappe_round(sum(_converted(n, rate, method) for n in nets), 2, method)
		return converted_nets == frappe_round(net_total * rate, 2, method)

	def balanced(rate: float) -> bool:
		converted = sum(_converted(p, rate, method) for p in [*nets, *taxes])
		return frappe_round(converted, 2, method) == target

	for rate in nearest:
		if converts(rate) and net_kept(rate) and balanced(rate):
			return rate, True
	return next((r for r in nearest if converts(r) and net_kept(r)), plain), False


def _converted(amount: float, rate: float, method: str) -> float:
	return frappe_round(frappe_round(amount, 2, method) * rate, 2, method)
