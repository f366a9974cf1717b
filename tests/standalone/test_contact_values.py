"""Vendor e-mail addresses and phones that ERPNext's fields refuse never fail the customer."""

from kraal_connect.connectors import contact_values
from kraal_connect.connectors.shopify.mapping import customer_targets
from tests.standalone.shopify_support import context


def test_an_address_erpnext_accepts_is_kept_as_it_is():
	assert contact_values.email(" ana@example.com ") == ("ana@example.com", None)
	assert contact_values.email(None) == (None, None)


def test_a_non_ascii_domain_is_written_in_its_ascii_form():
	assert contact_values.email("ana@müller.de") == ("ana@xn--mller-kva.de", None)


def test_a_non_ascii_mailbox_is_refused_and_returned():
	assert contact_values.email("jürgen@example.de") == (None, "jürgen@example.de")
	assert contact_values.email("not an address") == (None, "not an address")


def test_phones():
	assert contact_values.phone("+1 (555) 010-2030") == ("+1 (555) 010-2030", None)
	assert contact_values.phone("+1 555 010 2030 ext. 4") == (None, "+1 555 010 2030 ext. 4")


def test_a_shopify_customer_with_a_refused_email_keeps_it_in_its_details_and_notes_it():
	customer = {
		"id": "gid://shopify/Customer/77",
		"firstName": "Jürgen",
		"lastName": "Groß",
		"defaultEmailAddress": {"emailAddress": "jürgen@groß.de"},
		"defaultPhoneNumber": {"phoneNumber": "+49 30 1234567 ext. 9"},
		"addresses": [],
	}
	targets = customer_targets(customer, context())
	doc = targets[0].doc
	assert doc["customer_name"] == "Jürgen Groß"
	assert "jürgen@groß.de" in doc["customer_details"]
	assert "+49 30 1234567 ext. 9" in doc["customer_details"]
	assert [n.startswith("Shopify customer gid://shopify/Customer/77: ") for n in targets[0].notes] == [
		True
	] * 2
	# Nothing refused remains in a field ERPNext validates, so the contact is written without them.
	assert all(t.doc["doctype"] != "Contact" for t in targets)
