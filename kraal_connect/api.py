"""Whitelisted actions of the Kraal Integration form; each checks the user may configure it."""

import frappe
from frappe import _
from frappe.utils import now_datetime

from kraal_connect.engine import discovery, failed_records
from kraal_connect.engine.errors import AuthenticationError, SyncError
from kraal_connect.engine.health import DISCONNECTED, NEEDS_REAUTHENTICATION, NOT_CONNECTED
from kraal_connect.engine.locks import integration_lock
from kraal_connect.engine.redaction import redact
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller, RetryPolicy
from kraal_connect.engine.runner import enqueue_retry
from kraal_connect.engine.scheduler import enqueue_sync


def check_can_configure(integration: str):
	"""Run, test and resolve: the integration's ordinary settings (Accounts Manager and up)."""
	doc = frappe.get_doc("Kraal Integration", integration)
	doc.check_permission("write")
	return doc


def check_can_manage_credentials(integration: str):
	"""Connect, reconnect, or hand the vendor new tokens: only who may change the credential fields
	(permlevel 1: System Manager, Kraal Connect Manager)."""
	doc = check_can_configure(integration)
	if not doc.has_permlevel_access_to("access_token", permission_type="write"):
		raise frappe.PermissionError(
			_("Only a Kraal Connect Manager may change the credentials of {0}").format(integration)
		)
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
		message = connector_class(doc.vendor)(doc, ApiCaller(RetryPolicy(max_attempts=2))).test_connection()
	except AuthenticationError as exc:
		reason = redact(str(exc), doc.secrets())
		doc.db_set({"status": NEEDS_REAUTHENTICATION, "status_reason": reason})
		frappe.db.commit()  # the status (and its alert) stay though the answer is an error
		frappe.throw(_("The credentials no longer work: {0}").format(reason))
	except SyncError as exc:
		frappe.throw(_("Connection failed: {0}").format(redact(str(exc), doc.secrets())))
	if doc.status == NOT_CONNECTED:
		doc.db_set({"status": "Active", "status_reason": ""})
	return message


@frappe.whitelist(methods=["POST"])
def discover(integration: str) -> dict:
	"""Read what the account uses (locations, gateways, taxes, fee types, accounts) and list every key
	as a mapping row at once, before the first sync books anything."""
	doc = check_can_configure(integration)
	try:
		result = discovery.discover(doc)
	except SyncError as exc:
		frappe.throw(
			_("Discover could not read {0}: {1}").format(doc.vendor, redact(str(exc), doc.secrets()))
		)
	return {**result, "message": discovery.summary(result)}


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


@frappe.whitelist(methods=["POST"])
def resync_from_start(integration: str) -> str:
	"""Clear every entity's cursor, so the next sync reads the vendor's records from the start (or the
	Sync From date); what is booked already is matched by its External Link, not written twice."""
	doc = check_can_configure(integration)
	with integration_lock(integration) as acquired:
		if not acquired:
			frappe.throw(
				_("{0} is syncing now; resync from the start once it has finished").format(integration)
			)
		for row in doc.entities:
			frappe.db.set_value(row.doctype, row.name, {"cursor": "", "last_synced": None})
		doc.add_comment("Info", _("Cursors cleared: the next sync reads from the start"))
		# Before the lock goes: a run that starts next reads the cleared cursors.
		frappe.db.commit()
	if doc.enabled and doc.status != DISCONNECTED:
		enqueue_sync(integration, "Manual")
		return _("Cursors of {0} cleared; a sync from the start is queued").format(integration)
	return _("Cursors of {0} cleared; its next sync reads from the start").format(integration)


@frappe.whitelist()
def recent_sync_logs(integration: str, limit: int = 10) -> list[dict]:
	frappe.get_doc("Kraal Integration", integration).check_permission("read")
	return frappe.get_all(
		"Kraal Sync Log",
		filters={"integration": integration},
		fields=["name", "trigger", "status", "started", "finished", "duration", "api_calls", "summary"],
		order_by="started desc",
		limit=min(int(limit), 50),
	)


# -- failed records -------------------------------------------------------------------------------


@frappe.whitelist()
def open_failures(integration: str, limit: int = 50) -> dict:
	"""The integration's open failed records for its form: the newest first, and how many in all."""
	frappe.get_doc("Kraal Integration", integration).check_permission("read")
	filters = {"integration": integration, "status": failed_records.OPEN}
	return {
		"total": frappe.db.count(failed_records.FAILED_RECORD, filters),
		"rows": failed_records.last_seen_open(integration, min(int(limit), 200)),
	}


@frappe.whitelist(methods=["POST"])
def retry_failure(failed_record: str) -> str:
	row = _open_failure(failed_record)
	enqueue_retry(row.integration, failures=[row.name])
	return _("{0} {1} will be tried again in a moment").format(row.entity, row.external_id)


@frappe.whitelist(methods=["POST"])
def retry_all_failures(integration: str) -> str:
	check_can_configure(integration)
	count = failed_records.count_open(integration)
	if not count:
		return _("{0} has no open failed records").format(integration)
	enqueue_retry(integration)
	return _("{0} failed records of {1} will be tried again in a moment").format(count, integration)


@frappe.whitelist(methods=["POST"])
def apply_source_version(failed_record: str) -> str:
	"""A person chooses the source's version over what held the document; ERPNext still decides
	whether it can be cancelled or amended (a closed period, say, still refuses it)."""
	row = _open_failure(failed_record)
	if row.kind != "Conflict":
		frappe.throw(_("{0} {1} is not a conflict; use Retry").format(row.entity, row.external_id))
	enqueue_retry(row.integration, failures=[row.name], apply_source=True)
	return _("The source's version of {0} {1} will be applied in a moment").format(
		row.entity, row.external_id
	)


@frappe.whitelist(methods=["POST"])
def dismiss_failure(failed_record: str, reason: str) -> None:
	"""Stop trying a record; who dismissed it and why stay on it."""
	row = _open_failure(failed_record)
	if not (reason or "").strip():
		frappe.throw(_("Say why {0} {1} is dismissed").format(row.entity, row.external_id))
	frappe.db.set_value(
		failed_records.FAILED_RECORD,
		row.name,
		{
			"status": failed_records.DISMISSED,
			"dismissed_by": frappe.session.user,
			"dismissed_on": now_datetime(),
			"dismiss_reason": reason.strip(),
		},
	)


@frappe.whitelist()
def sync_log_failed_records(sync_log: str) -> list[dict]:
	"""The failed records a run failed (or failed again), with their status now, for the Sync Log's form."""
	frappe.get_doc("Kraal Sync Log", sync_log).check_permission("read")
	return frappe.get_all(
		failed_records.FAILED_RECORD,
		filters={"last_log": sync_log},
		fields=["name", "entity", "external_id", "kind", "status", "message", "attempts"],
		order_by="entity asc, external_id asc",
		limit=500,
	)


def _open_failure(name: str):
	row = frappe.db.get_value(
		failed_records.FAILED_RECORD,
		name,
		["name", "integration", "entity", "external_id", "kind", "status"],
		as_dict=True,
	)
	if not row:
		frappe.throw(_("There is no failed record {0}").format(name), frappe.DoesNotExistError)
	check_can_configure(row.integration)
	if row.status != failed_records.OPEN:
		frappe.throw(_("{0} {1} is {2} already").format(row.entity, row.external_id, _(row.status)))
	return row
