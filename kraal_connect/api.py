"""Whitelisted actions of the Kraal Integration form; each checks the user may configure it."""

import frappe
from frappe import _

from kraal_connect.engine.errors import AuthenticationError, SyncError
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller, RetryPolicy
from kraal_connect.engine.scheduler import enqueue_sync


def check_can_configure(integration: str):
	doc = frappe.get_doc("Kraal Integration", integration)
	doc.check_permission("write")
	return doc


@frappe.whitelist(methods=["POST"])
def sync_now(integration: str) -> str:
	doc = check_can_configure(integration)
	if not doc.enabled or doc.status == "Disconnected":
		frappe.throw(_("{0} is disconnected; reconnect it first").format(integration))
	enqueue_sync(integration, "Manual")
	return _("Sync of {0} queued").format(integration)


@frappe.whitelist(methods=["POST"])
def test_connection(integration: str) -> str:
	doc = check_can_configure(integration)
	try:
		return connector_class(doc.vendor)(doc, ApiCaller(RetryPolicy(max_attempts=2))).test_connection()
	except AuthenticationError as exc:
		doc.db_set({"status": "Needs Re-authentication", "status_reason": str(exc)})
		frappe.throw(_("The credentials no longer work: {0}").format(exc))
	except SyncError as exc:
		frappe.throw(_("Connection failed: {0}").format(exc))


@frappe.whitelist(methods=["POST"])
def disconnect(integration: str) -> None:
	"""Stop syncing; links, mappings and cursors stay, so reconnecting resumes without re-importing."""
	doc = check_can_configure(integration)
	doc.db_set(
		{
			"enabled": 0,
			"status": "Disconnected",
			"status_reason": _("Disconnected by {0}").format(frappe.session.user),
		}
	)


@frappe.whitelist(methods=["POST"])
def reconnect(integration: str) -> None:
	doc = check_can_configure(integration)
	doc.db_set({"enabled": 1, "status": "Active", "status_reason": ""})


@frappe.whitelist()
def recent_sync_logs(integration: str, limit: int = 10) -> list[dict]:
	frappe.get_doc("Kraal Integration", integration).check_permission("read")
	return frappe.get_all(
		"Kraal Sync Log",
		filters={"integration": integration},
		fields=["name", "trigger", "status", "started", "finished", "api_calls", "summary"],
		order_by="started desc",
		limit=min(int(limit), 50),
	)
