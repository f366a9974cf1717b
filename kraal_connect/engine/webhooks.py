"""Webhook intake shared by the vendors: after the connector has verified a call, remember its id
(vendors deliver at least once) and leave the record to a queued job, so the answer goes back at once."""

import frappe

from kraal_connect.engine.runner import queue_webhook_record

SEEN_FOR_SECONDS = 3 * 24 * 3600


def accept(integration: str, webhook_id: str | None, entity: str, external_id: str) -> bool:
	"""Queue the record a verified webhook names; False when this webhook was delivered before."""
	if webhook_id:
		seen = f"kraal_webhook_seen::{integration}::{webhook_id}"
		if frappe.cache.get_value(seen):
			return False
		frappe.cache.set_value(seen, 1, expires_in_sec=SEEN_FOR_SECONDS)
	queue_webhook_record(integration, entity, external_id)
	return True
