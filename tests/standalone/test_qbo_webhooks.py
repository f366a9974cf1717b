"""Intuit webhooks: intuit-signature checked against the verifier tokens, then the payload read."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from emulators.qbo import QboEmulator
from kraal_connect.connectors.qbo.webhooks import Notification, parse_notifications, signature
from kraal_connect.engine.errors import WebhookRejected
from kraal_connect.engine.webhook_intake import MalformedWebhook, hmac_signers
from tests.standalone.qbo_support import FIXTURES, REALM

EMULATOR = QboEmulator(FIXTURES)
TOKEN = EMULATOR.verifier_token
BODY = json.dumps(
	{
		"eventNotifications": [
			{
				"realmId": REALM,
				"dataChangeEvent": {
					"entities": [
						{
							"name": "Invoice",
							"id": "133",
							"operation": "Update",
							"lastUpdated": "2026-07-01T10:00:00.000Z",
						},
						{
							"name": "Payment",
							"id": "153",
							"operation": "Delete",
							"lastUpdated": "2026-07-01T10:00:01.000Z",
						},
						{
							"name": "Invoice",
							"id": "134",
							"operation": "Create",
							"lastUpdated": "2026-07-01T10:00:02.000Z",
						},
					]
				},
			}
		]
	}
).encode()


def verify(body: bytes, header: str | None, tokens: dict[str, str]) -> list[str]:
	"""The endpoint's order: the header decoded before any token is read, then the tokens tried."""
	return hmac_signers(body, signature(header), tokens)


def test_a_signed_webhook_names_the_company_and_what_changed():
	assert verify(BODY, EMULATOR.sign_webhook(BODY), {"QBO 1": TOKEN}) == ["QBO 1"]
	assert parse_notifications(BODY) == [Notification(REALM, ("Invoice", "Payment"))]


def test_only_the_integrations_of_the_app_that_signed_are_named():
	tokens = {"QBO 1": TOKEN, "QBO 2": "another-apps-token", "QBO 3": TOKEN, "QBO 4": ""}
	assert verify(BODY, EMULATOR.sign_webhook(BODY), tokens) == ["QBO 1", "QBO 3"]


def test_a_changed_body_or_another_verifier_token_is_rejected():
	header = EMULATOR.sign_webhook(BODY)
	with pytest.raises(WebhookRejected, match="does not match the body"):
		verify(BODY.replace(b"133", b"999"), header, {"QBO 1": TOKEN})
	with pytest.raises(WebhookRejected, match="does not match the body"):
		verify(BODY, header, {"QBO 1": "another-apps-token"})


def test_missing_or_garbled_signatures_are_rejected():
	with pytest.raises(WebhookRejected, match="no intuit-signature"):
		signature(None)
	with pytest.raises(WebhookRejected, match="not base64"):
		signature("%%%not base64%%%")
	with pytest.raises(WebhookRejected, match="does not match"):
		verify(BODY, EMULATOR.sign_webhook(BODY), {"QBO 1": ""})  # no verifier token set
	truncated = base64.b64encode(base64.b64decode(EMULATOR.sign_webhook(BODY))[:16]).decode()
	with pytest.raises(WebhookRejected, match="does not match"):
		verify(BODY, truncated, {"QBO 1": TOKEN})


def test_a_signed_body_that_is_not_a_notification_is_malformed():
	for body in (
		b"not json",
		b'{"eventNotifications": [{"dataChangeEvent": {}}]}',
		b"[]",
		b'{"eventNotifications": ["x"]}',
	):
		assert verify(body, EMULATOR.sign_webhook(body), {"QBO 1": TOKEN}) == ["QBO 1"]
		with pytest.raises(MalformedWebhook, match="not an Intuit eventNotifications payload"):
			parse_notifications(body)
	assert parse_notifications(b'{"eventNotifications": [{"realmId": "1"}]}') == [Notification("1", ())]


def test_the_emulator_delivers_webhooks_signed_over_http():
	received = []

	class Receiver(BaseHTTPRequestHandler):
		def do_POST(self):
			body = self.rfile.read(int(self.headers["Content-Length"]))
			assert verify(body, self.headers.get("intuit-signature"), {"QBO 1": TOKEN}) == ["QBO 1"]
			received.append(parse_notifications(body))
			self.send_response(200)
			self.send_header("Content-Length", "0")
			self.end_headers()

		def log_message(self, *args):
			pass

	receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
	threading.Thread(target=receiver.serve_forever, daemon=True).start()
	emulator = QboEmulator(FIXTURES).start()
	try:
		url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
		answer = requests.post(
			f"{emulator.url}/_emulator/webhook", json={"url": url, "payload": json.loads(BODY)}, timeout=10
		)
		assert answer.json()["status"] == 200
	finally:
		emulator.stop()
		receiver.shutdown()
		receiver.server_close()
	assert received == [[Notification(REALM, ("Invoice", "Payment"))]]
