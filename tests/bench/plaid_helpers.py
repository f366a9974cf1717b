import json
from decimal import Decimal
from pathlib import Path

import frappe

from kraal_connect.connectors.plaid.link import exchange_public_token
from tests.bench.conftest import COMPANY

CLIENT_SECRET = "plaid-secret-never-logged"


def connect_bank(item_id: str, emulator_url: str, company: str = COMPANY) -> str:
	"""A Plaid integration linked through the real exchange, as the Link button would do it."""
	name = f"Plaid {item_id} {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": name,
			"vendor": "Plaid",
			"company": company,
			"client_id": "kraal-bench",
			"client_secret": CLIENT_SECRET,
			"api_base_url": emulator_url,
		}
	).insert()
	exchange_public_token(name, f"public-emulator-{item_id}")
	frappe.db.commit()
	return name


def purge_integration(name: str) -> None:
	"""Remove everything an integration wrote, so tests do not see each other's documents."""
	frappe.db.rollback()
	bank_accounts = frappe.get_all(
		"Kraal Account Mapping",
		filters={"integration": name, "target_doctype": "Bank Account"},
		pluck="target_name",
	)
	created = frappe.get_all(
		"Kraal External Link",
		filters={"integration": name},
		fields=["reference_doctype", "reference_name"],
		order_by="creation desc",
	)
	delete_bank_transactions(bank_accounts)
	for doctype in ("Kraal External Link", "Kraal Account Mapping", "Kraal Sync Log", "Kraal Failed Record"):
		frappe.db.delete(doctype, {"integration": name})
	for link in created:
		if link.reference_doctype != "Bank Transaction" and frappe.db.exists(
			link.reference_doctype, link.reference_name
		):
			frappe.delete_doc(link.reference_doctype, link.reference_name, force=True)
	frappe.delete_doc("Kraal Integration", name, force=True)
	frappe.db.commit()


def delete_bank_transactions(bank_accounts: list[str]) -> None:
	"""Bank Transactions of these accounts, and the vouchers a test reconciled them with."""
	vouchers = []
	for name in frappe.get_all(
		"Bank Transaction", filters={"bank_account": ("in", bank_accounts or [""])}, pluck="name"
	):
		bank_transaction = frappe.get_doc("Bank Transaction", name)
		vouchers += [(row.payment_document, row.payment_entry) for row in bank_transaction.payment_entries]
		if bank_transaction.docstatus == 1:
			bank_transaction.cancel()
		frappe.delete_doc("Bank Transaction", name, force=True)
	for doctype, name in vouchers:
		voucher = frappe.get_doc(doctype, name)
		if voucher.docstatus == 1:
			voucher.cancel()
		frappe.delete_doc(doctype, name, force=True)
		frappe.db.delete("GL Entry", {"voucher_type": doctype, "voucher_no": name})


def source_transactions(plaid_data: Path, item_id: str) -> dict[str, Decimal]:
	"""What the bank says, read from the dataset: posted transaction id -> signed amount."""
	booked: dict[str, Decimal] = {}
	for page in sorted((plaid_data / f"items/{item_id}/transactions_sync").glob("*.json")):
		body = json.loads(page.read_text())
		for txn in body["added"] + body["modified"]:
			if not txn.get("pending"):
				booked[txn["transaction_id"]] = Decimal(str(txn["amount"]))
		for gone in body["removed"]:
			booked.pop(gone["transaction_id"], None)
	return booked


def booked_transactions(integration: str) -> dict[str, Decimal]:
	"""What ERPNext holds: submitted Bank Transactions of the integration's accounts, id -> signed amount."""
	rows = frappe.get_all(
		"Bank Transaction",
		filters={"bank_account": ("in", bank_accounts_of(integration)), "docstatus": 1},
		fields=["transaction_id", "withdrawal", "deposit"],
	)
	ids = [r.transaction_id for r in rows]
	assert len(ids) == len(set(ids)), f"a transaction is booked twice: {sorted(ids)}"
	return {r.transaction_id: Decimal(str(r.withdrawal)) - Decimal(str(r.deposit)) for r in rows}


def bank_accounts_of(integration: str) -> list[str]:
	return frappe.get_all(
		"Kraal Account Mapping",
		filters={"integration": integration, "target_doctype": "Bank Account"},
		pluck="target_name",
	) or [""]


def add_sync_page(plaid_data: Path, item_id: str, added=(), modified=(), removed=()) -> None:
	"""The bank reports more changes: a new /transactions/sync page after the last one."""
	sync_dir = plaid_data / f"items/{item_id}/transactions_sync"
	pages = sorted(sync_dir.glob("*.json"))
	number = len(pages) + 1
	(sync_dir / f"{number:04d}.json").write_text(
		json.dumps(
			{
				"added": list(added),
				"modified": list(modified),
				"removed": list(removed),
				"next_cursor": f"cursor-after-page-{number}",
				"has_more": False,
				"request_id": f"req{number}",
			}
		)
	)


def first_transactions(plaid_data: Path, item_id: str, count: int = 2) -> list[dict]:
	page = json.loads((plaid_data / f"items/{item_id}/transactions_sync/0001.json").read_text())
	return page["added"][:count]
