"""Tell people when an integration needs them: its owner and the Accounts Managers who may see it, by
Notification Log (and e-mail where the site sends mail), once per incident (engine/health decides
what is new); and the daily check of each integration's credentials and freshness."""

import frappe
from frappe import _
from frappe.desk.doctype.notification_log.notification_log import make_notification_logs
from frappe.desk.doctype.notification_settings.notification_settings import (
	is_email_notifications_enabled,
)
from frappe.email.doctype.email_account.email_account import EmailAccount
from frappe.utils import format_datetime, get_url_to_form, now_datetime

from kraal_connect.engine import failed_records, health
from kraal_connect.engine.errors import AuthenticationError, SyncError, as_transient
from kraal_connect.engine.locks import integration_lock
from kraal_connect.engine.redaction import redact
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller, RetryPolicy

INTEGRATION = "Kraal Integration"
# Besides the integration's owner, who is told: the company's Accounts Managers.
ROLE = "Accounts Manager"


def review(doc, stale_since: str | None = None) -> None:
	"""Compare the integration's state with what people were told of; tell them what is new.

	Called each time the status is written (the controller's on_change: a run's end, Test Connection,
	a vendor's webhook, a connect flow) and by the daily check. The alert key is written in the same
	transaction as the notifications, so an incident is told once however often it is reviewed.
	"""
	told = health.Incident.parse(frappe.db.get_value(INTEGRATION, doc.name, "alert_key"))
	seen = [health.as_text(moment) for moment in failed_records.open_first_seen(doc.name)]
	result = health.review(told, doc.status, seen, stale_since)
	if result.remember != told:
		key = result.remember.dump()
		frappe.db.set_value(INTEGRATION, doc.name, "alert_key", key, update_modified=False)
		doc.alert_key = key
	if result.news:
		notify(doc, result)


def notify(doc, result: health.Review) -> None:
	users = recipients(doc)
	if not users:
		return
	lines = [_headline(doc, news, result) for news in result.news]
	subject = "; ".join(lines)
	content = "<br>".join(
		frappe.utils.escape_html(line) for line in [*lines[1:], doc.status_reason or ""] if line
	)
	emails = frappe.get_all("User", filters={"name": ("in", users)}, pluck="email")
	make_notification_logs(
		frappe._dict(
			type="Alert",
			document_type=INTEGRATION,
			document_name=doc.name,
			subject=frappe.utils.escape_html(subject),
			email_content=content,
		),
		emails,
	)
	_send_mail(doc, users, subject, content)


def recipients(doc) -> list[str]:
	"""The integration's owner and the Accounts Managers, each only if they may read it (a user
	restricted to other companies may not), enabled desk users only."""
	managers = frappe.get_all("Has Role", filters={"role": ROLE, "parenttype": "User"}, pluck="parent")
	users = frappe.get_all(
		"User",
		filters={"name": ("in", [doc.owner, *managers]), "enabled": 1, "user_type": "System User"},
		pluck="name",
	)
	return sorted(u for u in set(users) if frappe.has_permission(INTEGRATION, "read", doc, user=u))


def _headline(doc, news: str, result: health.Review) -> str:
	if news == health.NEW_STATUS and doc.status == health.NEEDS_REAUTHENTICATION:
		return _("{0} needs re-authentication").format(doc.name)
	if news == health.NEW_STATUS:
		return _("{0} stopped with an error").format(doc.name)
	if news == health.NEW_FAILURES:
		return _("{0}: {1} new failed record(s) or conflict(s)").format(doc.name, result.new_failures)
	return _("{0} has not synced cleanly since {1}").format(
		doc.name, format_datetime(result.remember.stale_since)
	)


def _send_mail(doc, users: list[str], subject: str, content: str) -> None:
	"""Notification Logs of type Alert are never e-mailed by Frappe: send one where the site has an
	outgoing account, to who has e-mail notifications on."""
	if not EmailAccount.find_default_outgoing():
		return
	emails = frappe.get_all(
		"User",
		filters={"name": ("in", [u for u in users if is_email_notifications_enabled(u)])},
		pluck="email",
	)
	if not emails:
		return
	frappe.sendmail(
		recipients=emails,
		subject=subject,
		template="new_notification",
		args={
			"body_content": frappe.utils.escape_html(subject),
			"description": content,
			"doc_link": get_url_to_form(INTEGRATION, doc.name),
		},
		header=[_("Kraal Connect"), "orange"],
		reference_doctype=INTEGRATION,
		reference_name=doc.name,
	)


# -- the daily health check ------------------------------------------------------------------------


def daily_health_check() -> None:
	"""Scheduler (daily): each integration that syncs by itself proves its credentials still work and
	that it has synced cleanly lately; what is wrong is told as any other incident."""
	for name in frappe.get_all(
		INTEGRATION, filters={"enabled": 1, "status": ("in", health.SCHEDULED)}, pluck="name"
	):
		try:
			check_health(name)
			frappe.db.commit()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=f"Kraal health check of {name} failed")


def check_health(name: str) -> None:
	doc = frappe.get_doc(INTEGRATION, name)
	if not _credentials_work(doc):
		return
	now = now_datetime()
	stale = health.is_stale(doc.sync_frequency, doc.last_success, doc.creation, now)
	since = health.as_text(doc.last_success or doc.creation) if stale else ""
	if stale and doc.status == health.ACTIVE:
		doc.db_set(
			{
				"status": health.NEEDS_ATTENTION,
				"status_reason": _("No clean sync since {0} (expected: {1})").format(
					format_datetime(doc.last_success) if doc.last_success else _("it was set up"),
					_(doc.sync_frequency),
				),
			}
		)
	review(doc, since)


def _credentials_work(doc) -> bool:
	"""The connector's cheapest call (Test Connection's). A run going on is its own proof, and a call
	beside it could rotate a token under it: it is skipped then. Only a refusal of the credentials
	counts; a vendor that does not answer today is the runs' to report."""
	with integration_lock(doc.name) as acquired:
		if not acquired:
			return True
		try:
			connector_class(doc.vendor)(doc, ApiCaller(RetryPolicy(max_attempts=2))).test_connection()
		except AuthenticationError as exc:
			doc.db_set(
				{
					"status": health.NEEDS_REAUTHENTICATION,
					"status_reason": redact(str(exc), doc.secrets()),
				}
			)
			return False
		except Exception as exc:
			if not (isinstance(exc, SyncError) or as_transient(exc)):
				raise
	return True
