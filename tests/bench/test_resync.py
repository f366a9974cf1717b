"""Resync from the Start on a real site, against the Plaid emulator: the cursors are cleared, a sync is
queued, and reading everything again books nothing twice; it waits for a run that is going on."""

import frappe
import pytest
from frappe.utils.background_jobs import get_job

from kraal_connect import api
from kraal_connect.engine.locks import lock_name
from kraal_connect.engine.runner import run_integration
from tests.bench.plaid_helpers import booked_transactions, connect_bank, purge_integration
from tests.bench.site_helpers import another_connection, counts, latest_log

PLATYPUS = "item-platypus"


@pytest.fixture
def bank(plaid_emulator):
	name = connect_bank(PLATYPUS, plaid_emulator.url)
	run_integration(name, "Manual")
	yield name
	job = get_job(f"kraal_sync::{name}")
	if job:
		job.delete()
	purge_integration(name)


def cursor(integration: str) -> str | None:
	return frappe.get_doc("Kraal Integration", integration).entity_row("transaction").cursor


def test_resync_reads_everything_again_and_books_nothing_twice(bank):
	booked = booked_transactions(bank)
	assert len(booked) == 12
	assert cursor(bank)

	assert api.resync_from_start(bank) == f"Cursors of {bank} cleared; a sync from the start is queued"
	assert not cursor(bank)
	job = get_job(f"kraal_sync::{bank}")
	assert job.kwargs["kwargs"] == {"integration": bank, "trigger": "Manual"}
	job.delete()

	run_integration(bank, "Manual")  # as the queued job runs it
	log = latest_log(bank)
	assert (log.status, counts(log)["transaction"]) == ("Success", (13, 0, 0, 0, 13, 0))
	assert booked_transactions(bank) == booked
	assert cursor(bank)


def test_resync_waits_for_a_sync_that_is_going_on(bank):
	before = cursor(bank)
	with another_connection() as worker:
		worker.sql("select get_lock(%s, 0)", (lock_name(bank),))
		with pytest.raises(frappe.ValidationError, match="is syncing now"):
			api.resync_from_start(bank)
	frappe.db.rollback()
	assert cursor(bank) == before
	assert get_job(f"kraal_sync::{bank}") is None
