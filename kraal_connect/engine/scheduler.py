import frappe
from frappe.utils import now_datetime

from kraal_connect.engine.health import SCHEDULED
from kraal_connect.engine.schedule import is_due

RUN_TIMEOUT_SECONDS = 4 * 3600


def enqueue_due_syncs() -> list[str]:
	"""Called by the 15-minute cron: enqueue each enabled integration whose own frequency says it is due."""
	now = now_datetime()
	due = [
		row.name
		for row in frappe.get_all(
			"Kraal Integration",
			filters={"enabled": 1, "status": ("in", SCHEDULED)},
			fields=["name", "sync_frequency", "last_sync"],
		)
		if is_due(row.sync_frequency, row.last_sync, now)
	]
	for name in due:
		enqueue_sync(name, "Scheduler")
	return due


def enqueue_sync(integration: str, trigger: str) -> None:
	"""One queued run per integration at a time: a second request while one waits is dropped."""
	frappe.enqueue(
		"kraal_connect.engine.runner.run_integration",
		queue="long",
		timeout=RUN_TIMEOUT_SECONDS,
		job_id=f"kraal_sync::{integration}",
		deduplicate=True,
		integration=integration,
		trigger=trigger,
	)
