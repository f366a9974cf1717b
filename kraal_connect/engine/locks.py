import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import frappe


@contextmanager
def integration_lock(integration: str, wait: int = 0) -> Iterator[bool]:
	"""A database lock held for one integration's run; yields False when another run holds it for
	longer than `wait` seconds.

	MariaDB frees a named lock when its connection ends, so a killed worker never leaves it stuck.
	"""
	name = lock_name(integration)
	acquired = frappe.db.sql("select get_lock(%s, %s)", (name, wait))[0][0] == 1
	try:
		yield acquired
	finally:
		if acquired:
			frappe.db.sql("select release_lock(%s)", name)


def lock_name(integration: str) -> str:
	"""MariaDB lock names are server-wide: the site is part of the name."""
	return f"kraal_sync_{hashlib.sha1(f'{frappe.local.site}:{integration}'.encode()).hexdigest()}"
