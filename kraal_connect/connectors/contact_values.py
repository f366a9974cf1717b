"""A vendor's e-mail address or phone number as ERPNext's Email and Phone fields accept it.

Vendors keep what their users typed: an address with non-ASCII letters (jürgen@müller.de), a phone
"+1 555 010 2030 ext. 4". ERPNext refuses such a value in an Email or Phone field, and the refusal
would fail the customer and every order behind it. So a value is made acceptable where it can be
without changing what it means (a non-ASCII domain in its ASCII form), and otherwise left out of
the field and returned as a note: the mapper keeps it in the party's details, the Sync Log says so.
"""

import re

# What frappe.utils.validate_email_address and validate_phone_number (Frappe v15) accept.
ERPNEXT_EMAIL = re.compile(
	r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
	r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
	re.IGNORECASE,
)
ERPNEXT_PHONE = re.compile(r"([0-9\ \+\_\-\,\.\*\#\(\)]){1,20}$")


def email(value: str | None) -> tuple[str | None, str | None]:
	"""(the address for an Email field, the vendor's address when no form of it fits there)."""
	value = (value or "").strip()
	if not value or ERPNEXT_EMAIL.fullmatch(value):
		return value or None, None
	local, _, domain = value.rpartition("@")
	try:
		candidate = f"{local}@{domain.encode('idna').decode('ascii')}" if local else ""
	except UnicodeError:
		candidate = ""
	if candidate and ERPNEXT_EMAIL.fullmatch(candidate):
		return candidate, None
	return None, value


def phone(value: str | None) -> tuple[str | None, str | None]:
	"""(the number for a Phone field, the vendor's number when it does not fit there)."""
	value = (value or "").strip()
	if not value or ERPNEXT_PHONE.match(value):
		return value or None, None
	return None, value


def refusals(label: str, refused: dict[str, str | None]) -> tuple[str, list[str]]:
	"""The refused values (what -> value) as text for the party's details field, and as Sync Log notes."""
	kept = {what: value for what, value in refused.items() if value}
	text = "\n".join(
		f"{what.capitalize()} (not accepted by ERPNext): {value}" for what, value in kept.items()
	)
	notes = [
		f"{label}: {what} {value!r} is not one ERPNext accepts; kept in its details"
		for what, value in kept.items()
	]
	return text, notes
