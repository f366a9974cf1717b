"""A new integration used to start Active. One that never connected (no account, no token the flows
keep, never synced) is Not Connected now, until its first successful connection; the others keep
their status, which their next run brings up to date (Needs Attention when failed records are open)."""

import frappe

from kraal_connect.engine.health import ACTIVE, NOT_CONNECTED


def execute():
	for name in frappe.get_all(
		"Kraal Integration",
		filters={
			"status": ACTIVE,
			"external_account": ("is", "not set"),
			"last_sync": ("is", "not set"),
			"last_success": ("is", "not set"),
		},
		pluck="name",
	):
		frappe.db.set_value("Kraal Integration", name, "status", NOT_CONNECTED, update_modified=False)
