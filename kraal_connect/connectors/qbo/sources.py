"""Links from a synced document to its record in QuickBooks Online. Pure: no frappe."""

from urllib.parse import quote

from kraal_connect.connectors.qbo.mapping import records as qbo

# Entity -> the QuickBooks page that opens one transaction (?txnId=) or one name (?nameId=).
TRANSACTION_PAGES = {
	qbo.INVOICE: "invoice",
	qbo.CREDIT_MEMO: "creditmemo",
	qbo.SALES_RECEIPT: "salesreceipt",
	qbo.BILL: "bill",
	qbo.VENDOR_CREDIT: "vendorcredit",
	qbo.PAYMENT: "recvpayment",
	qbo.BILL_PAYMENT: "billpayment",
	qbo.DEPOSIT: "deposit",
	qbo.TRANSFER: "transfer",
	qbo.JOURNAL_ENTRY: "journal",
}
NAME_PAGES = {qbo.CUSTOMER: "customerdetail", qbo.VENDOR: "vendordetail"}
HOSTS = {"sandbox": "app.sandbox.qbo.intuit.com", "production": "app.qbo.intuit.com"}


def admin_url(environment: str | None, external_type: str, external_id: str) -> str | None:
	"""https://app.qbo.intuit.com/app/invoice?txnId=<id> (app.sandbox… for a sandbox company); every
	document a record wrote (an invoice's payment, a customer's address) opens the record."""
	entity = external_type.partition(":")[0]
	host = HOSTS.get(environment or "production")
	if not external_id or not host:
		return None
	if entity in TRANSACTION_PAGES:
		return f"https://{host}/app/{TRANSACTION_PAGES[entity]}?txnId={quote(external_id)}"
	if entity in NAME_PAGES:
		return f"https://{host}/app/{NAME_PAGES[entity]}?nameId={quote(external_id)}"
	return None
