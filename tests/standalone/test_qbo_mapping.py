"""QBO records (the dataset's, as the API returns them) -> ERPNext document dicts, and back."""

import copy
from datetime import date
from decimal import Decimal

import pytest

from emulators.qbo import QboEmulator
from kraal_connect.connectors.qbo import mapping
from kraal_connect.connectors.qbo.client import LEDGER_COLUMNS
from kraal_connect.connectors.qbo.mapping import QboKey, QboPushContext
from kraal_connect.engine.errors import MissingMappingError, RecordError
from kraal_connect.engine.records import Ref, as_targets
from tests.standalone.qbo_support import FIXTURES, REALM, context, record

CTX = context()
CHECKING = "1010 - Checking - PPS"
AR = "1100 - Accounts Receivable (A/R) - PPS"
AP = "2000 - Accounts Payable (A/P) - PPS"
UNDEPOSITED = "1200 - Undeposited Funds - PPS"
TAX = "2200 - Board of Equalization Payable - PPS"


def total(doc: dict) -> Decimal:
	"""An invoice's grand total as ERPNext works it out: lines, less discount, plus taxes."""
	lines = sum(
		(Decimal(str(row["qty"])) * Decimal(str(row["rate"]))).quantize(Decimal("0.01"))
		for row in doc["items"]
	)
	taxes = sum(Decimal(str(t["tax_amount"])) for t in doc["taxes"])
	return lines - Decimal(str(doc.get("discount_amount", 0))) + taxes


def targets(mapped) -> dict:
	return {t.key: t.doc for t in as_targets(mapped)}


# -- accounts ------------------------------------------------------------------------------------
def test_top_level_accounts_go_under_the_standard_group_of_their_type():
	checking = mapping.account(record("Account", "35"), CTX)
	assert checking == {
		"doctype": "Account",
		"account_name": "Checking",
		"account_number": "1010",
		"company": "Platypus Plumbing Supply",
		"parent_account": "Bank Accounts - PPS",
		"root_type": "Asset",
		"report_type": "Balance Sheet",
		"account_type": "Bank",
		"account_currency": "USD",
		"is_group": 0,
	}
	eur_receivable = mapping.account(record("Account", "85"), CTX)
	assert (eur_receivable["account_type"], eur_receivable["account_currency"]) == ("Receivable", "EUR")
	assert eur_receivable["parent_account"] == "Accounts Receivable - PPS"


@pytest.mark.parametrize(
	("account_id", "account_type", "root_type", "parent"),
	[
		("4", "Cash", "Asset", "Current Assets - PPS"),
		("81", "Stock", "Asset", "Current Assets - PPS"),
		("41", "Bank", "Liability", "Current Liabilities - PPS"),
		("89", "Tax", "Liability", "Current Liabilities - PPS"),
		("2", "Equity", "Equity", "Equity - PPS"),
		("1", "Income Account", "Income", "Direct Income - PPS"),
		("80", "Cost of Goods Sold", "Expense", "Stock Expenses - PPS"),
		("17", "Expense Account", "Expense", "Indirect Expenses - PPS"),
	],
)
def test_qbo_types_become_erpnext_types(account_id, account_type, root_type, parent):
	doc = mapping.account(record("Account", account_id), CTX)
	assert (doc["account_type"], doc["root_type"], doc["parent_account"]) == (account_type, root_type, parent)


def test_a_parent_account_becomes_a_group_with_a_ledger_for_its_own_postings():
	group, own = as_targets(mapping.account(record("Account", "24"), CTX))
	assert (group.key, group.doc["is_group"], group.doc["account_name"], group.doc["account_number"]) == (
		"",
		1,
		"Utilities",
		"6200",
	)
	assert own.key == mapping.OWN_POSTINGS
	assert (own.doc["is_group"], own.doc["account_name"], own.doc["account_number"]) == (
		0,
		"Utilities (own postings)",
		"",
	)
	assert own.doc["parent_account"] == Ref("account", "24")
	child = mapping.account(record("Account", "76"), CTX)
	assert (child["parent_account"], child["account_number"], child["is_group"]) == (
		Ref("account", "24"),
		"6210",
		0,
	)


def test_a_mapped_account_is_not_created_and_its_children_go_under_the_chosen_one():
	ctx = context(mapped_accounts={"24": "Utility Expenses - PPS", "81": "Stock In Hand - PPS"})
	assert mapping.account(record("Account", "24"), ctx) is None
	assert mapping.account(record("Account", "81"), ctx) is None
	assert mapping.account(record("Account", "76"), ctx)["parent_account"] == "Utility Expenses - PPS"


def test_account_errors_name_the_record_and_what_is_missing():
	with pytest.raises(MissingMappingError) as raised:
		mapping.account(record("Account", "35"), context(account_groups={}))
	assert (raised.value.mapping_type, raised.value.key) == ("Account Group", "Bank")
	assert "QuickBooks Account 35" in str(raised.value)
	with pytest.raises(
		RecordError, match="QuickBooks Account 35: field 'Classification' is not one QBO uses"
	):
		mapping.account({**record("Account", "35"), "Classification": "Mystery", "AccountType": "Odd"}, CTX)


def test_inactive_accounts_stay_enabled_in_a_migration_and_follow_qbo_in_a_parallel_run():
	inactive = {**record("Account", "20"), "Active": False}
	assert "disabled" not in mapping.account(inactive, CTX)
	assert mapping.account(inactive, context(disable_inactive=True))["disabled"] == 1


# -- customers, suppliers, items, terms, tax codes ------------------------------------------------
def test_customer_with_billing_address_and_contact():
	docs = targets(mapping.customer(record("Customer", "1"), CTX))
	assert list(docs) == ["", "address", "shipping_address", "contact"]
	assert docs[""] == {
		"doctype": "Customer",
		"customer_name": "Acme Hardware",
		"customer_type": "Company",
		"customer_group": "All Customer Groups",
		"territory": "All Territories",
		"default_currency": "USD",
		"accounts": [
			{"company": "Platypus Plumbing Supply", "account": "1100 - Accounts Receivable (A/R) - PPS"}
		],
		"payment_terms": Ref("term", "3"),
	}
	link = [{"link_doctype": "Customer", "link_name": Ref("customer", "1")}]
	address = docs["address"]
	assert (address["address_line1"], address["address_line2"], address["city"]) == (
		"4581 Finch St.",
		"Suite 200",
		"Bayshore",
	)
	assert (address["state"], address["pincode"], address["country"], address["address_type"]) == (
		"CA",
		"94326",
		"United States",
		"Billing",
	)
	assert address["links"] == link
	shipping = docs["shipping_address"]
	assert (shipping["address_line2"], shipping["address_type"], shipping["is_primary_address"]) == (
		"",
		"Shipping",
		0,
	)
	contact = docs["contact"]
	assert (contact["first_name"], contact["last_name"]) == ("Wile", "Coyote")
	assert contact["email_ids"] == [{"email_id": "accounts@acme.example", "is_primary": 1}]
	assert contact["phone_nos"] == [{"phone": "(650) 555-3311", "is_primary_phone": 1}]
	assert contact["links"] == link


def test_foreign_customer_and_a_separate_shipping_address():
	berlin = record("Customer", "3")
	docs = targets(mapping.customer(berlin, CTX))
	assert docs[""]["default_currency"] == "EUR"
	# Its receivable is QBO's A/R in euros, so ERPNext invoices it there.
	assert docs[""]["accounts"] == [
		{"company": "Platypus Plumbing Supply", "account": "1101 - Accounts Receivable (A/R) - EUR - PPS"}
	]
	assert docs["address"]["country"] == "Germany"
	berlin["ShipAddr"] = dict(berlin["BillAddr"], Id="9")  # the same place: one address
	assert "shipping_address" not in targets(mapping.customer(berlin, CTX))
	berlin["ShipAddr"] = {"Line1": "Baustelle 7", "City": "Potsdam", "Country": "Germany"}
	shipping = targets(mapping.customer(berlin, CTX))["shipping_address"]
	assert (shipping["address_type"], shipping["is_shipping_address"], shipping["country"]) == (
		"Shipping",
		1,
		"Germany",
	)


def test_a_customer_without_address_or_contact_is_one_document():
	old = record("Customer", "4")
	assert [t.key for t in mapping.customer(old, CTX)] == [""]
	assert "disabled" not in mapping.customer(old, CTX)[0].doc
	assert mapping.customer(old, context(disable_inactive=True))[0].doc["disabled"] == 1
	with pytest.raises(RecordError, match="QuickBooks Customer 4: field 'DisplayName' is missing"):
		mapping.customer({**old, "DisplayName": ""}, CTX)


def test_supplier_individual_with_a_phone_only_contact():
	docs = targets(mapping.supplier(record("Vendor", "52"), CTX))
	assert list(docs) == ["", "contact"]
	assert (docs[""]["supplier_name"], docs[""]["supplier_type"]) == ("Landlord LLC", "Individual")
	assert docs["contact"]["phone_nos"] == [{"phone": "(650) 555-0111", "is_primary_phone": 1}]
	assert docs["contact"]["links"] == [{"link_doctype": "Supplier", "link_name": Ref("vendor", "52")}]
	assert docs[""]["accounts"] == [
		{"company": "Platypus Plumbing Supply", "account": "2000 - Accounts Payable (A/P) - PPS"}
	]
	assert "accounts" not in targets(mapping.supplier(record("Vendor", "52"), context(accounts={})))[""]
	assert targets(mapping.supplier(record("Vendor", "50"), CTX))[""]["payment_terms"] == Ref("term", "3")


def test_inventory_items_are_stock_items_with_their_accounts():
	doc = mapping.item(record("Item", "2"), CTX)
	assert (doc["item_code"], doc["is_stock_item"], doc["is_sales_item"], doc["is_purchase_item"]) == (
		"Copper Pipe",
		1,
		1,
		1,
	)
	assert (doc["standard_rate"], doc["valuation_rate"], doc["stock_uom"]) == (10.0, 4.0, "QuickBooks Unit")
	# Costed first in, first out as QBO costs it: by the site's default, else by the item's own method.
	assert "valuation_method" not in doc
	moving_average = mapping.item(record("Item", "2"), context(stock_valuation="Moving Average"))
	assert moving_average["valuation_method"] == "FIFO"
	assert doc["item_defaults"] == [
		{
			"company": "Platypus Plumbing Supply",
			"income_account": "4000 - Sales of Product Income - PPS",
			"expense_account": "5000 - Cost of Goods Sold - PPS",
			"default_warehouse": "Stores - PPS",
		}
	]


def test_services_and_categories():
	service = mapping.item(record("Item", "1"), CTX)
	assert (service["is_stock_item"], service["is_sales_item"], service["is_purchase_item"]) == (0, 1, 0)
	assert (service["stock_uom"], "valuation_method" in service) == ("QuickBooks Unit", False)
	assert service["item_defaults"] == [
		{
			"company": "Platypus Plumbing Supply",
			"income_account": "4100 - Services - PPS",
			"default_warehouse": "Stores - PPS",
		}
	]
	assert mapping.item(record("Item", "4"), CTX) is None  # a category
	with pytest.raises(MissingMappingError) as raised:
		mapping.item(record("Item", "2"), context(accounts={}))
	assert raised.value.key == "79"
	assert "QuickBooks Item 2 (IncomeAccountRef)" in str(raised.value)
	with pytest.raises(MissingMappingError, match="Warehouse"):
		mapping.item(record("Item", "2"), context(warehouse=""))


def test_payment_terms_standard_with_early_payment_discount_and_day_of_next_month():
	net15 = mapping.payment_terms_template(record("Term", "2"), CTX)
	assert net15 == {
		"doctype": "Payment Terms Template",
		"template_name": "Net 15",
		"terms": [
			{
				"invoice_portion": 100,
				"due_date_based_on": "Day(s) after invoice date",
				"credit_days": 15,
				"description": "Net 15",
				"discount_type": "Percentage",
				"discount": 2.0,
				"discount_validity_based_on": "Day(s) after invoice date",
				"discount_validity": 10,
			}
		],
	}
	fifteenth = mapping.payment_terms_template(record("Term", "4"), CTX)["terms"][0]
	assert (fifteenth["due_date_based_on"], fifteenth["credit_days"]) == (
		"Day(s) after the end of the invoice month",
		15,
	)
	assert "discount" not in fifteenth


def test_tax_code_becomes_a_sales_taxes_template():
	docs = targets(mapping.tax_code(record("TaxCode", "2"), CTX))
	assert list(docs) == ["sales"]
	assert docs["sales"] == {
		"doctype": "Sales Taxes and Charges Template",
		"title": "California",
		"company": "Platypus Plumbing Supply",
		"taxes": [
			{"charge_type": "On Net Total", "account_head": TAX, "rate": 7.25, "description": "California"}
		],
	}
	with pytest.raises(MissingMappingError) as raised:
		mapping.tax_code(record("TaxCode", "2"), context(tax_rate_accounts={}))
	assert (raised.value.mapping_type, raised.value.key) == ("Tax Rate", "1")
	with pytest.raises(RecordError, match="names TaxRate 1, which QuickBooks did not list"):
		mapping.tax_code(record("TaxCode", "2"), context(tax_rates={}))
	assert (
		mapping.tax_code({**record("TaxCode", "2"), "SalesTaxRateList": {"TaxRateDetail": []}}, CTX) is None
	)


# -- sales ---------------------------------------------------------------------------------------
def test_invoice_lines_tax_and_stock():
	doc = mapping.sales_invoice(record("Invoice", "130"), CTX)
	assert (doc["doctype"], doc["docstatus"], doc["is_return"], doc["update_stock"]) == (
		"Sales Invoice",
		1,
		0,
		1,
	)
	assert (doc["customer"], doc["posting_date"], doc["due_date"]) == (
		Ref("customer", "1"),
		"2023-02-05",
		"2023-03-07",
	)
	assert (doc["currency"], doc["conversion_rate"], doc["debit_to"]) == ("USD", 1.0, AR)
	assert doc["items"] == [
		{
			"item_code": Ref("item", "1"),
			"qty": 10.0,
			"rate": 150.0,
			"description": "Plumbing design consulting, per hour",
		},
		{
			"item_code": Ref("item", "2"),
			"qty": 20.0,
			"rate": 10.0,
			"description": "Copper pipe, 3/4 inch, per metre",
			"warehouse": "Stores - PPS",
		},
	]
	assert doc["taxes"] == [
		{"charge_type": "Actual", "account_head": TAX, "description": "California 7.25%", "tax_amount": 14.5}
	]
	assert total(doc) == Decimal("1714.50")
	assert (doc["disable_rounded_total"], doc["ignore_pricing_rule"], doc["set_posting_time"]) == (1, 1, 1)
	assert doc["remarks"] == "QuickBooks Invoice 1001"


def test_invoice_discount_is_a_negative_charge_on_the_discount_account():
	"""Booked where QBO books it without ERPNext's discount accounting, a setting of the whole site."""
	doc = mapping.sales_invoice(record("Invoice", "131"), CTX)
	assert doc["taxes"] == [
		{
			"charge_type": "Actual",
			"account_head": "4900 - Discounts given - PPS",
			"description": "Discount 10%",
			"tax_amount": -40.0,
		}
	]
	assert [row["rate"] for row in doc["items"]] == [25.0, 150.0]
	assert not {"discount_amount", "additional_discount_account", "apply_discount_on"} & set(doc)
	assert doc["update_stock"] == 0
	assert total(doc) == Decimal("360.00")
	credit = mapping.credit_note({**record("Invoice", "131"), "Id": "141"}, CTX)
	assert [tax["tax_amount"] for tax in credit["taxes"]] == [40.0]
	assert total(credit) == Decimal("-360.00")


def test_an_hourly_service_billed_at_fractional_hours_keeps_qbos_quantity():
	doc = mapping.sales_invoice(record("Invoice", "134"), CTX)
	assert [(row["item_code"], row["qty"], row["rate"]) for row in doc["items"]] == [
		(Ref("item", "1"), 3.5, 150.0)
	]
	assert total(doc) == Decimal("525.00")
	sold_by_weight = mapping.sales_invoice(record("Invoice", "137"), CTX)
	assert [(row["qty"], row["warehouse"]) for row in sold_by_weight["items"]] == [(10.5, "Stores - PPS")]


def test_foreign_currency_invoice_keeps_qbo_exchange_rate():
	doc = mapping.sales_invoice(record("Invoice", "132"), CTX)
	assert (doc["currency"], doc["conversion_rate"]) == ("EUR", 1.1)
	assert doc["debit_to"] == "1101 - Accounts Receivable (A/R) - EUR - PPS"
	assert total(doc) == Decimal("1000.00")
	assert (total(doc) * Decimal(str(doc["conversion_rate"]))).quantize(Decimal("0.01")) == Decimal("1100.00")


def test_credit_memo_is_a_return_with_negative_quantity_and_tax():
	doc = mapping.credit_note(record("CreditMemo", "140"), CTX)
	assert (doc["is_return"], doc["update_stock"], doc["due_date"]) == (1, 1, "2023-03-20")
	assert [(row["qty"], row["rate"]) for row in doc["items"]] == [(-5.0, 10.0)]
	assert doc["taxes"][0]["tax_amount"] == -3.63
	assert total(doc) == Decimal("-53.63")
	assert doc["remarks"] == "QuickBooks CreditMemo 1003: Five metres returned, damaged"


def test_sales_receipt_is_an_invoice_and_its_payment_into_undeposited_funds():
	docs = targets(mapping.paid_sales_invoice(record("SalesReceipt", "145"), CTX))
	invoice, payment = docs[""], docs["payment"]
	assert total(invoice) == Decimal("53.63")
	assert (payment["payment_type"], payment["party_type"], payment["party"]) == (
		"Receive",
		"Customer",
		Ref("customer", "2"),
	)
	assert (payment["paid_from"], payment["paid_to"]) == (AR, UNDEPOSITED)
	assert (payment["paid_amount"], payment["received_amount"]) == (53.63, 53.63)
	assert (payment["reference_no"], payment["reference_date"]) == ("CASH-7", "2023-04-02")
	assert payment["references"] == [
		{
			"reference_doctype": "Sales Invoice",
			"reference_name": Ref("sales_receipt", "145"),
			"allocated_amount": 53.63,
		}
	]


def test_bundles_are_opened_and_subtotals_ignored():
	invoice = record("Invoice", "133")
	line = invoice["Line"][0]
	invoice["Line"] = [
		{"DetailType": "GroupLineDetail", "Amount": 300, "GroupLineDetail": {"Line": [line]}},
		{"DetailType": "SubTotalLineDetail", "Amount": 300, "SubTotalLineDetail": {}},
		{"DetailType": "DescriptionOnly", "Description": "thanks"},
	]
	doc = mapping.sales_invoice(invoice, CTX)
	assert [(row["qty"], row["rate"]) for row in doc["items"]] == [(30.0, 10.0)]
	assert total(doc) == Decimal("321.75")


@pytest.mark.parametrize(
	("change", "message"),
	[
		({"TxnDate": None}, "QuickBooks Invoice 130: field 'TxnDate' is missing"),
		({"TxnDate": "05/02/2023"}, "QuickBooks Invoice 130: field 'TxnDate' is not a date: '05/02/2023'"),
		({"CustomerRef": None}, "QuickBooks Invoice 130: field 'CustomerRef' is missing"),
		({"ExchangeRate": "x"}, "QuickBooks Invoice 130: field 'ExchangeRate' is not a number: 'x'"),
		({"Line": []}, "QuickBooks Invoice 130: it has no item lines"),
	],
)
def test_malformed_invoices_name_the_record_and_field(change, message):
	with pytest.raises(RecordError) as raised:
		mapping.sales_invoice({**record("Invoice", "130"), **change}, CTX)
	assert str(raised.value) == message


def test_line_and_tax_errors_name_the_line():
	invoice = record("Invoice", "130")
	invoice["Line"][1]["Amount"] = "lots"
	with pytest.raises(RecordError, match=r"Invoice 130: field 'Line 2.Amount' is not a number: 'lots'"):
		mapping.sales_invoice(invoice, CTX)
	invoice = record("Invoice", "130")
	invoice["TxnTaxDetail"]["TotalTax"] = 15
	with pytest.raises(RecordError, match=r"TotalTax 15\.00 is not the sum of its tax lines \(14\.50\)"):
		mapping.sales_invoice(invoice, CTX)
	with pytest.raises(MissingMappingError) as raised:
		mapping.sales_invoice(record("Invoice", "130"), context(tax_rate_accounts={}))
	assert (raised.value.mapping_type, raised.value.key) == ("Tax Rate", "1")


def test_decimal_amounts_from_the_client_map_the_same():
	as_floats = mapping.sales_invoice(record("Invoice", "130"), CTX)
	decimals = copy.deepcopy(record("Invoice", "130"))
	for line in decimals["Line"]:
		line["Amount"] = Decimal(str(line["Amount"]))
	decimals["TxnTaxDetail"]["TaxLine"][0]["Amount"] = Decimal("14.50")
	assert mapping.sales_invoice(decimals, CTX) == as_floats


# -- purchases -----------------------------------------------------------------------------------
def test_bill_with_item_lines_moves_stock():
	doc = mapping.purchase_invoice(record("Bill", "101"), CTX)
	assert (doc["doctype"], doc["supplier"], doc["credit_to"], doc["bill_no"]) == (
		"Purchase Invoice",
		Ref("vendor", "50"),
		AP,
		"PS-8841",
	)
	assert (doc["posting_date"], doc["bill_date"], doc["due_date"], doc["update_stock"]) == (
		"2023-01-10",
		"2023-01-10",
		"2023-02-09",
		1,
	)
	assert [(row["item_code"], row["qty"], row["rate"], row.get("warehouse")) for row in doc["items"]] == [
		(Ref("item", "2"), 100.0, 4.0, "Stores - PPS"),
		(Ref("item", "3"), 10.0, 12.0, None),
	]
	assert total(doc) == Decimal("520.00")


def test_bill_with_expense_lines_posts_to_their_accounts():
	doc = mapping.purchase_invoice(record("Bill", "103"), CTX)
	assert doc["update_stock"] == 0
	assert doc["items"] == [
		{
			"item_name": "Electricity, February",
			"description": "Electricity, February",
			"qty": 1.0,
			"rate": 180.4,
			"uom": "QuickBooks Unit",
			"conversion_factor": 1,
			"expense_account": "6210 - Electricity - PPS",
		},
		{
			"item_name": "Meter service fee",
			"description": "Meter service fee",
			"qty": 1.0,
			"rate": 35.6,
			"uom": "QuickBooks Unit",
			"conversion_factor": 1,
			"expense_account": "6200 - Utilities - PPS",
		},
	]
	assert total(doc) == Decimal("216.00")


def test_vendor_credit_is_a_return_purchase_invoice():
	doc = mapping.debit_note(record("VendorCredit", "104"), CTX)
	assert (doc["is_return"], doc["bill_no"], doc["due_date"]) == (1, "PS-CR-17", "2023-02-20")
	assert [(row["qty"], row["rate"]) for row in doc["items"]] == [(-10.0, 4.0)]
	assert total(doc) == Decimal("-40.00")


# -- payments ------------------------------------------------------------------------------------
def test_payment_allocates_invoices_and_applies_credit_memos():
	doc = mapping.payment_received(record("Payment", "153"), CTX)
	assert (doc["payment_type"], doc["paid_from"], doc["paid_to"]) == ("Receive", AR, CHECKING)
	assert (doc["paid_amount"], doc["received_amount"], doc["reference_no"]) == (200.0, 200.0, "4610")
	assert doc["references"] == [
		{
			"reference_doctype": "Sales Invoice",
			"reference_name": Ref("invoice", "133"),
			"allocated_amount": 253.63,
		},
		{
			"reference_doctype": "Sales Invoice",
			"reference_name": Ref("credit_memo", "140"),
			"allocated_amount": -53.63,
		},
	]
	assert sum(Decimal(str(r["allocated_amount"])) for r in doc["references"]) == Decimal("200.00")


def test_foreign_payment_into_a_foreign_or_a_home_currency_account():
	payment = record("Payment", "152")
	doc = mapping.payment_received(payment, CTX)
	assert (doc["paid_from"], doc["paid_to"]) == (
		"1101 - Accounts Receivable (A/R) - EUR - PPS",
		"1015 - Checking EUR - PPS",
	)
	assert (
		doc["paid_amount"],
		doc["source_exchange_rate"],
		doc["received_amount"],
		doc["target_exchange_rate"],
	) == (
		1000.0,
		1.1,
		1000.0,
		1.1,
	)
	home = mapping.payment_received({**payment, "DepositToAccountRef": {"value": "35"}}, CTX)
	assert (
		home["paid_amount"],
		home["source_exchange_rate"],
		home["received_amount"],
		home["target_exchange_rate"],
	) == (
		1000.0,
		1.1,
		1100.0,
		1.0,
	)


def test_a_foreign_invoice_paid_at_another_rate_keeps_each_rate():
	"""Each document at QBO's rate: ERPNext then clears A/R at the invoice's 0.74 and books the
	800.00 x (0.74 - 0.72) = 16.00 lost through its exchange journal, as QBO does."""
	invoice = mapping.sales_invoice(record("Invoice", "135"), CTX)
	assert (invoice["currency"], invoice["conversion_rate"], invoice["debit_to"]) == (
		"CAD",
		0.74,
		"1102 - Accounts Receivable (A/R) - CAD - PPS",
	)
	payment = mapping.payment_received(record("Payment", "154"), CTX)
	assert (payment["paid_from"], payment["paid_amount"], payment["source_exchange_rate"]) == (
		"1102 - Accounts Receivable (A/R) - CAD - PPS",
		800.0,
		0.72,
	)
	assert (payment["paid_to"], payment["received_amount"], payment["target_exchange_rate"]) == (
		CHECKING,
		576.0,
		1.0,
	)
	assert payment["references"] == [
		{
			"reference_doctype": "Sales Invoice",
			"reference_name": Ref("invoice", "135"),
			"allocated_amount": 800.0,
		}
	]


def test_payment_without_deposit_account_goes_to_undeposited_funds_and_zero_payments_book_nothing():
	payment = {**record("Payment", "151")}
	del payment["DepositToAccountRef"]
	assert mapping.payment_received(payment, CTX)["paid_to"] == UNDEPOSITED
	assert mapping.payment_received({**payment, "TotalAmt": 0}, CTX) is None


def test_bill_payments_by_check_and_by_card():
	check = mapping.bill_payment(record("BillPayment", "108"), CTX)
	assert (check["payment_type"], check["party_type"], check["party"]) == (
		"Pay",
		"Supplier",
		Ref("vendor", "50"),
	)
	assert (check["paid_from"], check["paid_to"], check["paid_amount"], check["reference_no"]) == (
		CHECKING,
		AP,
		160.0,
		"1002",
	)
	assert check["references"] == [
		{
			"reference_doctype": "Purchase Invoice",
			"reference_name": Ref("bill", "105"),
			"allocated_amount": 200.0,
		},
		{
			"reference_doctype": "Purchase Invoice",
			"reference_name": Ref("vendor_credit", "104"),
			"allocated_amount": -40.0,
		},
	]
	card = mapping.bill_payment(record("BillPayment", "107"), CTX)
	assert (card["paid_from"], card["paid_amount"], card["reference_no"]) == (
		"2100 - Visa - PPS",
		1500.0,
		"QuickBooks BillPayment 107",
	)


# -- journals ------------------------------------------------------------------------------------
def test_deposit_of_earlier_payments_and_other_money():
	doc = mapping.deposit(record("Deposit", "161"), CTX)
	assert (doc["doctype"], doc["voucher_type"], doc["cheque_no"], doc["cheque_date"]) == (
		"Journal Entry",
		"Bank Entry",
		"QuickBooks Deposit 161",
		"2023-04-03",
	)
	rows = [
		(r["account"], r["debit_in_account_currency"], r["credit_in_account_currency"])
		for r in doc["accounts"]
	]
	assert rows == [
		(CHECKING, 153.63, 0.0),
		(UNDEPOSITED, 0.0, 53.63),
		("3000 - Owner's Equity - PPS", 0.0, 100.0),
	]
	assert doc["multi_currency"] == 0
	assert doc["user_remark"] == "QuickBooks Deposit 161: Cash sales and owner top-up"


def test_transfer_is_a_contra_entry():
	doc = mapping.transfer(record("Transfer", "170"), CTX)
	assert doc["voucher_type"] == "Contra Entry"
	rows = [
		(r["account"], r["debit_in_account_currency"], r["credit_in_account_currency"])
		for r in doc["accounts"]
	]
	assert rows == [("2100 - Visa - PPS", 1500.0, 0.0), (CHECKING, 0.0, 1500.0)]


def test_journal_entry_receivable_rows_name_the_customer():
	doc = mapping.journal_entry(record("JournalEntry", "172"), CTX)
	assert (doc["voucher_type"], doc["posting_date"]) == ("Journal Entry", "2024-06-30")
	assert doc["accounts"] == [
		{
			"account": "4900 - Discounts given - PPS",
			"debit_in_account_currency": 68.12,
			"credit_in_account_currency": 0.0,
			"exchange_rate": 1.0,
		},
		{
			"account": AR,
			"debit_in_account_currency": 0.0,
			"credit_in_account_currency": 68.12,
			"exchange_rate": 1.0,
			"party_type": "Customer",
			"party": Ref("customer", "1"),
		},
	]
	assert "cheque_no" not in doc


def test_journal_entry_errors():
	entry = record("JournalEntry", "172")
	del entry["Line"][1]["JournalEntryLineDetail"]["Entity"]
	with pytest.raises(
		RecordError, match=r"Line 2\.AccountRef is a receivable or payable but the line names no customer"
	):
		mapping.journal_entry(entry, CTX)
	entry = record("JournalEntry", "172")
	entry["Line"][0]["JournalEntryLineDetail"]["PostingType"] = "Sideways"
	with pytest.raises(RecordError, match=r"'Line 1\.PostingType' is not Debit or Credit: 'Sideways'"):
		mapping.journal_entry(entry, CTX)
	with pytest.raises(MissingMappingError) as raised:
		mapping.journal_entry(record("JournalEntry", "172"), context(accounts={"84": AR}))
	assert raised.value.key == "86"
	assert "QuickBooks JournalEntry 172 (Line 1.AccountRef)" in str(raised.value)


def test_foreign_currency_journal_entry_converts_home_accounts_and_keeps_foreign_ones():
	entry = {
		**record("JournalEntry", "171"),
		"CurrencyRef": {"value": "EUR"},
		"ExchangeRate": 1.1,
		"Line": [
			{
				"Amount": 50,
				"DetailType": "JournalEntryLineDetail",
				"JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": "36"}},
			},
			{
				"Amount": 50,
				"DetailType": "JournalEntryLineDetail",
				"JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": "30"}},
			},
		],
	}
	doc = mapping.journal_entry(entry, CTX)
	assert doc["multi_currency"] == 1
	rows = [
		(r["debit_in_account_currency"], r["credit_in_account_currency"], r["exchange_rate"])
		for r in doc["accounts"]
	]
	assert rows == [(50.0, 0.0, 1.1), (0.0, 55.0, 1.0)]


# -- fiscal years --------------------------------------------------------------------------------
def test_fiscal_years_the_history_needs():
	assert mapping.fiscal_years(date(2023, 1, 2), date(2024, 6, 30), 1) == [
		mapping.FiscalYearSpan("2023", date(2023, 1, 1), date(2023, 12, 31)),
		mapping.FiscalYearSpan("2024", date(2024, 1, 1), date(2024, 12, 31)),
	]
	assert mapping.fiscal_years(date(2023, 2, 5), date(2024, 4, 1), 4) == [
		mapping.FiscalYearSpan("2022-2023", date(2022, 4, 1), date(2023, 3, 31)),
		mapping.FiscalYearSpan("2023-2024", date(2023, 4, 1), date(2024, 3, 31)),
		mapping.FiscalYearSpan("2024-2025", date(2024, 4, 1), date(2025, 3, 31)),
	]
	assert mapping.fiscal_years(date(2024, 2, 29), date(2024, 2, 29), 3) == [
		mapping.FiscalYearSpan("2023-2024", date(2023, 3, 1), date(2024, 2, 29))
	]
	assert mapping.fiscal_year_start_month(record("CompanyInfo", "1")) == 1
	assert mapping.fiscal_year_start_month({"FiscalYearStartMonth": "July"}) == 7
	with pytest.raises(RecordError, match="'Juli'"):
		mapping.fiscal_year_start_month({"FiscalYearStartMonth": "Juli"})


# -- the books compared --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trial_balance():
	emulator = QboEmulator(FIXTURES)
	return emulator.trial_balance(emulator.realms[REALM], date(2024, 12, 31))


def erpnext_side(report):
	"""ERPNext balances that agree with QBO, under the names the context maps QBO's accounts to."""
	return {CTX.accounts[i]: balance for i, (_, balance) in mapping.qbo_trial_balance(report).items()}


def test_books_that_agree_have_no_differences(trial_balance):
	balances = mapping.qbo_trial_balance(trial_balance)
	assert balances["35"] == ("Checking", Decimal("39133.13"))
	assert balances["2"] == ("Retained Earnings", Decimal("-202.50"))
	assert sum(b for _, b in balances.values()) == 0
	assert mapping.compare_trial_balance(trial_balance, erpnext_side(trial_balance), CTX.accounts) == []


def test_a_cent_off_and_accounts_on_one_side_only_are_listed(trial_balance):
	erpnext = erpnext_side(trial_balance)
	erpnext[CHECKING] += Decimal("0.01")
	erpnext["Round Off - PPS"] = 0.01
	accounts = {k: v for k, v in CTX.accounts.items() if k != "38"}
	differences = mapping.compare_trial_balance(trial_balance, erpnext, accounts)
	summary = [
		(d.erpnext_account, d.qbo_account_ids, d.qbo_balance, d.erpnext_balance, d.difference)
		for d in differences
	]
	assert summary == [
		(None, ("38",), Decimal("12000.00"), Decimal(0), Decimal("-12000.00")),
		(CHECKING, ("35",), Decimal("39133.13"), Decimal("39133.14"), Decimal("0.01")),
		("1510 - Vehicles - PPS", (), Decimal(0), Decimal("12000.00"), Decimal("12000.00")),
		("Round Off - PPS", (), Decimal(0), Decimal("0.01"), Decimal("0.01")),
	]


def test_qbo_accounts_mapped_onto_one_erpnext_account_are_added_up(trial_balance):
	accounts = {**CTX.accounts, "35": "Bank - PPS", "36": "Bank - PPS"}
	erpnext = {
		k: v
		for k, v in erpnext_side(trial_balance).items()
		if k not in (CHECKING, "1015 - Checking EUR - PPS")
	}
	erpnext["Bank - PPS"] = Decimal("40233.13")
	assert mapping.compare_trial_balance(trial_balance, erpnext, accounts) == []
	erpnext["Bank - PPS"] = Decimal("39133.13")
	[difference] = mapping.compare_trial_balance(trial_balance, erpnext, accounts)
	assert (difference.qbo_account_ids, difference.difference) == (("35", "36"), Decimal("-1100.00"))


@pytest.fixture(scope="module")
def books():
	emulator = QboEmulator(FIXTURES)
	return emulator, emulator.realms[REALM]


def test_qbos_general_ledger_is_read_per_transaction_across_the_accounts_asked_for(books):
	emulator, realm = books
	columns = LEDGER_COLUMNS.split(",")
	report = emulator.general_ledger(realm, date(2024, 1, 1), date(2024, 12, 31), ["90", "91"], columns)
	# The payment clears A/R - CAD at the invoice's 592.00 and puts the 16.00 lost on Exchange Gain or Loss.
	assert mapping.qbo_ledger(report) == {
		("invoice", "135"): ("1008", Decimal("592.00")),
		("payment", "154"): ("", Decimal("-576.00")),
	}


def test_an_accounts_documents_that_differ_from_its_qbo_transactions(books):
	emulator, realm = books
	report = emulator.general_ledger(
		realm, date(2024, 1, 1), date(2024, 12, 31), ["90"], LEDGER_COLUMNS.split(",")
	)
	qbo = mapping.qbo_ledger(report)
	invoice, payment = ("Sales Invoice", "SINV-1"), ("Payment Entry", "PAY-1")
	exchange, by_hand = ("Journal Entry", "JV-FX"), ("Journal Entry", "JV-7")
	# ERPNext's payment clears A/R at its own rate (576.00); its exchange journal, booked for the
	# payment, clears the other 16.00.
	posted = {invoice: Decimal("592.00"), payment: Decimal("-576.00"), exchange: Decimal("-16.00")}
	sources = {invoice: ("invoice", "135"), payment: ("payment", "154"), exchange: ("payment", "154")}
	assert mapping.compare_documents(qbo, posted, sources) == []

	posted.update({invoice: Decimal("591.99"), by_hand: Decimal("10.00")})
	del posted[exchange]
	assert mapping.compare_documents(qbo, posted, sources) == [
		mapping.DocumentDifference(
			"invoice", "135", "1008", (invoice,), Decimal("592.00"), Decimal("591.99")
		),
		mapping.DocumentDifference("payment", "154", "", (payment,), Decimal("-592.00"), Decimal("-576.00")),
		mapping.DocumentDifference(None, None, "", (by_hand,), Decimal(0), Decimal("10.00")),
	]
	[missing] = mapping.compare_documents(qbo, {invoice: Decimal("592.00")}, sources)
	assert (missing.entity, missing.qbo_id, missing.documents, missing.difference) == (
		"payment",
		"154",
		(),
		Decimal("592.00"),
	)


def test_qbos_stock_per_item_against_erpnexts(books):
	emulator, realm = books
	qbo = mapping.qbo_inventory(emulator.inventory_valuation(realm, date(2024, 12, 31)))
	assert qbo == {
		"2": ("Copper Pipe", Decimal("95"), Decimal("380.00")),
		"5": ("Solder Wire", Decimal("7.75"), Decimal("69.75")),
	}
	items = {"2": "Copper Pipe", "5": "Solder Wire"}
	# ERPNext adds quantities up as floats.
	erpnext = {"Copper Pipe": (95.0, 380.0), "Solder Wire": (7.750000000001, 69.749999999)}
	assert all(item.matches for item in mapping.compare_stock(qbo, erpnext, items))

	erpnext.update({"Solder Wire": (7.75, 72.0), "Brass Valve": (1.0, 5.0)})
	differing = [
		(b.item_code, b.qbo_item_id, b.qbo_qty, b.erpnext_qty, b.qbo_value, b.erpnext_value)
		for b in mapping.compare_stock(qbo, erpnext, items)
		if not b.matches
	]
	assert differing == [
		("Solder Wire", "5", Decimal("7.75"), Decimal("7.75"), Decimal("69.75"), Decimal("72.00")),
		("Brass Valve", None, 0, Decimal(1), 0, Decimal("5.00")),
	]
	[unlinked] = mapping.compare_stock(qbo, {}, {"5": "Solder Wire"})[:1]
	assert (unlinked.item_code, unlinked.name, unlinked.matches) == (None, "Copper Pipe", False)


# -- ERPNext -> QBO ------------------------------------------------------------------------------
PUSH = QboPushContext(
	company="Platypus Plumbing Supply",
	company_currency="USD",
	links={
		("Customer", "Acme Hardware"): QboKey("Customer", "1"),
		("Supplier", "Pipe Supply Co"): QboKey("Vendor", "50"),
		("Item", "Copper Pipe"): QboKey("Item", "2"),
		("Item", "Consulting"): QboKey("Item", "1"),
		("Sales Invoice", "ACC-SINV-2024-00007"): QboKey("Invoice", "133"),
		("Sales Invoice", "ACC-SINV-2024-00002"): QboKey("CreditMemo", "140"),
		("Purchase Invoice", "ACC-PINV-2024-00001"): QboKey("Bill", "105"),
	},
	qbo_accounts={
		CHECKING: "35",
		AR: "84",
		AP: "33",
		"2100 - Visa - PPS": "41",
		"4000 - Sales of Product Income - PPS": "79",
		"4100 - Services - PPS": "1",
		"4900 - Discounts given - PPS": "86",
		"5000 - Cost of Goods Sold - PPS": "80",
		"6100 - Rent or Lease - PPS": "17",
	},
	qbo_tax_codes={"California - PPS": "2"},
	credit_card_accounts=frozenset({"41"}),
	default_income_account="4100 - Services - PPS",
	default_expense_account="5000 - Cost of Goods Sold - PPS",
	inventory_asset_account_id="81",
)


def test_customer_and_supplier_to_qbo():
	push = mapping.to_qbo(
		{
			"doctype": "Customer",
			"name": "Wallaby Works",
			"customer_name": "Wallaby Works",
			"customer_type": "Company",
			"email_id": "hi@wallaby.example",
			"mobile_no": "+61 400 000 000",
			"default_currency": "USD",
			"disabled": 0,
		},
		PUSH,
	)
	assert push == mapping.QboPush(
		"Customer",
		{
			"DisplayName": "Wallaby Works",
			"Active": True,
			"CompanyName": "Wallaby Works",
			"PrimaryEmailAddr": {"Address": "hi@wallaby.example"},
			"Mobile": {"FreeFormNumber": "+61 400 000 000"},
			"CurrencyRef": {"value": "USD"},
		},
	)
	vendor = mapping.to_qbo(
		{"doctype": "Supplier", "name": "X", "supplier_name": "Joe Bloggs", "disabled": 1}, PUSH
	)
	assert vendor == mapping.QboPush("Vendor", {"DisplayName": "Joe Bloggs", "Active": False})


def test_items_to_qbo():
	stock = mapping.to_qbo(
		{
			"doctype": "Item",
			"name": "Brass:Valve",
			"item_code": "Brass:Valve",
			"item_name": "Brass valve",
			"is_stock_item": 1,
			"is_sales_item": 1,
			"is_purchase_item": 1,
			"standard_rate": 19.999,
			"valuation_rate": 8.5,
			"creation": "2026-03-01 10:00:00",
			"item_defaults": [
				{
					"company": "Platypus Plumbing Supply",
					"income_account": "4000 - Sales of Product Income - PPS",
				}
			],
		},
		PUSH,
	)
	assert stock.entity == "Item"
	assert stock.body == {
		"Name": "Brass-Valve",
		"Description": "Brass valve",
		"Active": True,
		"UnitPrice": 20.0,
		"IncomeAccountRef": {"value": "79"},
		"ExpenseAccountRef": {"value": "80"},
		"PurchaseCost": 8.5,
		"Type": "Inventory",
		"TrackQtyOnHand": True,
		"QtyOnHand": 0,
		"InvStartDate": "2026-03-01",
		"AssetAccountRef": {"value": "81"},
	}
	service = mapping.to_qbo(
		{
			"doctype": "Item",
			"name": "Call-out",
			"item_code": "Call-out",
			"is_sales_item": 1,
			"standard_rate": 90,
		},
		PUSH,
	)
	assert (service.body["Type"], service.body["IncomeAccountRef"]) == ("Service", {"value": "1"})
	with pytest.raises(MissingMappingError) as raised:
		mapping.to_qbo(
			{"doctype": "Item", "name": "X", "item_code": "X", "is_sales_item": 1}, QboPushContext("C", "USD")
		)
	assert (raised.value.mapping_type, raised.value.key) == ("QuickBooks Account", "")


def sales_invoice_doc(**overrides):
	doc = {
		"doctype": "Sales Invoice",
		"name": "ACC-SINV-2026-00042",
		"customer": "Acme Hardware",
		"posting_date": "2026-07-01",
		"due_date": "2026-07-31",
		"currency": "USD",
		"conversion_rate": 1,
		"debit_to": AR,
		"items": [
			{"item_code": "Copper Pipe", "qty": 12, "rate": 10, "amount": 120, "description": "Copper pipe"},
			{"item_code": "Consulting", "qty": 1.5, "rate": 150, "amount": 225, "description": "Site visit"},
		],
		"taxes": [{"account_head": TAX, "tax_amount": 8.70}],
		"taxes_and_charges": "California - PPS",
		"total_taxes_and_charges": 8.70,
		"discount_amount": 0,
		"is_return": 0,
	}
	doc.update(overrides)
	return doc


def test_sales_invoice_to_qbo_invoice():
	push = mapping.to_qbo(sales_invoice_doc(), PUSH)
	assert push.entity == "Invoice"
	body = push.body
	assert (body["CustomerRef"], body["TxnDate"], body["DueDate"], body["DocNumber"]) == (
		{"value": "1"},
		"2026-07-01",
		"2026-07-31",
		"ACC-SINV-2026-00042",
	)
	assert body["Line"][1] == {
		"DetailType": "SalesItemLineDetail",
		"Amount": 225.0,
		"Description": "Site visit",
		"SalesItemLineDetail": {
			"ItemRef": {"value": "1"},
			"Qty": 1.5,
			"UnitPrice": 150.0,
			"TaxCodeRef": {"value": "TAX"},
		},
	}
	assert body["TxnTaxDetail"] == {"TotalTax": 8.7, "TxnTaxCodeRef": {"value": "2"}}
	assert body["ARAccountRef"] == {"value": "84"}


def test_return_sales_invoice_to_qbo_credit_memo_with_positive_amounts_and_discount():
	doc = sales_invoice_doc(
		is_return=1,
		items=[{"item_code": "Copper Pipe", "qty": -3, "rate": 10, "amount": -30}],
		taxes=[],
		discount_amount=-3,
		additional_discount_account="4900 - Discounts given - PPS",
	)
	push = mapping.to_qbo(doc, PUSH)
	assert push.entity == "CreditMemo"
	assert "DueDate" not in push.body and "TxnTaxDetail" not in push.body
	assert [(line["DetailType"], line["Amount"]) for line in push.body["Line"]] == [
		("SalesItemLineDetail", 30.0),
		("DiscountLineDetail", 3.0),
	]
	assert push.body["Line"][0]["SalesItemLineDetail"]["Qty"] == 3.0
	assert push.body["Line"][1]["DiscountLineDetail"] == {
		"PercentBased": False,
		"DiscountAccountRef": {"value": "86"},
	}
	with pytest.raises(
		RecordError, match="Sales Invoice ACC-SINV-2026-00042: Item Gasket Kit is not in QuickBooks yet"
	):
		mapping.to_qbo(
			sales_invoice_doc(items=[{"item_code": "Gasket Kit", "qty": 1, "rate": 1, "amount": 1}]), PUSH
		)


def test_purchase_invoice_to_qbo_bill_with_item_and_expense_rows():
	doc = {
		"doctype": "Purchase Invoice",
		"name": "ACC-PINV-2026-00003",
		"supplier": "Pipe Supply Co",
		"bill_no": "PS-9999",
		"posting_date": "2026-07-02",
		"due_date": "2026-08-01",
		"currency": "USD",
		"conversion_rate": 1,
		"credit_to": AP,
		"items": [
			{"item_code": "Copper Pipe", "qty": 40, "rate": 4, "amount": 160},
			{
				"item_name": "July rent",
				"qty": 1,
				"rate": 1500,
				"amount": 1500,
				"expense_account": "6100 - Rent or Lease - PPS",
			},
		],
		"is_return": 0,
	}
	push = mapping.to_qbo(doc, PUSH)
	assert (push.entity, push.body["DocNumber"], push.body["VendorRef"], push.body["APAccountRef"]) == (
		"Bill",
		"PS-9999",
		{"value": "50"},
		{"value": "33"},
	)
	assert push.body["Line"] == [
		{
			"Amount": 160.0,
			"Description": "",
			"DetailType": "ItemBasedExpenseLineDetail",
			"ItemBasedExpenseLineDetail": {"ItemRef": {"value": "2"}, "Qty": 40.0, "UnitPrice": 4.0},
		},
		{
			"Amount": 1500.0,
			"Description": "July rent",
			"DetailType": "AccountBasedExpenseLineDetail",
			"AccountBasedExpenseLineDetail": {"AccountRef": {"value": "17"}},
		},
	]
	assert mapping.to_qbo({**doc, "is_return": 1}, PUSH).entity == "VendorCredit"


def test_payment_entries_to_qbo():
	receipt = mapping.to_qbo(
		{
			"doctype": "Payment Entry",
			"name": "ACC-PAY-2026-00010",
			"payment_type": "Receive",
			"party_type": "Customer",
			"party": "Acme Hardware",
			"posting_date": "2026-07-05",
			"paid_from": AR,
			"paid_to": CHECKING,
			"paid_amount": 200,
			"source_exchange_rate": 1,
			"reference_no": "CHQ-77",
			"references": [
				{
					"reference_doctype": "Sales Invoice",
					"reference_name": "ACC-SINV-2024-00007",
					"allocated_amount": 253.63,
				},
				{
					"reference_doctype": "Sales Invoice",
					"reference_name": "ACC-SINV-2024-00002",
					"allocated_amount": -53.63,
				},
			],
		},
		PUSH,
	)
	assert receipt.entity == "Payment"
	assert (receipt.body["TotalAmt"], receipt.body["DepositToAccountRef"], receipt.body["PaymentRefNum"]) == (
		200.0,
		{"value": "35"},
		"CHQ-77",
	)
	assert receipt.body["Line"] == [
		{"Amount": 253.63, "LinkedTxn": [{"TxnId": "133", "TxnType": "Invoice"}]},
		{"Amount": 53.63, "LinkedTxn": [{"TxnId": "140", "TxnType": "CreditMemo"}]},
	]
	card = mapping.to_qbo(
		{
			"doctype": "Payment Entry",
			"name": "ACC-PAY-2026-00011",
			"payment_type": "Pay",
			"party_type": "Supplier",
			"party": "Pipe Supply Co",
			"posting_date": "2026-07-06",
			"paid_from": "2100 - Visa - PPS",
			"paid_to": AP,
			"received_amount": 200,
			"references": [
				{
					"reference_doctype": "Purchase Invoice",
					"reference_name": "ACC-PINV-2024-00001",
					"allocated_amount": 200,
				}
			],
		},
		PUSH,
	)
	assert (card.entity, card.body["PayType"], card.body["CreditCardPayment"]) == (
		"BillPayment",
		"CreditCard",
		{"CCAccountRef": {"value": "41"}},
	)
	assert card.body["Line"] == [{"Amount": 200.0, "LinkedTxn": [{"TxnId": "105", "TxnType": "Bill"}]}]
	transfer = mapping.to_qbo(
		{
			"doctype": "Payment Entry",
			"name": "ACC-PAY-2026-00012",
			"payment_type": "Internal Transfer",
			"posting_date": "2026-07-07",
			"paid_from": CHECKING,
			"paid_to": "2100 - Visa - PPS",
			"paid_amount": 900,
		},
		PUSH,
	)
	assert (
		transfer.entity,
		transfer.body["FromAccountRef"],
		transfer.body["ToAccountRef"],
		transfer.body["Amount"],
	) == (
		"Transfer",
		{"value": "35"},
		{"value": "41"},
		900.0,
	)
	with pytest.raises(RecordError, match="only receipts from customers"):
		mapping.to_qbo(
			{
				"doctype": "Payment Entry",
				"name": "P",
				"payment_type": "Pay",
				"party_type": "Employee",
				"posting_date": "2026-07-07",
			},
			PUSH,
		)


def test_journal_entry_to_qbo():
	doc = {
		"doctype": "Journal Entry",
		"name": "ACC-JV-2026-00004",
		"posting_date": "2026-07-08",
		"user_remark": "Write-off",
		"accounts": [
			{"account": "4900 - Discounts given - PPS", "debit": 12.5, "credit": 0},
			{"account": AR, "debit": 0, "credit": 12.5, "party_type": "Customer", "party": "Acme Hardware"},
		],
	}
	push = mapping.to_qbo(doc, PUSH)
	assert push.entity == "JournalEntry"
	assert [(line["Amount"], line["JournalEntryLineDetail"]) for line in push.body["Line"]] == [
		(12.5, {"PostingType": "Debit", "AccountRef": {"value": "86"}}),
		(
			12.5,
			{
				"PostingType": "Credit",
				"AccountRef": {"value": "84"},
				"Entity": {"Type": "Customer", "EntityRef": {"value": "1"}},
			},
		),
	]
	with pytest.raises(RecordError, match="multi-currency journal entries are not sent"):
		mapping.to_qbo({**doc, "multi_currency": 1}, PUSH)
	with pytest.raises(RecordError, match="Stock Entry documents are not sent"):
		mapping.to_qbo({"doctype": "Stock Entry", "name": "S"}, PUSH)
