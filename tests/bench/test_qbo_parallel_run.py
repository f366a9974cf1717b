"""The parallel run: QBO's changes come over through CDC, ERPNext's go to QBO, nothing echoes; then
the cut-over. And the connection itself: OAuth, token rotation, webhooks."""

import json
import re
from contextlib import contextmanager

import frappe
import requests
from frappe.utils import today
from frappe.utils.background_jobs import get_job
from werkzeug.test import EnvironBuilder

from kraal_connect.connectors.qbo.client import QboApi
from kraal_connect.connectors.qbo.oauth import callback, webhook
from kraal_connect.connectors.qbo.reconciliation import reconcile_books
from kraal_connect.engine import pending
from kraal_connect.engine.locks import lock_name
from kraal_connect.engine.outbound import PUSH, enqueue_waiting_pushes, push_pending
from kraal_connect.engine.runner import run_integration
from tests.bench.qbo_helpers import COMPANY, REALM, linked, set_mode, source
from tests.bench.site_helpers import another_connection, counts, latest_log

pytest_plugins = ["tests.bench.qbo_helpers"]

CHANNEL = "documents"
ACME, CONSULTING = "1", "1"  # QBO ids of a customer and a service item


def sales_invoice(customer: str, item_code: str, qty: float, rate: float):
	invoice = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": COMPANY,
			"customer": customer,
			"posting_date": today(),
			"due_date": today(),
			"items": [{"item_code": item_code, "qty": qty, "rate": rate}],
		}
	)
	invoice.insert()
	invoice.submit()
	frappe.db.commit()
	return invoice


def consulting_invoice(qbo: QboApi, number: str, hours: int) -> dict:
	"""An invoice made in QuickBooks during the parallel run, with nothing paid on it."""
	return qbo.create(
		"Invoice",
		{
			"DocNumber": number,
			"CustomerRef": {"value": ACME},
			"TxnDate": today(),
			"Line": [
				{
					"DetailType": "SalesItemLineDetail",
					"Amount": 150 * hours,
					"SalesItemLineDetail": {"ItemRef": {"value": CONSULTING}, "Qty": hours, "UnitPrice": 150},
				}
			],
		},
	)


def test_cdc_updates_cancels_and_creates_exactly_what_changed_at_the_source(parallel_run, qbo_emulator):
	# Invoices nothing paid: a change to a paid one is held instead (test_qbo_failed_records.py).
	qbo = source(parallel_run, qbo_emulator)
	to_edit, to_delete = consulting_invoice(qbo, "1005", 2), consulting_invoice(qbo, "1006", 1)
	run_integration(parallel_run, "Manual")
	assert {e: c for e, c in counts(latest_log(parallel_run)).items() if c[0]} == {
		"invoice": (2, 2, 0, 0, 0, 0)
	}
	before = linked(parallel_run, "invoice", to_edit["Id"])
	deleted = linked(parallel_run, "invoice", to_delete["Id"])

	edited = qbo.update(
		"Invoice", {"Id": to_edit["Id"], "SyncToken": to_edit["SyncToken"], "PrivateNote": "Lieferschein 7"}
	)
	new = consulting_invoice(qbo, "1007", 3)
	qbo.delete("Invoice", to_delete["Id"], to_delete["SyncToken"])

	run_integration(parallel_run, "Manual")
	log = latest_log(parallel_run)
	assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
	changed = {entity: c for entity, c in counts(log).items() if c[0]}
	assert changed == {"invoice": (3, 1, 1, 1, 0, 0)}

	amended = linked(parallel_run, "invoice", to_edit["Id"])
	assert (amended.amended_from, amended.docstatus, amended.grand_total) == (before.name, 1, 300)
	assert amended.remarks == "QuickBooks Invoice 1005: Lieferschein 7"
	assert frappe.db.get_value("Sales Invoice", before.name, "docstatus") == 2
	assert (
		frappe.db.get_value("Kraal External Link", {"reference_name": amended.name}, "external_version")
		== (edited["SyncToken"])
	)
	assert frappe.db.get_value("Sales Invoice", deleted.name, "docstatus") == 2
	created = linked(parallel_run, "invoice", new["Id"])
	assert (created.docstatus, created.grand_total, created.customer) == (1, 450, "Acme Hardware")
	# Nothing the CDC wrote waits to go back to QBO.
	assert pending.waiting(PUSH, parallel_run, CHANNEL) == []
	assert reconcile_books(parallel_run, today()).differences == []

	run_integration(parallel_run, "Manual")  # the overlap reads the same changes again: nothing happens
	assert {c[1:4] for c in counts(latest_log(parallel_run)).values()} == {(0, 0, 0)}


def test_an_invoice_made_in_erpnext_reaches_qbo_once_and_does_not_come_back(
	parallel_run, qbo_emulator, by_hand
):
	invoice = sales_invoice("Acme Hardware", "Consulting", 2, 150)
	by_hand.append(("Sales Invoice", invoice.name))
	assert pending.waiting(PUSH, parallel_run, CHANNEL) == [f"Sales Invoice::{invoice.name}"]
	push_pending(parallel_run, CHANNEL)
	log = latest_log(parallel_run)
	assert (log.trigger, log.status, counts(log)) == (
		"ERPNext Change",
		"Success",
		{"Sales Invoice": (0, 1, 0, 0, 0, 0)},
	)
	pushed = [
		i
		for i in qbo_emulator.realms[REALM].records["Invoice"].values()
		if i.get("PrivateNote") == f"ERPNext {invoice.name}"
	]
	assert len(pushed) == 1
	assert (pushed[0]["CustomerRef"], pushed[0]["TotalAmt"]) == ({"value": ACME}, 300)
	assert linked(parallel_run, "invoice", pushed[0]["Id"]).name == invoice.name
	assert push_pending(parallel_run, CHANNEL) is None  # nothing waits any more

	run_integration(parallel_run, "Manual")
	assert counts(latest_log(parallel_run))["invoice"] == (1, 0, 0, 0, 1, 0)
	assert frappe.db.count("Sales Invoice", {"company": COMPANY, "posting_date": today()}) == 1
	assert reconcile_books(parallel_run, today()).differences == []

	invoice.reload()
	invoice.cancel()
	frappe.db.commit()
	push_pending(parallel_run, CHANNEL)
	assert counts(latest_log(parallel_run)) == {"Sales Invoice": (0, 0, 0, 1, 0, 0)}
	assert pushed[0]["Id"] not in qbo_emulator.realms[REALM].records["Invoice"]
	run_integration(parallel_run, "Manual")  # QBO reports the deletion it was told of
	assert counts(latest_log(parallel_run))["invoice"] == (1, 0, 0, 0, 1, 0)


@contextmanager
def another_worker_running(integration: str):
	"""A sync of the integration in another worker: its own connection holds the integration's lock."""
	with another_connection() as other:
		assert other.sql("select get_lock(%s, 0)", lock_name(integration))[0][0] == 1
		yield


def test_a_push_that_meets_a_running_sync_waits_and_the_cron_sends_it_once(
	parallel_run, qbo_emulator, by_hand
):
	invoice = sales_invoice("Acme Hardware", "Consulting", 1, 150)
	by_hand.append(("Sales Invoice", invoice.name))
	job_id = f"kraal_{PUSH}::{parallel_run}::{CHANNEL}"
	try:
		get_job(job_id).delete()  # the job the submit queued is lost (a worker restarted)
		with another_worker_running(parallel_run):
			assert push_pending(parallel_run, CHANNEL) is None
		assert pending.waiting(PUSH, parallel_run, CHANNEL) == [f"Sales Invoice::{invoice.name}"]

		enqueue_waiting_pushes()
		frappe.db.commit()
		assert get_job(job_id).kwargs["kwargs"] == {"integration": parallel_run, "channel": CHANNEL}
		push_pending(parallel_run, CHANNEL)  # what the worker runs
		push_pending(parallel_run, CHANNEL)  # and a second, duplicate job finds nothing to send
	finally:
		job = get_job(job_id)
		if job:
			job.delete()
	pushed = [
		i
		for i in qbo_emulator.realms[REALM].records["Invoice"].values()
		if i.get("PrivateNote") == f"ERPNext {invoice.name}"
	]
	assert len(pushed) == 1
	assert pending.waiting(PUSH, parallel_run, CHANNEL) == []


def test_a_new_customer_goes_to_qbo_before_the_invoice_that_names_it(parallel_run, qbo_emulator, by_hand):
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": "Numbat Nails",
			"customer_group": "Commercial",
			"territory": "All Territories",
		}
	).insert()
	by_hand.append(("Customer", customer.name))
	invoice = sales_invoice(customer.name, "Consulting", 1, 150)
	by_hand.append(("Sales Invoice", invoice.name))
	assert pending.waiting(PUSH, parallel_run, CHANNEL) == sorted(
		[f"Customer::{customer.name}", f"Sales Invoice::{invoice.name}"]
	)
	push_pending(parallel_run, CHANNEL)
	assert counts(latest_log(parallel_run)) == {
		"Customer": (0, 1, 0, 0, 0, 0),
		"Sales Invoice": (0, 1, 0, 0, 0, 0),
	}
	realm = qbo_emulator.realms[REALM]
	[numbat] = [c for c in realm.records["Customer"].values() if c["DisplayName"] == "Numbat Nails"]
	[pushed] = [
		i for i in realm.records["Invoice"].values() if i.get("PrivateNote") == f"ERPNext {invoice.name}"
	]
	assert pushed["CustomerRef"] == {"value": numbat["Id"]}
	assert linked(parallel_run, "customer", numbat["Id"]).name == customer.name

	run_integration(parallel_run, "Manual")  # both come back as already written
	changed = {entity: c for entity, c in counts(latest_log(parallel_run)).items() if c[0]}
	assert changed == {"customer": (1, 0, 0, 0, 1, 0), "invoice": (1, 0, 0, 0, 1, 0)}


def test_both_sides_changed_is_held_for_review_and_listed(parallel_run, qbo_emulator):
	set_mode(parallel_run, "Parallel-run", conflict_rule="Hold for Review")
	qbo = source(parallel_run, qbo_emulator)
	# Unpaid: what holds a paid invoice is named before a person's change (test_qbo_failed_records.py).
	record = consulting_invoice(qbo, "1005", 2)
	run_integration(parallel_run, "Manual")
	qbo.update(
		"Invoice",
		{"Id": record["Id"], "SyncToken": record["SyncToken"], "PrivateNote": "changed in QuickBooks"},
	)
	invoice = linked(parallel_run, "invoice", record["Id"])
	invoice.po_no = "changed in ERPNext"  # a person edits it on the form (allowed on submit)
	invoice.save()
	frappe.db.commit()

	run_integration(parallel_run, "Manual")
	log = latest_log(parallel_run)
	assert log.status == "Partial"
	assert [(f.entity, f.external_id, f.kind, f.message) for f in log.failures] == [
		(
			"invoice",
			record["Id"],
			"Conflict",
			f"Sales Invoice {invoice.name}: changed in ERPNext and at the source since the last sync; "
			"held for review (the source changed remarks)",
		)
	]
	assert frappe.db.get_value("Sales Invoice", invoice.name, ["docstatus", "po_no", "remarks"]) == (
		1,
		"changed in ERPNext",
		"QuickBooks Invoice 1005",
	)
	assert linked(parallel_run, "invoice", record["Id"]).name == invoice.name


def test_the_cut_over_stops_both_directions_and_keeps_the_links(parallel_run, qbo_emulator, by_hand):
	links = frappe.db.count("Kraal External Link", {"integration": parallel_run})
	set_mode(parallel_run, "Migration Complete")
	invoice = sales_invoice("Acme Hardware", "Consulting", 1, 150)
	by_hand.append(("Sales Invoice", invoice.name))
	assert pending.waiting(PUSH, parallel_run, CHANNEL) == []
	source(parallel_run, qbo_emulator).update(
		"Invoice", {"Id": "132", "SyncToken": "0", "PrivateNote": "late"}
	)
	run_integration(parallel_run, "Manual")
	assert counts(latest_log(parallel_run)) == {}
	assert frappe.db.count("Kraal External Link", {"integration": parallel_run}) == links


def call_webhook(body: bytes, signature: str | None):
	headers = {"Content-Type": "application/json"}
	if signature:
		headers["intuit-signature"] = signature
	frappe.local.request = EnvironBuilder(method="POST", data=body, headers=headers).get_request()
	frappe.local.response = frappe._dict()
	result = webhook()
	return result, frappe.local.response.get("http_status_code", 200)


def test_a_signed_webhook_brings_the_next_cdc_forward_and_a_forged_one_is_refused(parallel_run, qbo_emulator):
	body = json.dumps(
		{
			"eventNotifications": [
				{
					"realmId": REALM,
					"dataChangeEvent": {
						"entities": [{"name": "Invoice", "id": "132", "operation": "Update"}]
					},
				}
			]
		}
	).encode()
	job_id = f"kraal_sync::{parallel_run}"
	try:
		assert call_webhook(body, None) == ({"accepted": False}, 401)
		assert call_webhook(body, qbo_emulator.sign_webhook(body + b" ")) == ({"accepted": False}, 401)
		assert get_job(job_id) is None
		assert call_webhook(body, qbo_emulator.sign_webhook(body)) == ({"accepted": True}, 200)
		assert get_job(job_id).kwargs["kwargs"] == {"integration": parallel_run, "trigger": "Webhook"}
	finally:
		job = get_job(job_id)
		if job:
			job.delete()


def test_a_rotated_refresh_token_is_stored_with_the_run(qbo_integration, qbo_emulator):
	doc = frappe.get_doc("Kraal Integration", qbo_integration)
	first_refresh = doc.get_password("refresh_token")
	qbo_emulator.expire_access_tokens()
	run_integration(qbo_integration, "Manual")
	assert latest_log(qbo_integration).status == "Success"
	doc = frappe.get_doc("Kraal Integration", qbo_integration)
	assert doc.get_password("refresh_token") not in ("", first_refresh)
	assert set(doc.refresh_token) == {"*"}  # only the Password store holds it
	refused = requests.post(
		f"{qbo_emulator.url}/oauth2/v1/tokens/bearer",
		data={"grant_type": "refresh_token", "refresh_token": first_refresh},
		auth=("kraal-bench", "secret"),
		timeout=10,
	)
	assert refused.json()["error"] == "invalid_grant"  # Intuit let the old one go
	qbo_emulator.expire_access_tokens()
	run_integration(qbo_integration, "Manual")  # and the stored one works
	assert latest_log(qbo_integration).status == "Success"


def test_an_access_token_refused_after_a_refresh_needs_reauthentication(qbo_integration, qbo_emulator):
	rejected = {
		"fault": {"error": [{"message": "AuthenticationFailed", "code": "3200"}], "type": "AUTHENTICATION"}
	}
	qbo_emulator.add_fault(path=f"/v3/company/{REALM}/*", status=401, body=rejected, times=0)
	qbo_emulator.requests.clear()
	run_integration(qbo_integration, "Manual")
	status, reason = frappe.db.get_value("Kraal Integration", qbo_integration, ["status", "status_reason"])
	assert status == "Needs Re-authentication"
	assert "connect the company again" in reason
	assert latest_log(qbo_integration).status == "Failed"
	assert run_integration(qbo_integration, "Scheduler") is None
	requests_made = [r["path"] for r in qbo_emulator.requests]
	assert requests_made.count("/oauth2/v1/tokens/bearer") == 1  # refreshed once, not again


def test_a_callback_without_the_state_it_was_sent_is_refused(qbo_integration):
	frappe.local.response = frappe._dict()
	callback(code="emu-code-x", state="forged", realmId=REALM)
	assert frappe.local.response.get("http_status_code") == 400
	frappe.local.response = frappe._dict()


def test_the_suite_leaves_no_quickbooks_integration_behind():
	assert frappe.get_all("Kraal Integration", filters={"company": COMPANY}) == []


def test_a_sync_with_nothing_new_asks_quickbooks_once_an_entity(parallel_run, qbo_emulator):
	"""A parallel run that finds nothing new reads the chart of accounts, the tax rates and the stock
	items it maps with once each, and asks Change Data Capture once for every entity it syncs."""
	run_integration(parallel_run, "Manual")
	qbo_emulator.requests.clear()
	run_integration(parallel_run, "Manual")
	log = latest_log(parallel_run)
	assert log.status == "Success"
	assert sum(r.fetched + r.created + r.updated for r in log.entities) == 0
	queried = [
		re.search(r"(?i)\bfrom\s+(\w+)", r["query"]).group(1) for r in qbo_emulator.requests if "query" in r
	]
	assert sorted(queried) == ["Account", "Item", "TaxRate"]
	cdc = [r for r in qbo_emulator.requests if r["path"].endswith("/cdc")]
	assert len(cdc) == 1 and len(cdc[0]["entities"].split(",")) == len(log.entities)
	assert len(qbo_emulator.requests) == 4
