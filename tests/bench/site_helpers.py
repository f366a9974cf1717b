"""What the in-bench tests of every vendor read from and set up on the site alike."""

from collections.abc import Iterator
from contextlib import contextmanager

import frappe


def ensure_company(company: str, abbr: str) -> None:
	"""A US company on the Standard chart of accounts."""
	if not frappe.db.exists("Company", company):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": company,
				"abbr": abbr,
				"default_currency": "USD",
				"country": "United States",
				"chart_of_accounts": "Standard",
			}
		).insert()
		frappe.db.commit()


def ensure_user(email: str, role: str, first_name: str) -> str:
	"""A site user holding this role (created once, kept for later runs); returns the e-mail."""
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": first_name, "send_welcome_email": 0}
		)
		user.insert()
		user.add_roles(role)
		frappe.db.commit()
	return email


def latest_log(integration: str):
	name = frappe.get_all(
		"Kraal Sync Log",
		filters={"integration": integration},
		order_by="creation desc",
		limit=1,
		pluck="name",
	)[0]
	return frappe.get_doc("Kraal Sync Log", name)


def counts(log) -> dict[str, tuple[int, int, int, int, int, int]]:
	"""entity -> (fetched, created, updated, cancelled, skipped, failed) of a Sync Log."""
	return {
		r.entity: (r.fetched, r.created, r.updated, r.cancelled, r.skipped, r.failed) for r in log.entities
	}


@contextmanager
def another_connection() -> Iterator:
	"""A second session on the site's database, as another worker or user has; its locks go with it."""
	other = frappe.database.get_db(
		host=frappe.conf.db_host,
		port=frappe.conf.db_port,
		user=frappe.conf.db_name,
		password=frappe.conf.db_password,
		cur_db_name=frappe.conf.db_name,
	)
	other.connect()
	try:
		yield other
	finally:
		other.rollback()
		other.close()
