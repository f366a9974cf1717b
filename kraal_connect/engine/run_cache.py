"""What one run reads once instead of once a record: its External Links, the integrations that send changes.

A run holds its integration's lock (engine/locks), so no other process writes that integration's links
while it runs; the run's own writes keep the cache true (writer), and a rollback empties it, since what
was rolled back may be in it. The cache lives from the start of a run's work to its end, never longer:
a worker's next job must not see what this one read.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import frappe


@contextmanager
def scope() -> Iterator[None]:
	frappe.local.kraal_run_cache = {}
	try:
		yield
	finally:
		frappe.local.kraal_run_cache = None


def table(name: str) -> dict | None:
	"""The run's cache of one kind of thing, or None outside a run (read through, remember nothing)."""
	cache = getattr(frappe.local, "kraal_run_cache", None)
	return None if cache is None else cache.setdefault(name, {})


def remembered(name: str, key: Any, read: Callable[[], Any]) -> Any:
	cache = table(name)
	if cache is None:
		return read()
	if key not in cache:
		cache[key] = read()
	return cache[key]


def drop(name: str, key: Any) -> None:
	cache = table(name)
	if cache is not None:
		cache.pop(key, None)


def forget() -> None:
	"""After a rollback: what was read or written since may not be so any more."""
	if getattr(frappe.local, "kraal_run_cache", None):
		frappe.local.kraal_run_cache = {}
