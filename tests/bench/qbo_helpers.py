"""QuickBooks Online on a real site: its own company, the emulator on a private copy of the dataset,
an integration connected through the real OAuth flow, and a purge of everything a test wrote."""

import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import frappe
import pytest
import requests

from emulators.qbo import QboEmulator
from kraal_connect.connectors.qbo.client import QboApi, QboOAuth, Tokens
from kraal_connect.connectors.qbo.oauth import authorization_url, callback
from kraal_connect.engine.runner import run_integration
from tests.bench import site_helpers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "qbo"
REALM = "9130357766900001"
COMPANY = "Kraal QBO Co"
ABBR = "KQC"
CLIENT_SECRET = "qbo-secret-never-logged"
LINK = "Kraal External Link"
LEDGERS = ("GL Entry", "Payment Ledger Entry", "Stock Ledger Entry", "Repost Item Valuation")
# The company's defaults an integration may point at the accounts QuickBooks' map to.
COMPANY_DEFAULTS = ["exchange_gain_loss_account"]


@pytest.fixture(scope="module")
def qbo_company():
	site_helpers.ensure_company(COMPANY, ABBR)
	yield COMPANY
	delete_fiscal_years_of(COMPANY)
	frappe.db.commit()


@pytest.fixture
def qbo_data(tmp_path) -> Path:
	return Path(shutil.copytree(FIXTURES, tmp_path / "qbo"))


@pytest.fixture
def qbo_emulator(qbo_data):
	emulator = QboEmulator(qbo_data).start()
	yield emulator
	emulator.stop()


@pytest.fixture
def by_hand() -> list[tuple[str, str]]:
	"""(doctype, name) of documents a test makes itself, purged with the integration."""
	return []


@pytest.fixture
def qbo_integration(qbo_company, qbo_emulator, by_hand):
	"""An integration connected to the emulator's company; purged afterwards with all it wrote, and
	the company's defaults it pointed elsewhere put back."""
	defaults = frappe.db.get_value("Company", COMPANY, COMPANY_DEFAULTS, as_dict=True)
	name = connect(qbo_emulator.url)
	yield name
	purge_integration(name, also=tuple(by_hand))
	frappe.db.set_value("Company", COMPANY, defaults)
	frappe.db.commit()


@pytest.fixture
def parallel_run(qbo_integration):
	"""A migrated company, switched to the parallel run."""
	run_integration(qbo_integration, "Manual")
	assert site_helpers.latest_log(qbo_integration).status == "Success"
	set_mode(qbo_integration, "Parallel-run")
	return qbo_integration


def set_mode(integration: str, mode: str, **fields) -> None:
	doc = frappe.get_doc("Kraal Integration", integration)
	doc.update({"qbo_mode": mode, **fields})
	doc.save()
	frappe.db.commit()


def source(integration: str, emulator: QboEmulator) -> QboApi:
	"""QBO as its own users change it: the accounting API with the integration's access token."""
	doc = frappe.get_doc("Kraal Integration", integration)
	oauth = QboOAuth("someone", "else", "https://example.invalid/cb", base_url=emulator.url)
	return QboApi(oauth, REALM, Tokens(doc.get_password("access_token"), ""), timeout=10)


def connect(emulator_url: str, company: str = COMPANY, **fields) -> str:
	"""A QuickBooks integration connected as a person would: Intuit's consent page (the emulator's
	answers at once) redirects to the callback with the code, the state and the company."""
	name = f"QBO {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": name,
			"vendor": "QuickBooks Online",
			"company": company,
			"client_id": "kraal-bench",
			"client_secret": CLIENT_SECRET,
			"webhook_secret": QboEmulator.verifier_token,
			"api_base_url": emulator_url,
			**fields,
		}
	).insert()
	frappe.db.commit()
	consent = requests.get(authorization_url(name), allow_redirects=False, timeout=10)
	answer = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()}
	frappe.local.response = frappe._dict()
	callback(code=answer["code"], state=answer["state"], realmId=answer["realmId"])
	assert frappe.local.response.get("type") == "redirect", frappe.local.response
	frappe.db.commit()
	return name


def purge_integration(name: str, also: tuple[tuple[str, str], ...] = ()) -> None:
	"""Remove every document the integration wrote (and `also`), with their ledger entries, the
	last written first, then its links, mappings, logs and the integration."""
	frappe.db.rollback()
	written = frappe.get_all(
		LINK,
		filters={"integration": name},
		fields=["reference_doctype", "reference_name"],
		order_by="creation desc",
	)
	documents = list(also) + [(w.reference_doctype, w.reference_name) for w in written]
	documents += amendment_chains(documents)
	accounts = [d for d in documents if d[0] == "Account"]
	for doctype, docname in dict.fromkeys(d for d in documents if d[0] != "Account"):
		delete_document(doctype, docname)
	for doctype in (
		LINK,
		"Kraal Account Mapping",
		"Kraal Queued Record",
		"Kraal Sync Log",
		"Kraal Failed Record",
	):
		frappe.db.delete(doctype, {"integration": name})
	# ERPNext's own documents for what the integration wrote (the company is ours): reposts queued for
	# the stock ledger written out of date order, exchange journals booked for its payments.
	company = frappe.db.get_value("Kraal Integration", name, "company")
	frappe.db.delete("Repost Item Valuation", {"company": company})
	for journal in frappe.get_all(
		"Journal Entry", filters={"company": company, "voucher_type": "Exchange Gain Or Loss"}, pluck="name"
	):
		delete_document("Journal Entry", journal)
	frappe.db.delete("Comment", {"reference_doctype": "Company", "content": ("like", f"%{name}%")})
	for _, account in dict.fromkeys(accounts):
		if frappe.db.exists("Account", account):
			frappe.delete_doc("Account", account, force=True, ignore_permissions=True)
	frappe.delete_doc("Kraal Integration", name, force=True)
	frappe.db.commit()


def amendment_chains(documents: list[tuple[str, str]]) -> list[tuple[str, str]]:
	"""The documents the given ones amended (cancelled versions the links moved away from)."""
	earlier = []
	for doctype, docname in documents:
		meta = frappe.get_meta(doctype)
		while meta.has_field("amended_from") and docname:
			docname = frappe.db.get_value(doctype, docname, "amended_from")
			if docname:
				earlier.append((doctype, docname))
	return earlier


def delete_document(doctype: str, name: str) -> None:
	"""Straight from the tables: a test's documents go whatever their state, ledgers included."""
	if not frappe.db.exists(doctype, name):
		return
	for ledger in LEDGERS:
		frappe.db.delete(ledger, {"voucher_type": doctype, "voucher_no": name})
	frappe.db.delete("Payment Ledger Entry", {"against_voucher_type": doctype, "against_voucher_no": name})
	if doctype == "Item":
		for dependant in ("Bin", "Item Price", "Stock Ledger Entry"):
			frappe.db.delete(dependant, {"item_code": name})
	if doctype in ("Address", "Contact"):
		frappe.db.delete("Dynamic Link", {"parenttype": doctype, "parent": name})
	for table in frappe.get_meta(doctype).get_table_fields():
		frappe.db.delete(table.options, {"parenttype": doctype, "parent": name})
	frappe.db.delete(doctype, {"name": name})


def delete_fiscal_years_of(company: str) -> None:
	"""Fiscal years created for this company alone."""
	for year in frappe.get_all("Fiscal Year Company", filters={"company": company}, pluck="parent"):
		if frappe.get_all("Fiscal Year Company", filters={"parent": year}, pluck="company") == [company]:
			frappe.delete_doc("Fiscal Year", year, force=True, ignore_permissions=True)


def source_records(qbo_data: Path, entity: str) -> list[dict]:
	"""What QBO holds, read from the emulator's dataset."""
	body = json.loads((qbo_data / "realms" / REALM / f"{entity}.json").read_text())
	return body["QueryResponse"][entity]


def linked(integration: str, external_type: str, external_id: str):
	name = frappe.db.get_value(
		LINK,
		{"integration": integration, "external_type": external_type, "external_id": external_id},
		["reference_doctype", "reference_name", "external_version"],
		as_dict=True,
	)
	return frappe.get_doc(name.reference_doctype, name.reference_name) if name else None


def gl_balances(company: str) -> dict[str, Decimal]:
	"""Debit - credit per account from the company's live GL entries."""
	balances: dict[str, Decimal] = defaultdict(Decimal)
	for row in frappe.get_all(
		"GL Entry",
		filters={"company": company, "is_cancelled": 0},
		fields=["account", "debit", "credit"],
	):
		balances[row.account] += Decimal(str(row.debit)) - Decimal(str(row.credit))
	return {k: v for k, v in balances.items() if v}


# What the fixture company migrates: entity -> (fetched, created, updated, cancelled, skipped, failed).
MIGRATED = {
	# Inventory Asset goes to the warehouse's stock account; A/R, A/P and Exchange Gain or Loss to the
	# company's defaults.
	"account": (24, 20, 0, 0, 4, 0),
	"term": (3, 3, 0, 0, 0, 0),
	"customer": (5, 5, 0, 0, 0, 0),
	"vendor": (3, 3, 0, 0, 0, 0),
	"item": (5, 4, 0, 0, 1, 0),  # a category books nothing
	"tax_code": (1, 1, 0, 0, 0, 0),
	"bill": (7, 7, 0, 0, 0, 0),
	"vendor_credit": (1, 1, 0, 0, 0, 0),
	"invoice": (8, 8, 0, 0, 0, 0),
	"credit_memo": (1, 1, 0, 0, 0, 0),
	"sales_receipt": (1, 1, 0, 0, 0, 0),
	"payment": (6, 6, 0, 0, 0, 0),
	"bill_payment": (4, 4, 0, 0, 0, 0),
	"deposit": (2, 2, 0, 0, 0, 0),
	"transfer": (1, 1, 0, 0, 0, 0),
	"journal_entry": (3, 3, 0, 0, 0, 0),
}

# QBO entity -> the ERPNext documents its records book (a sales receipt: its invoice and its payment).
BOOKS = {
	"Sales Invoice": ("Invoice", "CreditMemo", "SalesReceipt"),
	"Purchase Invoice": ("Bill", "VendorCredit"),
	"Payment Entry": ("Payment", "BillPayment", "SalesReceipt"),
	"Journal Entry": ("Deposit", "Transfer", "JournalEntry"),
}


def exchange_journals() -> list[str]:
	return frappe.get_all(
		"Journal Entry", filters={"company": COMPANY, "voucher_type": "Exchange Gain Or Loss"}, pluck="name"
	) or [""]


def check_exact_parity(integration: str, qbo_data: Path) -> None:
	"""Each QBO record once and nothing missing (a record's documents are linked as "<entity>" and
	"<entity>:<key>"), each document submitted once and never cancelled to be booked again, and the
	books to the cent."""
	from kraal_connect.connectors.qbo.reconciliation import reconcile, reconcile_books

	links = frappe.get_all(
		LINK,
		filters={"integration": integration},
		fields=["external_type", "external_id", "reference_doctype", "reference_name"],
	)
	for entity, migrated in MIGRATED.items():
		records = {ln.external_id for ln in links if ln.external_type.partition(":")[0] == entity}
		assert len(records) == migrated[1], entity  # one a record that books
	assert all(frappe.db.exists(ln.reference_doctype, ln.reference_name) for ln in links)
	for doctype, entities in BOOKS.items():
		expected = sum(len(source_records(qbo_data, e)) for e in entities)
		# ERPNext's own exchange journal for the CAD payment aside
		written = {"company": COMPANY, "name": ("not in", exchange_journals())}
		assert frappe.db.count(doctype, written) == expected, doctype
		assert frappe.db.count(doctype, {**written, "docstatus": 1}) == expected, doctype
	assert frappe.db.count("GL Entry", {"company": COMPANY, "is_cancelled": 1}) == 0
	assert linked(integration, "invoice", "130").outstanding_amount == 0
	for as_of in ("2023-06-30", "2024-12-31"):
		assert reconcile_books(integration, as_of).differences == [], as_of
	assert reconcile(integration, "2024-12-31")["migration_status"] == "Complete"
