"""What one run reads once instead of once a record: its External Links, the integrations that send changes.

A run holds its integration's lock (engine/locks), so no other run writes that integration's links
while it runs; the run's own writes keep the cache true (writer), and a rollback empties it, since what
was rolled back may be in it. The workers that help a long run (engine/parallel) write other records'
links meanwhile: a link this worker remembers as missing may be written since, which costs it a lost
race and a second try with an empty cache (writer.isolated), and every stage starts with one. The cache
lives from the start of a run's work to its end, never longer: a worker's next job must not see what
this one read.

ERPNext keeps a cache of its own on frappe.local that a rollback leaves stale: future_sle, for each
stock voucher by name, the items and warehouses with stock entries after it. A record rolled back gives
its voucher's number back to the naming series, and the next record's voucher takes that name: read
from the cache, a Delivery Note dated before a Stock Reconciliation would see no later entries, and its
bin would keep the backdated quantity. A run starts without it, as a worker's job does, and a rollback
empties it.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import frappe


@contextmanager
def scope() -> Iterator[None]:
	frappe.local.kraal_run_cache = {}
	_forget_erpnexts()
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
	_forget_erpnexts()


def _forget_erpnexts() -> None:
	"""ERPNext's stock vouchers' later entries, by voucher name (erpnext.controllers.stock_controller)."""
	frappe.local.future_sle = {}
