"""Work that waits in Redis sets until one deduplicated job takes it: a burst of webhooks or document
changes becomes one job per integration and channel, which handles the keys in batches."""

import frappe


def _set_name(purpose: str, integration: str, channel: str) -> str:
	return f"kraal_{purpose}::{integration}::{channel}"


def add(purpose: str, integration: str, channel: str, key: str) -> None:
	frappe.cache.sadd(_set_name(purpose, integration, channel), key)


def waiting(purpose: str, integration: str, channel: str) -> list[str]:
	members = frappe.cache.smembers(_set_name(purpose, integration, channel))
	return sorted(m.decode() if isinstance(m, bytes) else m for m in members)


def done(purpose: str, integration: str, channel: str, keys: list[str]) -> None:
	if keys:
		frappe.cache.srem(_set_name(purpose, integration, channel), *keys)


def enqueue(method: str, purpose: str, integration: str, channel: str, timeout: int = 3600) -> None:
	frappe.enqueue(
		method,
		queue="long",
		timeout=timeout,
		job_id=f"kraal_{purpose}::{integration}::{channel}",
		deduplicate=True,
		enqueue_after_commit=True,
		integration=integration,
		channel=channel,
	)
