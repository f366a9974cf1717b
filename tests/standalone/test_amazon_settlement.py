"""V2 settlement flat files: parsing, fee types and the Journal Entry, to the cent."""

from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from kraal_connect.connectors.amazon import mapping
from kraal_connect.engine import missing_mappings
from kraal_connect.engine.errors import MissingMappingError, RecordError
from tests.standalone.amazon_support import (
	CA_SETTLEMENT,
	CAD_RATE,
	FEE_ACCOUNTS,
	RECEIVABLE,
	US_SETTLEMENT,
	context,
	settlement_text,
)

US_TEXT = settlement_text(US_SETTLEMENT)

# The US settlement's fee types and totals, added up by hand from the fixture's lines.
US_FEE_TYPE_TOTALS = {
	"ItemPrice:Principal": "109.46",
	"ItemPrice:Tax": "8.36",
	"ItemWithheldTax:MarketplaceFacilitatorTax-Principal": "-8.36",
	"ItemFees:FBAPerUnitFulfillmentFee": "-16.43",
	"ItemFees:Commission": "-16.57",
	"ItemPrice:Shipping": "10.98",
	"Promotion:Principal": "-5.00",
	"Promotion:Shipping": "-4.99",
	"ItemFees:ShippingChargeback": "-4.99",
	"ItemPrice:ShippingTax": "0.48",
	"ItemWithheldTax:MarketplaceFacilitatorTax-Shipping": "-0.48",
	"Refund ItemPrice:Principal": "-14.99",
	"Refund ItemPrice:Tax": "-1.20",
	"Refund ItemWithheldTax:MarketplaceFacilitatorTax-Principal": "1.20",
	"Refund ItemFees:Commission": "2.25",
	"Refund ItemFees:RefundCommission": "-0.45",
	"Previous Reserve Amount Balance": "25.00",
	"Subscription Fee": "-39.99",
	"Storage Fee": "-3.12",
	"FBA Inventory Reimbursement:WAREHOUSE_DAMAGE": "11.50",
	"Current Reserve Amount": "-30.00",
}


def record(text=US_TEXT, report_id="52713019001"):
	return {"reportId": report_id, "reportDocumentId": US_SETTLEMENT, "flat_file": text}


def cents(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_flat_file_parses_into_one_settlement_with_every_fee_type():
	settlement = mapping.parse_settlement(US_TEXT)
	assert (settlement.settlement_id, settlement.currency, settlement.total) == (
		"24881000001",
		"USD",
		Decimal("22.66"),
	)
	assert (settlement.start_date, settlement.end_date, settlement.deposit_date) == (
		"2026-10-01",
		"2026-10-15",
		"2026-10-17",
	)
	assert len(settlement.rows) == 36
	assert settlement.fee_type_totals() == {k: Decimal(v) for k, v in US_FEE_TYPE_TOTALS.items()}
	assert sum(settlement.fee_type_totals().values()) == settlement.total


def test_fee_and_commission_totals():
	settlement = mapping.parse_settlement(US_TEXT)
	# Item fees -36.19 (commission included) and the subscription and storage fees -43.11.
	assert settlement.fee_total == Decimal("-79.30")
	# Commission on four order lines, less what the refund gave back and the refund commission.
	assert settlement.commission_total == Decimal("-14.77")


def test_journal_entry_nets_to_the_deposit_with_a_line_per_fee_type():
	entry = mapping.settlement_journal_entry(record(), context())
	assert (entry["doctype"], entry["docstatus"], entry["voucher_type"]) == ("Journal Entry", 1, "Bank Entry")
	assert (entry["posting_date"], entry["cheque_no"], entry["cheque_date"]) == (
		"2026-10-17",
		"24881000001",
		"2026-10-17",
	)
	assert entry["multi_currency"] == 0
	lines = entry["accounts"]
	clearing = lines[-1]
	assert clearing["account"] == "Amazon Clearing USD - KTC"
	assert (cents(clearing["debit_in_account_currency"]), clearing["credit_in_account_currency"]) == (
		Decimal("22.66"),
		0.0,
	)
	booked = {
		line["user_remark"]: cents(line["credit_in_account_currency"])
		- cents(line["debit_in_account_currency"])
		for line in lines[:-1]
	}
	assert booked == {k: Decimal(v) for k, v in US_FEE_TYPE_TOTALS.items()}
	for line in lines[:-1]:
		assert line["account"] == FEE_ACCOUNTS[line["user_remark"]]
		assert (line["debit_in_account_currency"] > 0) != (line["credit_in_account_currency"] > 0)
	debits = sum(cents(line["debit_in_account_currency"]) for line in lines)
	credits = sum(cents(line["credit_in_account_currency"]) for line in lines)
	assert debits == credits == Decimal("169.23")
	assert "fees -79.30, of which referral commission -14.77" in entry["user_remark"]


def test_receivable_lines_name_the_marketplace_customer_and_others_do_not():
	lines = mapping.settlement_journal_entry(record(), context())["accounts"]
	receivable = [line for line in lines if line["account"] == RECEIVABLE]
	assert {line["user_remark"] for line in receivable} == {
		"ItemPrice:Principal",
		"ItemPrice:Tax",
		"ItemPrice:Shipping",
		"ItemPrice:ShippingTax",
		"Promotion:Principal",
		"Promotion:Shipping",
	}
	assert {(line["party_type"], line["party"]) for line in receivable} == {
		("Customer", "Amazon.com Customer")
	}
	assert all("party" not in line for line in lines if line["account"] != RECEIVABLE)


def test_a_receivable_line_for_an_unmapped_marketplace_names_it():
	ctx = context(customers={"Amazon.ca": "Amazon.ca Customer"})
	with pytest.raises(MissingMappingError) as raised:
		mapping.settlement_journal_entry(record(), ctx)
	assert raised.value.key == "Amazon.com"
	assert "Amazon settlement 24881000001: no Amazon Marketplace mapping for 'Amazon.com'" in str(
		raised.value
	)


def test_an_unmapped_fee_type_fails_the_settlement_naming_every_missing_one():
	fees = {k: v for k, v in FEE_ACCOUNTS.items() if k not in ("Storage Fee", "ItemFees:ShippingChargeback")}
	with pytest.raises(MissingMappingError) as raised, missing_mappings.collect():
		mapping.settlement_journal_entry(record(), context(fee_accounts=fees))
	assert raised.value.keys == (
		(mapping.FEE_TYPE, "ItemFees:ShippingChargeback"),
		(mapping.FEE_TYPE, "Storage Fee"),
	)
	assert str(raised.value) == (
		"Amazon settlement 24881000001: no mapping for Amazon Fee Type 'ItemFees:ShippingChargeback', "
		"Amazon Fee Type 'Storage Fee'; add them under Kraal Account Mapping"
	)


def test_a_currency_without_a_clearing_account_names_it():
	with pytest.raises(MissingMappingError, match="no Amazon Settlement Currency mapping for 'USD'"):
		mapping.settlement_journal_entry(
			record(), context(clearing_accounts={"CAD": "Amazon Clearing CAD - KTC"})
		)


def test_a_file_whose_lines_do_not_add_up_to_the_total_is_refused():
	text = US_TEXT.replace("\t22.66\tUSD\t", "\t22.67\tUSD\t")
	with pytest.raises(RecordError) as raised:
		mapping.settlement_journal_entry(record(text), context())
	assert str(raised.value) == (
		"Amazon settlement 24881000001: the lines add up to 22.66 USD, not the total-amount 22.67"
	)


CA_RECORD = {
	"reportId": "52713019002",
	"reportDocumentId": CA_SETTLEMENT,
	"flat_file": settlement_text(CA_SETTLEMENT),
}


def company_amount(line) -> Decimal:
	"""Credit less debit in the company currency, rounded to the cent as ERPNext converts a line."""
	net = cents(line["credit_in_account_currency"]) - cents(line["debit_in_account_currency"])
	return (net * Decimal(str(line["exchange_rate"]))).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def test_a_foreign_currency_settlement_deposits_its_own_currency_and_converts_the_rest():
	entry = mapping.settlement_journal_entry(CA_RECORD, context())
	assert entry["multi_currency"] == 1
	lines = {line["user_remark"]: line for line in entry["accounts"]}
	clearing = entry["accounts"][-1]
	assert (clearing["account"], cents(clearing["debit_in_account_currency"])) == (
		"Amazon Clearing CAD - KTC",
		Decimal("62.56"),
	)
	# The Amazon.ca customer's CAD invoices are settled in its own CAD receivable account, at the
	# deposit date's rate; fees go to the (USD) accounts their fee types map to, converted.
	principal = lines["ItemPrice:Principal"]
	assert (principal["account"], principal["party"], cents(principal["credit_in_account_currency"])) == (
		"Debtors CAD - KTC",
		"Amazon.ca Customer",
		Decimal("82.00"),
	)
	assert principal["exchange_rate"] == CAD_RATE
	commission = lines["ItemFees:Commission"]
	assert (commission["account"], cents(commission["debit_in_account_currency"])) == (
		"Amazon Referral Fees - KTC",
		(Decimal("12.30") * Decimal(str(CAD_RATE))).quantize(Decimal("0.01")),
	)
	assert commission["exchange_rate"] == 1
	assert sum(company_amount(line) for line in entry["accounts"]) == 0


def test_a_half_cent_conversion_gets_the_rate_that_gives_its_cent():
	# At 0.7325 the 82.00 CAD of principal is 60.065 USD, half a cent that rounding methods disagree on.
	entry = mapping.settlement_journal_entry(CA_RECORD, context(exchange_rate=lambda c, d: 0.7325))
	lines = {line["user_remark"]: line for line in entry["accounts"]}
	assert lines["ItemPrice:Tax"]["exchange_rate"] == 0.7325
	principal = lines["ItemPrice:Principal"]
	assert principal["exchange_rate"] == 0.732439024  # 60.06 / 82.00: banker's rounding, exactly
	assert company_amount(principal) == Decimal("60.06")
	assert sum(company_amount(line) for line in entry["accounts"]) == 0


def test_a_foreign_settlement_without_a_rate_or_with_an_account_in_a_third_currency_is_refused():
	with pytest.raises(RecordError) as raised:
		mapping.settlement_journal_entry(CA_RECORD, context(exchange_rate=None))
	assert str(raised.value) == (
		"Amazon settlement 24881000002: no exchange rate from CAD to USD on 2026-10-17; add a Currency Exchange"
	)
	currencies = {
		"Amazon Clearing CAD - KTC": "CAD",
		"Debtors CAD - KTC": "CAD",
		"Amazon FBA Fees - KTC": "EUR",
	}
	with pytest.raises(RecordError) as raised:
		mapping.settlement_journal_entry(CA_RECORD, context(account_currencies=currencies))
	assert str(raised.value) == (
		"Amazon settlement 24881000002: account Amazon FBA Fees - KTC is in EUR; a CAD settlement books to "
		"accounts in CAD or USD"
	)


HEADER = "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\tcurrency"
COLUMNS = "transaction-type\torder-id\tmarketplace-name\tamount-type\tamount-description\tamount\tnew-column"


def european_file() -> str:
	"""Reordered and extra columns, decimal commas, dd.mm.yyyy dates, CRLF and a byte order mark."""
	lines = [
		f"{HEADER}\t{COLUMNS}",
		"9001\t01.10.2026 00:00:00 UTC\t15.10.2026 00:00:00 UTC\t17.10.2026 08:00:00 UTC\t1.016,50\tEUR",
		"9001\t\t\t\t\t\tOrder\t302-1\tAmazon.de\tItemPrice\tPrincipal\t1.234,50\tx",
		"9001\t\t\t\t\t\tOrder\t302-1\tAmazon.de\tItemFees\tCommission\t-185,17",
		"9001\t\t\t\t\t\tOrder\t302-1\tAmazon.de\tItemFees\tFBAPerUnitFulfillmentFee\t-32,83",
		"",
	]
	return "\ufeff" + "\r\n".join(lines)


def test_european_number_and_date_formats_and_extra_columns():
	settlement = mapping.parse_settlement(european_file())
	assert (settlement.settlement_id, settlement.currency, settlement.total) == (
		"9001",
		"EUR",
		Decimal("1016.50"),
	)
	assert settlement.deposit_date == "2026-10-17"
	assert settlement.fee_type_totals() == {
		"ItemPrice:Principal": Decimal("1234.50"),
		"ItemFees:Commission": Decimal("-185.17"),
		"ItemFees:FBAPerUnitFulfillmentFee": Decimal("-32.83"),
	}
	assert settlement.commission_total == Decimal("-185.17")


def test_a_missing_column_is_named():
	text = US_TEXT.replace("amount-description", "amount-descr", 1)
	with pytest.raises(
		RecordError, match="Amazon settlement report 52713019001: column 'amount-description' is missing"
	):
		mapping.settlement_journal_entry(record(text), context())


def test_a_line_whose_amount_is_not_a_number_is_named():
	text = US_TEXT.replace("\t-7.34\t", "\t-7.3x\t")
	with pytest.raises(RecordError) as raised:
		mapping.parse_settlement(text)
	assert (
		str(raised.value) == "Amazon settlement 24881000001: line 6: field 'amount' is not a number: '-7.3x'"
	)


@pytest.mark.parametrize(
	("transaction_type", "amount_type", "description", "key"),
	[
		("Order", "ItemPrice", "Principal", "ItemPrice:Principal"),
		("Refund", "ItemFees", "RefundCommission", "Refund ItemFees:RefundCommission"),
		("other-transaction", "other-transaction", "Current Reserve Amount", "Current Reserve Amount"),
		(
			"other-transaction",
			"FBA Inventory Reimbursement",
			"REVERSAL_REIMBURSEMENT",
			"FBA Inventory Reimbursement:REVERSAL_REIMBURSEMENT",
		),
		(
			"ServiceFee",
			"Cost of Advertising",
			"TransactionTotalAmount",
			"ServiceFee Cost of Advertising:TransactionTotalAmount",
		),
	],
)
def test_fee_type_keys(transaction_type, amount_type, description, key):
	assert mapping.fee_type(transaction_type, amount_type, description) == key


def test_a_report_with_two_settlements_splits_into_two_files():
	other = mapping.split_settlements(settlement_text(CA_SETTLEMENT))[0][1]
	combined = US_TEXT + "".join(other.splitlines(keepends=True)[1:])
	parts = mapping.split_settlements(combined)
	assert [sid for sid, _ in parts] == ["24881000001", "24881000002"]
	assert [mapping.parse_settlement(text).total for _, text in parts] == [Decimal("22.66"), Decimal("62.56")]
	with pytest.raises(RecordError, match="expected one settlement-id"):
		mapping.parse_settlement(combined)


def test_a_file_without_settlement_id_is_left_whole_for_the_mapper_to_report():
	assert mapping.split_settlements("no\theader\n1\t2\n") == [(None, "no\theader\n1\t2\n")]
