"""Intuit webhooks: intuit-signature checked against the verifier token, then the payload read."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from emulators.qbo import QboEmulator
from kraal_connect.connectors.qbo.webhooks import Notification, parse_notifications, verify_webhook
from kraal_connect.engine.errors import WebhookRejected
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


def test_a_signed_webhook_names_the_company_and_what_changed():
	assert verify_webhook(BODY, EMULATOR.sign_webhook(BODY), TOKEN) == [
		Notification(REALM, ("Invoice", "Payment"))
	]


def test_a_changed_body_or_another_verifier_token_is_rejected():
	signature = EMULATOR.sign_webhook(BODY)
	with pytest.raises(WebhookRejected, match="does not match the body"):
		verify_webhook(BODY.replace(b"133", b"999"), signature, TOKEN)
	with pytest.raises(WebhookRejected, match="does not match the body"):
		verify_webhook(BODY, signature, "another-apps-token")


def test_missing_or_garbled_signatures_are_rejected():
	with pytest.raises(WebhookRejected, match="no intuit-signature"):
		verify_webhook(BODY, None, TOKEN)
	with pytest.raises(WebhookRejected, match="not base64"):
		verify_webhook(BODY, "%%%not base64%%%", TOKEN)
	with pytest.raises(WebhookRejected, match="no verifier token"):
		verify_webhook(BODY, EMULATOR.sign_webhook(BODY), "")
	truncated = base64.b64encode(base64.b64decode(EMULATOR.sign_webhook(BODY))[:16]).decode()
	with pytest.raises(WebhookRejected, match="does not match"):
		verify_webhook(BODY, truncated, TOKEN)


def test_a_signed_body_that_is_not_a_notification_is_rejected():
	for body in (b"not json", b'{"eventNotifications": [{"dataChangeEvent": {}}]}', b"[]"):
		with pytest.raises(WebhookRejected, match="not an Intuit eventNotifications payload"):
			verify_webhook(body, EMULATOR.sign_webhook(body), TOKEN)
	assert parse_notifications(b'{"eventNotifications": [{"realmId": "1"}]}') == [Notification("1", ())]


def test_the_emulator_delivers_webhooks_signed_over_http():
	received = []

	class Receiver(BaseHTTPRequestHandler):
		def do_POST(self):
			body = self.rfile.read(int(self.headers["Content-Length"]))
			received.append(verify_webhook(body, self.headers.get("intuit-signature"), TOKEN))
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
