"""Intuit signs each webhook: intuit-signature is base64 of HMAC-SHA256 over the raw body, keyed by
the app's verifier token. A valid one only says that something changed: the CDC run reads what."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from kraal_connect.engine.errors import WebhookRejected


@dataclass(frozen=True)
class Notification:
	realm_id: str
	entities: tuple[str, ...]  # QBO entity names, e.g. ("Invoice", "Customer")


def verify_signature(body: bytes, signature: str | None, verifier_token: str) -> None:
	if not verifier_token:
		raise WebhookRejected("no verifier token is set for QuickBooks webhooks")
	if not signature:
		raise WebhookRejected("no intuit-signature header")
	try:
		given = base64.b64decode(signature, validate=True)
	except (binascii.Error, ValueError):
		raise WebhookRejected("intuit-signature is not base64") from None
	expected = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
	if not hmac.compare_digest(given, expected):
		raise WebhookRejected("intuit-signature does not match the body")


def parse_notifications(body: bytes) -> list[Notification]:
	"""The companies (realms) and entities an eventNotifications payload reports changes for."""
	try:
		payload = json.loads(body)
		notifications = []
		for event in payload["eventNotifications"]:
			changed = (event.get("dataChangeEvent") or {}).get("entities") or []
			names = tuple(dict.fromkeys(str(e["name"]) for e in changed))
			notifications.append(Notification(str(event["realmId"]), names))
	except (ValueError, KeyError, TypeError):
		raise WebhookRejected("body is not an Intuit eventNotifications payload") from None
	return notifications


def verify_webhook(body: bytes, signature: str | None, verifier_token: str) -> list[Notification]:
	"""The notifications of a webhook whose signature checks out; WebhookRejected otherwise."""
	verify_signature(body, signature, verifier_token)
	return parse_notifications(body)
