"""Scheduling, queueing, webhooks and permissions on a real site."""

import json

import frappe
import pytest
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_job, get_queue
from werkzeug.test import EnvironBuilder

from kraal_connect.engine.scheduler import enqueue_due_syncs, enqueue_sync
from tests.bench.plaid_helpers import connect_bank, purge_integration
from tests.bench.site_helpers import ensure_user


@pytest.fixture
def two_banks(plaid_emulator):
	names = [
		connect_bank("item-platypus", plaid_emulator.url),
		connect_bank("item-tattersall", plaid_emulator.url),
	]
	yield names
	for name in names:
		job = get_job(f"kraal_sync::{name}")
		if job:
			job.delete()
		purge_integration(name)


def queued(name: str) -> int:
	return get_queue("long").job_ids.count(f"{frappe.local.site}::kraal_sync::{name}")


def test_the_cron_enqueues_integrations_that_are_due_once_each(two_banks):
	due, fresh = two_banks
	frappe.db.set_value("Kraal Integration", due, {"last_sync": add_to_date(now_datetime(), minutes=-20)})
	frappe.db.set_value("Kraal Integration", fresh, {"last_sync": add_to_date(now_datetime(), minutes=-5)})
	frappe.db.commit()

	enqueued = enqueue_due_syncs()
	assert due in enqueued
	assert fresh not in enqueued
	assert queued(due) == 1
	enqueue_sync(due, "Manual")  # a second request while one waits is dropped
	assert queued(due) == 1
	job = get_job(f"kraal_sync::{due}")
	assert job.kwargs["kwargs"] == {"integration": due, "trigger": "Scheduler"}
	assert job.origin.endswith("long")


def test_hourly_integrations_wait_their_hour(two_banks):
	name = two_banks[0]
	frappe.db.set_value(
		"Kraal Integration",
		name,
		{"sync_frequency": "Hourly", "last_sync": add_to_date(now_datetime(), minutes=-30)},
	)
	frappe.db.commit()
	assert name not in enqueue_due_syncs()


def call_webhook(body: bytes, signature: str | None):
	from kraal_connect.connectors.plaid.link import webhook

	headers = {"Content-Type": "application/json"}
	if signature:
		headers["Plaid-Verification"] = signature
	frappe.local.request = EnvironBuilder(method="POST", data=body, headers=headers).get_request()
	frappe.local.response = frappe._dict()
	result = webhook()
	return result, frappe.local.response.get("http_status_code", 200)


def test_a_signed_sync_webhook_enqueues_that_item_and_a_forged_one_is_refused(two_banks, plaid_emulator):
	platypus, tattersall = two_banks
	body = json.dumps(
		{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": "item-platypus"}
	).encode()

	assert call_webhook(body, None) == ({"accepted": False}, 401)
	assert call_webhook(body, plaid_emulator.sign_webhook(body.replace(b"platypus", b"tattersall"))) == (
		{"accepted": False},
		401,
	)
	assert queued(platypus) == 0

	assert call_webhook(body, plaid_emulator.sign_webhook(body)) == ({"accepted": True}, 200)
	assert queued(platypus) == 1
	assert queued(tattersall) == 0
	assert get_job(f"kraal_sync::{platypus}").kwargs["kwargs"]["trigger"] == "Webhook"


def test_an_item_error_webhook_asks_for_reauthentication(two_banks, plaid_emulator):
	platypus = two_banks[0]
	body = json.dumps(
		{
			"webhook_type": "ITEM",
			"webhook_code": "ERROR",
			"item_id": "item-platypus",
			"error": {
				"error_code": "ITEM_LOGIN_REQUIRED",
				"display_message": "Log in to First Platypus Bank",
			},
		}
	).encode()
	assert call_webhook(body, plaid_emulator.sign_webhook(body))[1] == 200
	status, reason = frappe.db.get_value("Kraal Integration", platypus, ["status", "status_reason"])
	assert (status, reason) == ("Needs Re-authentication", "Plaid: Log in to First Platypus Bank")


def test_only_users_who_may_configure_integrations_can_act(two_banks):
	from kraal_connect.api import sync_now
	from kraal_connect.connectors.plaid.link import exchange_public_token

	email = ensure_user("kraal-clerk@example.com", "Accounts User", "Clerk")
	frappe.set_user(email)
	try:
		with pytest.raises(frappe.PermissionError):
			sync_now(two_banks[0])
		with pytest.raises(frappe.PermissionError):
			exchange_public_token(two_banks[0], "public-emulator-item-tattersall")
	finally:
		frappe.set_user("Administrator")
	assert queued(two_banks[0]) == 0


def test_webhook_records_a_failed_run_left_behind_are_picked_up_by_the_cron(two_banks):
	from kraal_connect.engine import pending
	from kraal_connect.engine.runner import WEBHOOK, enqueue_waiting_webhook_records

	platypus = two_banks[0]
	pending.add(WEBHOOK, platypus, "transaction", "txn-left-behind")
	try:
		enqueue_waiting_webhook_records()
		frappe.db.commit()  # the cron's job commits; the enqueue waits for it
		job_id = f"{frappe.local.site}::kraal_{WEBHOOK}::{platypus}::transaction"
		assert get_queue("long").job_ids.count(job_id) == 1
		assert queued(two_banks[1]) == 0
	finally:
		pending.done(WEBHOOK, platypus, "transaction", ["txn-left-behind"])
		job = get_job(f"kraal_{WEBHOOK}::{platypus}::transaction")
		if job:
			job.delete()
