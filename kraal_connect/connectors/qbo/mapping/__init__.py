"""QuickBooks Online records <-> ERPNext document dicts. Pure: what the site knows comes in a context.

Amounts stay in the transaction's currency, to the cent, with QBO's ExchangeRate as the conversion
rate, so ERPNext's home-currency ledger gets QBO's figures. Documents another record wrote (an
invoice's customer, the invoice a payment settles) are named by Ref and resolved by the writer.

One module per kind of record; this package names what the streams, the site side and the tests use.
"""

from kraal_connect.connectors.qbo.mapping.accounts import QBO_ACCOUNT, account, standard_account_groups
from kraal_connect.connectors.qbo.mapping.books import (
	BalanceDifference,
	FiscalYearSpan,
	compare_trial_balance,
	fiscal_year_start_month,
	fiscal_years,
	qbo_trial_balance,
)
from kraal_connect.connectors.qbo.mapping.inventory import StockBalance, compare_stock, qbo_inventory
from kraal_connect.connectors.qbo.mapping.journals import deposit, journal_entry, transfer
from kraal_connect.connectors.qbo.mapping.ledger import DocumentDifference, compare_documents, qbo_ledger
from kraal_connect.connectors.qbo.mapping.masters import (
	customer,
	item,
	payment_terms_template,
	supplier,
	tax_code,
)
from kraal_connect.connectors.qbo.mapping.payments import bill_payment, payment_received
from kraal_connect.connectors.qbo.mapping.purchases import debit_note, purchase_invoice
from kraal_connect.connectors.qbo.mapping.records import (
	ACCOUNT,
	BILL,
	BILL_PAYMENT,
	CREDIT_MEMO,
	CUSTOMER,
	DEPOSIT,
	INVOICE,
	ITEM,
	JOURNAL_ENTRY,
	OWN_POSTINGS,
	PAYMENT,
	QBO_ENTITIES,
	SALES_RECEIPT,
	TAX_CODE,
	TERM,
	TRANSFER,
	UOM,
	VENDOR,
	VENDOR_CREDIT,
	QboContext,
)
from kraal_connect.connectors.qbo.mapping.sales import credit_note, paid_sales_invoice, sales_invoice
from kraal_connect.connectors.qbo.mapping.to_qbo import PUSHERS, QboKey, QboPush, QboPushContext, to_qbo

__all__ = [
	"ACCOUNT",
	"BILL",
	"BILL_PAYMENT",
	"CREDIT_MEMO",
	"CUSTOMER",
	"DEPOSIT",
	"INVOICE",
	"ITEM",
	"JOURNAL_ENTRY",
	"OWN_POSTINGS",
	"PAYMENT",
	"PUSHERS",
	"QBO_ACCOUNT",
	"QBO_ENTITIES",
	"SALES_RECEIPT",
	"TAX_CODE",
	"TERM",
	"TRANSFER",
	"UOM",
	"VENDOR",
	"VENDOR_CREDIT",
	"BalanceDifference",
	"DocumentDifference",
	"FiscalYearSpan",
	"QboContext",
	"QboKey",
	"QboPush",
	"QboPushContext",
	"StockBalance",
	"account",
	"bill_payment",
	"compare_documents",
	"compare_stock",
	"compare_trial_balance",
	"credit_note",
	"customer",
	"debit_note",
	"deposit",
	"fiscal_year_start_month",
	"fiscal_years",
	"item",
	"journal_entry",
	"paid_sales_invoice",
	"payment_received",
	"payment_terms_template",
	"purchase_invoice",
	"qbo_inventory",
	"qbo_ledger",
	"qbo_trial_balance",
	"sales_invoice",
	"standard_account_groups",
	"supplier",
	"tax_code",
	"to_qbo",
	"transfer",
]
