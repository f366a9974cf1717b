"""Intuit signs each webhook: intuit-signature is base64 of HMAC-SHA256 over the raw body, keyed by
the app's verifier token. A valid one only says that something changed: the CDC run reads what."""

import json
from dataclasses import dataclass

from kraal_connect.engine.webhook_intake import MalformedWebhook, hmac_signature

SIGNATURE_HEADER = "intuit-signature"


@dataclass(frozen=True)
class Notification:
	realm_id: str
	entities: tuple[str, ...]  # QBO entity names, e.g. ("Invoice", "Customer")


def signature(header_value: str | None) -> bytes:
	"""The digest intuit-signature carries; the integrations whose token made it are
	webhook_intake.hmac_signers."""
	return hmac_signature(header_value, SIGNATURE_HEADER)


def parse_notifications(body: bytes) -> list[Notification]:
	"""The companies (realms) and entities a verified eventNotifications payload reports changes for."""
	try:
		payload = json.loads(body)
		notifications = []
		for event in payload["eventNotifications"]:
			changed = (event.get("dataChangeEvent") or {}).get("entities") or []
			names = tuple(dict.fromkeys(str(e["name"]) for e in changed))
			notifications.append(Notification(str(event["realmId"]), names))
	except (ValueError, KeyError, TypeError, AttributeError):
		raise MalformedWebhook("body is not an Intuit eventNotifications payload") from None
	return notifications
