"""Each secret of an integration, planted in each form it travels in, reaches no status reason, Sync
Log, Error Log or message shown in the browser."""

import base64
import json
from urllib.parse import quote, quote_plus

import frappe
import pytest

from kraal_connect import api
from kraal_connect.engine.runner import run_integration
from tests.bench.plaid_helpers import CLIENT_SECRET, connect_bank, purge_integration

PLATYPUS = "item-platypus"


@pytest.fixture
def bank(plaid_emulator):
	name = connect_bank(PLATYPUS, plaid_emulator.url)
	yield name
	purge_integration(name)


def planted(secret: str) -> str:
	"""The secret as itself, URL-encoded, inside a Basic header, and cut short."""
	basic = base64.b64encode(f"client-id:{secret}".encode()).decode()
	return f"raw {secret} url {quote(secret, safe='')} form {quote_plus(secret)} basic {basic} head {secret[:10]}"


def pieces(secret: str) -> set[str]:
	"""Every 8-character run of the secret and of its URL and base64 encodings."""
	forms = [secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode()]
	return {f[i : i + 8] for f in forms for i in range(len(f) - 7)}


def plaid_error(code: str, message: str) -> dict:
	return {
		"error_type": "ITEM_ERROR" if code == "ITEM_LOGIN_REQUIRED" else "INVALID_REQUEST",
		"error_code": code,
		"error_message": message,
		"display_message": None,
		"request_id": "r",
	}


def assert_hidden(text: str, secrets: list[str], public: str) -> None:
	"""public: a name the user chose that may share characters with a secret (the emulator's token
	names its item, as the integration does); it is not a leak."""
	leaked = sorted(p for s in secrets for p in pieces(s) if p in text.replace(public, ""))
	if leaked:
		at = text.find(leaked[0])
		raise AssertionError(
			f"pieces of a secret leaked: {leaked[:3]} in …{text[max(0, at - 200) : at + 60]}…"
		)


def test_a_failed_run_keeps_every_form_of_every_secret_out_of_logs_and_status(bank, plaid_emulator):
	doc = frappe.get_doc("Kraal Integration", bank)
	secrets = [doc.get_password("access_token"), CLIENT_SECRET]
	message = " | ".join(planted(s) for s in secrets)
	since = frappe.utils.now_datetime()
	plaid_emulator.add_fault(
		path="/transactions/sync", status=400, times=0, body=plaid_error("INVALID_FIELD", message)
	)
	try:
		run_integration(bank, "Manual")
	finally:
		plaid_emulator.clear_faults()

	logs = frappe.get_all("Kraal Sync Log", filters={"integration": bank}, pluck="name")
	texts = [json.dumps(frappe.get_doc("Kraal Sync Log", n).as_dict(), default=str) for n in logs]
	texts.append(frappe.db.get_value("Kraal Integration", bank, "status_reason") or "")
	texts += frappe.get_all("Error Log", filters={"creation": (">=", since)}, pluck="error")
	assert "INVALID_FIELD" in texts[0]  # the run did fail on the planted message
	for text in texts:
		assert_hidden(text, secrets, bank)


def test_reauthentication_and_test_connection_show_no_secret(bank, plaid_emulator):
	doc = frappe.get_doc("Kraal Integration", bank)
	secrets = [doc.get_password("access_token"), CLIENT_SECRET]
	message = " | ".join(planted(s) for s in secrets)
	plaid_emulator.add_fault(
		path="/item/get", status=400, times=0, body=plaid_error("INVALID_FIELD", message)
	)
	try:
		with pytest.raises(frappe.ValidationError) as refused:
			api.test_connection(bank)
	finally:
		plaid_emulator.clear_faults()
	assert "INVALID_FIELD" in str(refused.value)
	assert_hidden(str(refused.value), secrets, bank)

	plaid_emulator.add_fault(
		path="/transactions/sync", status=400, times=0, body=plaid_error("ITEM_LOGIN_REQUIRED", message)
	)
	try:
		run_integration(bank, "Manual")
	finally:
		plaid_emulator.clear_faults()
	status, reason = frappe.db.get_value("Kraal Integration", bank, ["status", "status_reason"])
	assert status == "Needs Re-authentication"
	assert_hidden(reason, secrets, bank)
