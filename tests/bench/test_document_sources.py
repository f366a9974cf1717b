"""Every synced document knows its source: the vendor, the record's id there and its page in the
vendor's admin, on the document's form (for whoever may read it) and on its External Link."""

import frappe
import pytest

from kraal_connect.engine.runner import run_integration
from kraal_connect.kraal_connect.doctype.kraal_external_link.kraal_external_link import document_sources
from tests.bench.conftest import COMPANY
from tests.bench.plaid_helpers import bank_accounts_of, connect_bank, purge_integration
from tests.bench.site_helpers import ensure_user

PLATYPUS = "item-platypus"


@pytest.fixture
def plaid_bank(plaid_emulator):
	name = connect_bank(PLATYPUS, plaid_emulator.url)
	yield name
	purge_integration(name)


@pytest.fixture
def shopify_store():
	"""A Shopify integration (never synced) whose External Link a test writes by hand."""
	name = f"Shopify Sources {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": name,
			"vendor": "Shopify",
			"company": COMPANY,
			"external_account": "kraal-bench.myshopify.com",
		}
	).insert()
	frappe.db.commit()
	yield name
	frappe.db.rollback()
	frappe.db.delete("Kraal External Link", {"integration": name})
	frappe.delete_doc("Kraal Integration", name, force=True)
	frappe.db.commit()


def test_a_bank_transaction_names_its_bank_and_plaid_transaction(plaid_bank):
	assert run_integration(plaid_bank, "Manual")
	link = frappe.get_all(
		"Kraal External Link",
		filters={"integration": plaid_bank, "reference_doctype": "Bank Transaction"},
		fields=["reference_name", "external_id", "record_type", "source_url"],
		limit=1,
	)[0]
	# Stored on the link, for its list and form: the type in words; Plaid has no admin page.
	assert (link.record_type, link.source_url) == ("Plaid Bank transaction", "")
	[source] = document_sources("Bank Transaction", link.reference_name)
	assert source["integration"] == plaid_bank
	assert source["vendor"] == "Plaid"
	assert source["external_id"] == link.external_id
	assert source["record_type"] == "Plaid Bank transaction"
	assert source["detail"] == "First Platypus Bank"
	assert not source["source_url"]

	bank_account = bank_accounts_of(plaid_bank)[0]
	[source] = document_sources("Bank Account", bank_account)
	assert source["record_type"] == "Plaid Bank account"
	label = frappe.db.get_value(
		"Kraal Account Mapping", {"integration": plaid_bank, "target_name": bank_account}, "external_name"
	)
	assert source["detail"] == f"First Platypus Bank · {label}"


def test_only_who_may_read_the_document_learns_its_source(plaid_bank):
	assert run_integration(plaid_bank, "Manual")
	name = frappe.get_all(
		"Kraal External Link",
		filters={"integration": plaid_bank, "reference_doctype": "Bank Transaction"},
		pluck="reference_name",
		limit=1,
	)[0]
	clerk = ensure_user("kraal-sources-stock@example.com", "Stock User", "Stock Clerk")
	accountant = ensure_user("kraal-sources-accounts@example.com", "Accounts User", "Accountant")
	try:
		frappe.set_user(clerk)
		with pytest.raises(frappe.PermissionError):
			document_sources("Bank Transaction", name)
		frappe.set_user(accountant)
		assert [s["vendor"] for s in document_sources("Bank Transaction", name)] == ["Plaid"]
	finally:
		frappe.set_user("Administrator")


def test_a_shopify_order_document_links_to_the_order_in_the_shopify_admin(shopify_store):
	customer = frappe.get_doc(
		{"doctype": "Customer", "customer_name": f"Shopify Buyer {frappe.generate_hash(length=6)}"}
	).insert()
	frappe.get_doc(
		{
			"doctype": "Kraal External Link",
			"integration": shopify_store,
			"external_type": "order:payment:9001",
			"external_id": "gid://shopify/Order/5001",
			"reference_doctype": "Customer",
			"reference_name": customer.name,
		}
	).insert(ignore_permissions=True)
	[source] = [s for s in document_sources("Customer", customer.name) if s["integration"] == shopify_store]
	url = "https://admin.shopify.com/store/kraal-bench/orders/5001"
	assert (source["record_type"], source["source_url"]) == ("Shopify Order · Payment", url)
	stored = frappe.db.get_value(
		"Kraal External Link", {"integration": shopify_store}, ["record_type", "source_url"], as_dict=True
	)
	assert (stored.record_type, stored.source_url) == ("Shopify Order · Payment", url)
