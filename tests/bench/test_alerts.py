"""Status and alerts on a real site, against the Plaid emulator: a run that leaves failed records open
needs attention and does not move Last Successful Sync; Needs Re-authentication, Error and new failed
records are told to the owner and the company's Accounts Managers once per incident (Notification Log
rows counted over repeated runs); the daily check finds refused credentials and stale syncs."""

import json

import frappe
import pytest
from frappe.utils import add_to_date, now_datetime

from kraal_connect.api import test_connection as api_test_connection
from kraal_connect.connectors.plaid.link import exchange_public_token
from kraal_connect.engine.alerts import check_health
from kraal_connect.engine.runner import run_integration
from tests.bench.plaid_helpers import add_sync_page, connect_bank, first_transactions, purge_integration
from tests.bench.site_helpers import ensure_company, ensure_user, latest_log

PLATYPUS = "item-platypus"
MANAGER = "kraal-alerts-manager@example.com"
# An Accounts Manager whose user permissions keep them to another company: never told.
ELSEWHERE = "kraal-alerts-elsewhere@example.com"
OTHER_COMPANY, OTHER_ABBR = "Kraal Amazon Co", "KAC"


@pytest.fixture(scope="module")
def managers():
	ensure_user(MANAGER, "Accounts Manager", "Alerted")
	ensure_user(ELSEWHERE, "Accounts Manager", "Elsewhere")
	ensure_company(OTHER_COMPANY, OTHER_ABBR)
	restriction = {"user": ELSEWHERE, "allow": "Company", "for_value": OTHER_COMPANY}
	if not frappe.db.exists("User Permission", restriction):
		frappe.get_doc({"doctype": "User Permission", **restriction}).insert()
		frappe.db.commit()


@pytest.fixture
def bank(plaid_emulator, managers):
	name = connect_bank(PLATYPUS, plaid_emulator.url)
	yield name
	frappe.db.rollback()
	frappe.db.delete("Notification Log", {"document_type": "Kraal Integration", "document_name": name})
	for email in frappe.get_all(
		"Email Queue",
		filters={"reference_doctype": "Kraal Integration", "reference_name": name},
		pluck="name",
	):
		frappe.delete_doc("Email Queue", email, force=True)
	purge_integration(name)


def told(integration: str) -> dict[str, list[str]]:
	"""user -> the subjects of the Notification Logs about this integration, oldest first."""
	rows = frappe.get_all(
		"Notification Log",
		filters={"document_type": "Kraal Integration", "document_name": integration},
		fields=["for_user", "subject"],
		order_by="creation asc",
	)
	subjects: dict[str, list[str]] = {}
	for row in rows:
		subjects.setdefault(row.for_user, []).append(row.subject)
	return subjects


def told_to(integration: str, user: str) -> list[str]:
	return told(integration).get(user, [])


def integration(name: str):
	return frappe.get_doc("Kraal Integration", name)


def bad_transaction(plaid_data, transaction_id: str) -> dict:
	(txn,) = (dict(t) for t in first_transactions(plaid_data, PLATYPUS, 1))
	txn.update(transaction_id=transaction_id, amount="12,50")
	return txn


def log_in_again(plaid_data) -> None:
	(plaid_data / f"items/{PLATYPUS}/error.json").write_text(
		json.dumps(
			{"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED", "error_message": "log in again"}
		)
	)


def test_a_new_integration_is_not_connected_until_its_first_connection(plaid_emulator, managers):
	name = f"Plaid new {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": name,
			"vendor": "Plaid",
			"company": "Kraal Bench Co",
			"client_id": "kraal-bench",
			"client_secret": "plaid-secret-never-logged",
			"api_base_url": plaid_emulator.url,
		}
	).insert()
	frappe.db.commit()
	try:
		assert integration(name).status == "Not Connected"
		from kraal_connect.engine.scheduler import enqueue_due_syncs

		assert name not in enqueue_due_syncs()  # the cron waits for a person's first connection
		exchange_public_token(name, f"public-emulator-{PLATYPUS}")
		assert integration(name).status == "Active"
	finally:
		purge_integration(name)


def test_failed_records_need_attention_keep_last_success_and_are_told_once_per_new_record(bank, plaid_data):
	run_integration(bank, "Manual")
	clean = integration(bank)
	assert (clean.status, clean.status_reason) == ("Active", "")
	assert clean.last_success
	assert told(bank) == {}  # a clean run tells nobody

	add_sync_page(plaid_data, PLATYPUS, added=[bad_transaction(plaid_data, "alert-bad-1")])
	run_integration(bank, "Manual")
	doc = integration(bank)
	assert latest_log(bank).status == "Partial"
	assert doc.status == "Needs Attention"
	assert doc.status_reason == "1 failed record(s) wait to be booked: see Failed Records and Conflicts"
	assert doc.last_success == clean.last_success  # only a clean run moves it
	assert told_to(bank, "Administrator") == [f"{bank}: 1 new failed record(s) or conflict(s)"]
	assert told_to(bank, MANAGER) == told_to(bank, "Administrator")
	assert told_to(bank, ELSEWHERE) == []

	# The next runs try it again and it fails again: the same incident, told nobody again.
	run_integration(bank, "Manual")
	run_integration(bank, "Scheduler")
	assert integration(bank).status == "Needs Attention"
	assert integration(bank).last_success == clean.last_success
	assert len(told_to(bank, "Administrator")) == 1
	assert len(told_to(bank, MANAGER)) == 1

	# Another record fails: the open set grew, which is told.
	add_sync_page(plaid_data, PLATYPUS, added=[bad_transaction(plaid_data, "alert-bad-2")])
	run_integration(bank, "Manual")
	assert integration(bank).status_reason.startswith("2 failed record(s)")
	assert told_to(bank, MANAGER) == [
		f"{bank}: 1 new failed record(s) or conflict(s)",
		f"{bank}: 1 new failed record(s) or conflict(s)",
	]

	# Both dismissed: the next clean run is Active again and moves Last Successful Sync.
	frappe.db.set_value("Kraal Failed Record", {"integration": bank, "status": "Open"}, "status", "Dismissed")
	frappe.db.commit()
	run_integration(bank, "Manual")
	doc = integration(bank)
	assert (doc.status, doc.status_reason) == ("Active", "")
	assert doc.last_success > clean.last_success
	assert len(told_to(bank, MANAGER)) == 2


def test_needs_reauthentication_is_told_once_per_incident(bank, plaid_data):
	run_integration(bank, "Manual")
	last_success = integration(bank).last_success
	log_in_again(plaid_data)

	run_integration(bank, "Scheduler")
	doc = integration(bank)
	assert doc.status == "Needs Re-authentication"
	assert doc.last_success == last_success
	assert told_to(bank, MANAGER) == [f"{bank} needs re-authentication"]
	assert told_to(bank, "Administrator") == [f"{bank} needs re-authentication"]

	# Test Connection meets the same refusal, and the cron's run is not even tried: still one.
	with pytest.raises(frappe.ValidationError):
		api_test_connection(bank)
	assert run_integration(bank, "Scheduler") is None
	assert len(told_to(bank, MANAGER)) == 1

	# Re-authenticated (Link in update mode), it books again; a later refusal is a new incident.
	(plaid_data / f"items/{PLATYPUS}/error.json").unlink()
	exchange_public_token(bank, f"public-emulator-{PLATYPUS}")
	run_integration(bank, "Manual")
	assert integration(bank).status == "Active"
	log_in_again(plaid_data)
	run_integration(bank, "Scheduler")
	assert told_to(bank, MANAGER) == [f"{bank} needs re-authentication"] * 2


def emails_about(integration: str) -> list[set[str]]:
	"""The recipients of each e-mail queued about this integration."""
	return [
		set(frappe.get_all("Email Queue Recipient", filters={"parent": name}, pluck="recipient"))
		for name in frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": "Kraal Integration", "reference_name": integration},
			pluck="name",
		)
	]


def test_an_error_is_told_once_however_many_runs_meet_it(bank, plaid_emulator, monkeypatch):
	# The site sends mail (an outgoing server in its config): the incident is e-mailed too, once.
	monkeypatch.setitem(frappe.local.conf, "mail_server", "127.0.0.1")
	run_integration(bank, "Manual")
	last_success = integration(bank).last_success
	plaid_emulator.add_fault(
		path="/transactions/sync",
		status=400,
		times=0,
		body={"error_type": "INVALID_REQUEST", "error_code": "INVALID_FIELD", "error_message": "bad cursor"},
	)
	try:
		for _ in range(3):
			run_integration(bank, "Scheduler")
			doc = integration(bank)
			assert doc.status == "Error"
			assert doc.last_success == last_success
		assert told_to(bank, MANAGER) == [f"{bank} stopped with an error"]
		assert told_to(bank, ELSEWHERE) == []
		# One e-mail, to the company's managers with e-mail notifications on (as Frappe's settings say).
		[recipients] = emails_about(bank)
		assert MANAGER in recipients
		assert ELSEWHERE not in recipients
	finally:
		plaid_emulator.clear_faults()
	run_integration(bank, "Manual")
	assert integration(bank).status == "Active"
	assert integration(bank).last_success > last_success
	assert len(told_to(bank, MANAGER)) == 1


def test_the_daily_check_finds_refused_credentials_and_stale_syncs_and_tells_each_once(bank, plaid_data):
	run_integration(bank, "Manual")
	check_health(bank)
	assert integration(bank).status == "Active"  # credentials work, synced just now
	assert told(bank) == {}

	three_days_ago = add_to_date(now_datetime(), days=-3)
	frappe.db.set_value("Kraal Integration", bank, "last_success", three_days_ago)
	frappe.db.commit()
	check_health(bank)
	frappe.db.commit()
	doc = integration(bank)
	assert doc.status == "Needs Attention"
	assert doc.status_reason.startswith("No clean sync since")
	[stale] = told_to(bank, MANAGER)
	assert stale.startswith(f"{bank} has not synced cleanly since")
	check_health(bank)
	frappe.db.commit()
	assert len(told_to(bank, MANAGER)) == 1

	log_in_again(plaid_data)
	check_health(bank)
	frappe.db.commit()
	assert integration(bank).status == "Needs Re-authentication"
	assert told_to(bank, MANAGER)[-1] == f"{bank} needs re-authentication"
	assert len(told_to(bank, MANAGER)) == 2


def test_a_vendor_that_does_not_answer_the_daily_check_changes_nothing(bank, plaid_emulator):
	run_integration(bank, "Manual")
	plaid_emulator.stop()  # connection refused: the runs, not the check, report a vendor that is down
	check_health(bank)
	doc = integration(bank)
	assert (doc.status, doc.status_reason) == ("Active", "")
	assert told(bank) == {}


def test_the_patch_makes_integrations_that_never_connected_not_connected(bank):
	from kraal_connect.patches import not_connected_status

	never = f"Plaid never {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": never,
			"vendor": "Plaid",
			"company": "Kraal Bench Co",
		}
	).insert()
	# As the default made them before Not Connected existed.
	frappe.db.set_value("Kraal Integration", never, "status", "Active")
	frappe.db.set_value("Kraal Integration", bank, "status", "Active")  # linked: it keeps its status
	try:
		not_connected_status.execute()
		assert integration(never).status == "Not Connected"
		assert integration(bank).status == "Active"
	finally:
		frappe.db.rollback()  # nothing above commits: the new integration and the statuses go with it
