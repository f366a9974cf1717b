"""The E-commerce view's figures (commerce/figures) and what each payout and settlement line is to them
(connectors' row roles), on the fixture payouts and settlement mapped by the real mappers."""

import json
from datetime import date
from decimal import Decimal

from kraal_connect.commerce import figures
from kraal_connect.commerce.figures import ADJUSTMENT, FEE, REFUND, Invoice, LedgerRow, Line
from kraal_connect.connectors.amazon import mapping as amazon_mapping
from kraal_connect.connectors.amazon.revenue import settlement_row_role
from kraal_connect.connectors.shopify import mapping as shopify_mapping
from kraal_connect.connectors.shopify.mapping import payouts
from kraal_connect.connectors.shopify.revenue import payout_row_role
from tests.standalone.amazon_support import US_SETTLEMENT, settlement_text
from tests.standalone.amazon_support import context as amazon_context
from tests.standalone.shopify_support import DATASET
from tests.standalone.shopify_support import context as shopify_context

D = Decimal


def ledger(entry: dict) -> list[LedgerRow]:
	return [
		LedgerRow(
			"JV",
			row["user_remark"],
			D(str(row["debit_in_account_currency"])),
			D(str(row["credit_in_account_currency"])),
		)
		for row in entry["accounts"]
	]


# -- invoices ------------------------------------------------------------------------------------


def test_gross_less_discounts_is_what_the_invoices_credit_to_income_and_refunds_what_notes_take_back():
	sale = Invoice(
		"SINV-1",
		False,
		base_net_total=D("90.00"),  # 100 of goods less the document's 10 discount
		base_discount_amount=D("10.00"),
		lines=(Line(D("90.00"), D("50"), D("50"), D("2")),),
		income_charges=(D("5.99"), D("-2.00")),  # shipping, a promotion
	)
	# A tax-inclusive line: 60 list price, 48 charged with 20% VAT in it, so 40 net of tax.
	included = Invoice("SINV-2", False, D("40.00"), D("0"), (Line(D("40.00"), D("48"), D("60"), D("1")),))
	note = Invoice("SINV-3", True, D("-25.00"), D("0"), (), (D("-5.99"),))
	result = figures.revenue([sale, included, note], [], lambda remark: None)
	assert (result.orders, result.gross, result.discounts, result.refunds) == (
		2,
		D("155.99"),  # 90 + 10 + 5.99 + 2 (promotion) + 40 + 8 (line discount 12 without its 20% VAT)
		D("22.00"),
		D("30.99"),
	)
	assert result.net == D("103.00") == sale.income() + included.income() + note.income()
	assert result.invoices == ["SINV-1", "SINV-2", "SINV-3"]


def test_fees_refunds_and_adjustments_come_from_the_rows_their_role_names():
	rows = [
		LedgerRow("JV-1", "fee", D("3.00"), D("0")),
		LedgerRow("JV-1", "fee", D("0"), D("0.50")),  # a fee given back
		LedgerRow("JV-1", "chargeback", D("20.15"), D("0")),
		LedgerRow("JV-1", "reimbursed", D("0"), D("11.50")),
		LedgerRow("JV-1", "bank", D("100"), D("0")),
	]
	roles = {"fee": FEE, "chargeback": REFUND, "reimbursed": ADJUSTMENT}
	result = figures.revenue([], rows, roles.get)
	assert (result.fees, result.refunds, result.adjustments, result.net) == (
		D("2.50"),
		D("20.15"),
		D("11.50"),
		D("-11.15"),
	)


# -- the connectors' rows ------------------------------------------------------------------------


def test_an_amazon_settlement_s_fees_refunds_and_reimbursements_by_their_fee_type():
	record = {"reportId": "1", "flat_file": settlement_text(US_SETTLEMENT)}
	entry = amazon_mapping.settlement_journal_entry(record, amazon_context())
	roles = {row["user_remark"]: settlement_row_role(row["user_remark"]) for row in entry["accounts"]}
	assert {k for k, role in roles.items() if role == FEE} == {
		"ItemFees:FBAPerUnitFulfillmentFee",
		"ItemFees:Commission",
		"ItemFees:ShippingChargeback",
		"Refund ItemFees:Commission",
		"Refund ItemFees:RefundCommission",
		"Subscription Fee",
		"Storage Fee",
	}
	assert {k for k, role in roles.items() if role == REFUND} == {"Refund ItemPrice:Principal"}
	assert {k for k, role in roles.items() if role == ADJUSTMENT} == {
		"FBA Inventory Reimbursement:WAREHOUSE_DAMAGE"
	}
	result = figures.revenue([], ledger(entry), settlement_row_role)
	settlement = amazon_mapping.parse_settlement(record["flat_file"])
	# What the settlement's own summary says Amazon charged, as its Journal Entry's remark states it.
	assert result.fees == -settlement.fee_total == D("79.30")
	assert (result.refunds, result.adjustments) == (D("14.99"), D("11.50"))


def fixture_payout(payout_id: str) -> dict:
	payout = json.loads((DATASET / "payouts" / f"{payout_id}.json").read_text())
	rows = [
		json.loads(p.read_text())
		for p in sorted((DATASET / "balance_transactions").glob("*.json"))
		if json.loads(p.read_text())["associatedPayout"]["id"] == payout["id"]
	]
	return {**payout, "balanceTransactions": {"nodes": rows}}


def test_a_shopify_payout_s_fees_and_chargeback_by_their_lines():
	accounts = {shopify_mapping.FEES: "Fees", "DISPUTE": "Chargebacks", "ADJUSTMENT": "Adjustments"}
	ctx = shopify_context(payout_banks={"USD": "Bank"}, payout_accounts=accounts)
	payout = fixture_payout("80002")
	entry = shopify_mapping.payout_journal_entry(payout, ctx)
	rows = [r for r in payout["balanceTransactions"]["nodes"] if r["type"] != "TRANSFER"]
	result = figures.revenue([], ledger(entry), payout_row_role)
	assert result.fees == sum(D(r["fee"]["amount"]) for r in rows) == D("17.75")
	assert result.refunds == -sum(D(r["amount"]["amount"]) for r in rows if r["type"] == "DISPUTE")
	assert result.adjustments == sum(D(r["amount"]["amount"]) for r in rows if r["type"] == "ADJUSTMENT")
	assert result.refunds and result.adjustments


def test_payout_line_remarks_read_back_to_their_keys():
	for key in (payouts.FEES, "DISPUTE", "ADJUSTMENT", "RESERVED_FUNDS", shopify_mapping.GATEWAY_MAPPING):
		assert payouts.remark_key(payouts.line_remark(key)) == key
	assert payouts.remark_key("Shopify payout 80001 to the bank") is None
	assert payout_row_role(payouts.line_remark("RESERVED_FUNDS")) is None
	assert payout_row_role(payouts.line_remark(shopify_mapping.GATEWAY_MAPPING)) is None


# -- orders and stock ----------------------------------------------------------------------------


def test_orders_in_the_last_day_week_and_month_up_to_a_date():
	dates = [date(2026, 10, d) for d in (18, 18, 12, 11, 1)] + [date(2026, 9, 18), date(2026, 10, 19)]
	assert figures.order_counts(dates, date(2026, 10, 18)) == {1: 2, 7: 3, 30: 5}


def test_stock_differences_against_each_level_s_latest_count():
	counts = [
		("L1", "MUG", "Main", D(5), "2026-10-01 10:00:00"),
		("L1", "MUG", "Main", D(7), "2026-10-03 10:00:00"),  # the latest count of the level
		("L2", "MUG", "Brooklyn", D(2), "2026-10-02 10:00:00"),
		("L3", "TEE", "Main", D(0), "2026-10-02 10:00:00"),
	]
	platform = figures.latest_counts(counts)
	assert platform[("MUG", "Main")] == (D(7), "2026-10-03 10:00:00")
	held = {("MUG", "Main"): D(7), ("MUG", "Brooklyn"): D(1)}
	assert [
		(d.item_code, d.warehouse, d.platform_qty, d.erpnext_qty, d.difference)
		for d in figures.stock_differences(platform, held)
	] == [("MUG", "Brooklyn", D(2), D(1), D(-1))]
