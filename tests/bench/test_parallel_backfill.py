"""A long run written by two workers at once (Backfill Workers: 2), one of them killed with SIGKILL
halfway through a record (the helper in a migration, the run itself in a store's backfill): the books
end exactly as a run alone writes them, and a second run writes nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import frappe
from frappe.utils.background_jobs import get_queue

from kraal_connect.connectors.shopify import mapping
from kraal_connect.engine.parallel import HELP_JOB
from kraal_connect.engine.queued_records import QUEUED_RECORD
from kraal_connect.engine.runner import run_integration
from tests.bench import shopify_helpers as shopify
from tests.bench.qbo_helpers import MIGRATED, check_exact_parity
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.qbo_helpers", "tests.bench.shopify_helpers"]
# What the fixture store's orders book written by a run alone, credit notes and returns among them
# (test_shopify_sync checks each against Shopify).
SHOPIFY_BOOKS = {"Sales Order": 6, "Sales Invoice": 7, "Payment Entry": 7, "Delivery Note": 5}

# Patches queued_records.written so that this process, once it has written its Nth record, leaves a
# marker and hangs before that record's commit, to be killed there; argv: after, marker, then the rest.
HANG = """
import pathlib, sys, time
from kraal_connect.engine import queued_records

after, marker = sys.argv[1:3]
mark, written = queued_records.written, []

def written_then_hang(name, *args):
	mark(name, *args)
	written.append(name)
	if len(written) == int(after):
		pathlib.Path(marker).write_text(str(len(written)))
		time.sleep(600)

queued_records.written = written_then_hang
"""
# A background worker for the run's helper job (tests/bench/browser_worker) that hangs so.
HANGING_HELPER = (
	HANG
	+ """
from tests.bench import browser_worker
pathlib.Path(marker + ".ready").touch()
browser_worker.main(sys.argv[3])
"""
)
# The run, which hangs so in one of its own records.
HANGING_RUN = (
	HANG
	+ """
import frappe
frappe.init(site=sys.argv[3], sites_path=".")
frappe.connect()
from kraal_connect.engine.runner import run_integration
run_integration(sys.argv[4], "Manual")
"""
)
# The run, which takes its time over each record it writes, so that its helper (which first prepares
# its own mapping context) surely gets a share however busy the machine is.
SLOW_RUN = """
import sys, time, frappe
from kraal_connect.engine import queued_records

site, integration = sys.argv[1:]
mark = queued_records.written

def written_slowly(*args):
	mark(*args)
	time.sleep(0.5)

queued_records.written = written_slowly
frappe.init(site=site, sites_path=".")
frappe.connect()
from kraal_connect.engine.runner import run_integration
run_integration(integration, "Manual")
"""
# The run itself, in a process of its own as a worker runs it.
RUN = """
import sys, frappe
site, integration = sys.argv[1:]
frappe.init(site=site, sites_path=".")
frappe.connect()
from kraal_connect.engine.runner import run_integration
run_integration(integration, "Manual")
frappe.destroy()
"""


def python(script: str, *args: str) -> subprocess.Popen:
	app = str(Path(__file__).resolve().parents[2])
	return subprocess.Popen(
		[sys.executable, "-c", script, *args], cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": app}
	)


def wait_for(path, process: subprocess.Popen, seconds: int = 300) -> bool:
	deadline = time.monotonic() + seconds
	while not path.exists() and process.poll() is None and time.monotonic() < deadline:
		time.sleep(0.3)
	return path.exists()


def test_a_migration_written_by_two_workers_one_killed_mid_record_ends_in_exact_parity(
	qbo_integration, qbo_data, tmp_path
):
	frappe.db.set_value("Kraal Integration", qbo_integration, "backfill_workers", 2)
	frappe.db.commit()
	marker = tmp_path / "hung"
	helper = python(HANGING_HELPER, "6", str(marker), frappe.local.site)
	try:
		assert wait_for(tmp_path / "hung.ready", helper)
		run = python(SLOW_RUN, frappe.local.site, qbo_integration)
		# The helper took the run's job and wrote five records beside the run; the sixth is written,
		# not committed, when it dies.
		assert wait_for(marker, helper), "the helper never wrote its share"
	finally:
		helper.send_signal(signal.SIGKILL)
		helper.wait()
	assert run.wait(timeout=900) == 0
	frappe.db.rollback()  # a fresh snapshot of what the two wrote

	log = latest_log(qbo_integration)
	assert log.status == "Success", [(f.entity, f.external_id, f.message) for f in log.failures]
	assert counts(log) == MIGRATED
	assert not frappe.db.exists(QUEUED_RECORD, {"integration": qbo_integration})
	check_exact_parity(qbo_integration, qbo_data)

	# Read again from the start, by two workers again (no helper is alive: the run writes alone), it
	# writes nothing.
	for row in frappe.get_doc("Kraal Integration", qbo_integration).entities:
		row.db_set("cursor", "")
	frappe.db.commit()
	assert python(RUN, frappe.local.site, qbo_integration).wait(timeout=900) == 0
	frappe.db.rollback()
	again = latest_log(qbo_integration)
	assert again.name != log.name and again.status == "Success"
	assert {entity: c[1:4] for entity, c in counts(again).items()} == {e: (0, 0, 0) for e in MIGRATED}
	check_exact_parity(qbo_integration, qbo_data)
	drop_help_jobs()


def test_a_store_backfill_whose_run_is_killed_mid_record_is_finished_by_its_helper_to_exact_parity(
	shopify_company, shopify_store, connected, tmp_path
):
	integration = connected()
	frappe.db.set_value("Kraal Integration", integration, "backfill_workers", 2)
	frappe.db.commit()
	helper = python(HANGING_HELPER, "1000", str(tmp_path / "helper"), frappe.local.site)
	try:
		assert wait_for(tmp_path / "helper.ready", helper)
		marker = tmp_path / "hung"
		run = python(HANGING_RUN, "3", str(marker), frappe.local.site, integration)
		try:
			assert wait_for(marker, run), "the run never wrote its third record"
		finally:
			run.send_signal(signal.SIGKILL)
			run.wait()
		# The helper writes on alone, the dead run's record too once MariaDB lets go of it.
		deadline = time.monotonic() + 300
		while time.monotonic() < deadline and queued(integration):
			time.sleep(0.5)
		assert not queued(integration), "the helper left records queued"
	finally:
		helper.send_signal(signal.SIGKILL)
		helper.wait()
	frappe.db.rollback()
	assert frappe.db.get_value("Kraal Sync Log", {"integration": integration}, "status") == "Running"
	check_store_parity(integration, shopify_store)

	# The next run finds everything booked: it reads from the cursors the dead run left, and writes
	# nothing; its queue holds nothing of the dead run's.
	run_integration(integration, "Manual")
	log = latest_log(integration)
	assert log.status == "Success", [(f.external_id, f.message) for f in log.failures]
	assert all(c[1:4] == (0, 0, 0) for c in counts(log).values()), counts(log)
	assert not frappe.db.exists(QUEUED_RECORD, {"integration": integration})
	check_store_parity(integration, shopify_store)
	drop_help_jobs()


def queued(integration: str) -> int:
	frappe.db.rollback()
	return frappe.db.count(QUEUED_RECORD, {"integration": integration, "status": "Queued"})


def check_store_parity(integration: str, store) -> None:
	"""Every order's documents once, Shopify's totals to the cent, what the gateways settled in the books
	and Shopify's stock in every mapped warehouse."""
	booked = {doctype: len(shopify.linked_docs(integration, doctype)) for doctype in SHOPIFY_BOOKS}
	assert booked == SHOPIFY_BOOKS
	for order in store.records("orders"):
		name = shopify.linked(integration, "order", order["id"])
		if name:
			total = frappe.db.get_value("Sales Order", name, "grand_total")
			assert shopify.money(total) == mapping.shopify_totals(order).total, order["name"]
	payments = [d.name for d in shopify.linked_docs(integration, "Payment Entry")]
	for gateway, amount in shopify.settled_by_gateway(store).items():
		assert shopify.gl_balance(f"{shopify.GATEWAYS[gateway]} - {shopify.ABBR}", payments) == amount
	expected, held = shopify.stock_at_shopify_and_held(store)
	assert held == expected
	vouchers = [
		link
		for doctype in SHOPIFY_BOOKS
		for link in frappe.get_all(
			"Kraal External Link",
			filters={"integration": integration, "reference_doctype": doctype},
			pluck="reference_name",
		)
	]
	assert not frappe.db.exists("GL Entry", {"voucher_no": ("in", vouchers), "is_cancelled": 1})


def drop_help_jobs() -> None:
	"""The job the second run queued for a helper that never came: no later test's worker takes it."""
	queue = get_queue("long")
	for job_id in queue.job_ids:
		job = queue.fetch_job(job_id) if job_id.startswith(f"{frappe.local.site}::") else None
		if job and (job.kwargs or {}).get("method") == HELP_JOB:
			job.delete()
