"""Naming series numbers for a run written by several workers, each taken in a transaction of its own.

ERPNext numbers a document by locking its series' row in tabSeries until the document's transaction
ends, so two workers writing Sales Invoices would each wait for the other's whole record. While a run's
workers write (engine/parallel), the number is taken on a second connection and committed at once: the
row is held for a moment, not for a record. A record that then fails leaves its number unused, as a
deleted draft does in ERPNext; a run written by one worker takes its numbers as ERPNext does.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import frappe
from frappe.model import naming


@contextmanager
def taken_apart() -> Iterator[None]:
	"""Within it, every series number this process takes is committed on its own connection."""
	numbers = frappe.database.get_db(
		host=frappe.conf.db_host,
		port=frappe.conf.db_port,
		user=frappe.conf.db_user or frappe.conf.db_name,
		password=frappe.conf.db_password,
		cur_db_name=frappe.conf.db_name,
	)
	numbers.connect()
	erpnext_getseries = naming.getseries

	def next_number(key: str, digits: int) -> str:
		try:
			current = numbers.sql("select current from `tabSeries` where name=%s for update", key)
			if current and current[0][0] is not None:
				numbers.sql("update `tabSeries` set current = current + 1 where name=%s", key)
				number = int(current[0][0]) + 1
			else:
				numbers.sql("insert into `tabSeries` (name, current) values (%s, 1)", key)
				number = 1
			numbers.commit()
		except Exception:
			numbers.rollback()
			raise
		return f"{number:0{digits}d}"

	# parse_naming_series looks getseries up when it names a document: every doctype's series goes here.
	naming.getseries = next_number
	try:
		yield
	finally:
		naming.getseries = erpnext_getseries
		numbers.close()
