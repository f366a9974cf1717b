"""Webhook intake shared by the vendors, on the site: screen the request before anything reads a secret
or parses the body, answer every refusal alike and write nothing for it, take each verified delivery
once (vendors deliver at least once) and leave the record to a queued job, so the answer goes back at
once."""

from collections.abc import Callable

import frappe

from kraal_connect.engine.errors import WebhookRejected
from kraal_connect.engine.runner import queue_webhook_record
from kraal_connect.engine.webhook_intake import REFUSED, check_length, refusal_status, screen

SEEN_FOR_SECONDS = 3 * 24 * 3600


def serve(take: Callable[[bytes], dict]) -> dict:
	"""Answer a vendor's webhook request: `take` gets the raw body of a request that passed the
	screen, verifies it before anything else and acts on it. A WebhookRejected from any step is the
	refusal: its status and REFUSED, with nothing logged, stored or queued."""
	request = frappe.request
	try:
		screen(request.content_length, request.mimetype)
		body = request.get_data()
		check_length(body)
		return take(body)
	except WebhookRejected as exc:
		frappe.local.response.http_status_code = refusal_status(exc)
		return dict(REFUSED)


def first_delivery(integration: str, key: str, seen_for: int = SEEN_FOR_SECONDS) -> bool:
	"""Remember a verified delivery (its key from webhook_intake.delivery_key); False when it was
	taken before. One atomic SET NX: of two identical deliveries at the same instant, one is first."""
	seen = frappe.cache.make_key(f"kraal_webhook_seen::{integration}::{key}")
	return bool(frappe.cache.set(seen, 1, ex=seen_for, nx=True))


def accept(integration: str, key: str, entity: str, external_id: str) -> bool:
	"""Queue the record a verified webhook names; False when this delivery was taken before."""
	if not first_delivery(integration, key):
		return False
	queue_webhook_record(integration, entity, external_id)
	return True
