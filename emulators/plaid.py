"""A Plaid API emulator serving a dataset laid out as fixtures/plaid/README.md describes.

Control endpoints besides the base ones:
  POST /_emulator/webhook                   {"url", "payload"}: POST the payload there, signed as Plaid signs
  POST /_emulator/mutate_during_pagination  {"item_id", "times": 1}: the item's data changes under the
                                            next /transactions/sync loop: its next call in the middle of a
                                            loop (a cursor from a page with has_more) answers
                                            TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION, as Plaid does
"""

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from emulators.base import Emulator, Request, Response

ACCESS_PREFIX = "access-emulator-"
PUBLIC_PREFIX = "public-emulator-"
MUTATION_MESSAGE = (
	"Underlying transaction data changed since last page was fetched. "
	"Please restart pagination from last update."
)


def plaid_error(error_type: str, code: str, message: str, status: int = 400) -> Response:
	return Response(
		status,
		{
			"error_type": error_type,
			"error_code": code,
			"error_message": message,
			"display_message": message,
			"request_id": uuid.uuid4().hex[:12],
			"causes": [],
		},
	)


def mutation_error() -> Response:
	"""Plaid's answer when an item's transactions changed during a /transactions/sync loop (it has
	nothing to show the user)."""
	response = plaid_error(
		"TRANSACTIONS_ERROR", "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION", MUTATION_MESSAGE
	)
	response.body["display_message"] = None
	return response


def _b64url(number: int) -> str:
	return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


class PlaidEmulator(Emulator):
	routes = (
		("POST", "/link/token/create", "link_token_create"),
		("POST", "/item/public_token/exchange", "public_token_exchange"),
		("POST", "/item/get", "item_get"),
		("POST", "/institutions/get_by_id", "institution_get"),
		("POST", "/accounts/get", "accounts_get"),
		("POST", "/transactions/sync", "transactions_sync"),
		("POST", "/webhook_verification_key/get", "verification_key_get"),
	)

	def __init__(self, data_dir):
		super().__init__(data_dir)
		self._signing_key = ec.generate_private_key(ec.SECP256R1())
		self.key_id = uuid.uuid4().hex
		self._mutations: dict[str, int] = {}

	def reset_state(self) -> None:
		with self._lock:
			self._mutations.clear()

	def mutate_during_pagination(self, item_id: str, times: int = 1) -> None:
		"""The item's next `times` calls in the middle of a /transactions/sync loop find its data changed."""
		with self._lock:
			self._mutations[item_id] = times

	def _mutated(self, item_id: str) -> bool:
		with self._lock:
			left = self._mutations.get(item_id, 0)
			if left:
				self._mutations[item_id] = left - 1
			return bool(left)

	# -- helpers ---------------------------------------------------------------------------------
	def _item_dir(self, item_id: str) -> Path:
		return self.data_dir / "items" / item_id

	def _authorised(self, request: Request) -> tuple[dict, Response | None]:
		body = request.json() or {}
		if not body.get("client_id") or not body.get("secret"):
			return body, plaid_error("INVALID_INPUT", "INVALID_API_KEYS", "client_id and secret are required")
		return body, None

	def _item(self, request: Request) -> tuple[dict, str | None, Response | None]:
		body, error = self._authorised(request)
		if error:
			return body, None, error
		token = body.get("access_token") or ""
		item_id = token.removeprefix(ACCESS_PREFIX)
		if not token.startswith(ACCESS_PREFIX) or not self._item_dir(item_id).is_dir():
			return body, None, plaid_error("INVALID_INPUT", "INVALID_ACCESS_TOKEN", "unknown access token")
		error_file = self._item_dir(item_id) / "error.json"
		if error_file.exists():
			err = json.loads(error_file.read_text())
			return body, None, plaid_error(err["error_type"], err["error_code"], err["error_message"])
		return body, item_id, None

	# -- endpoints -------------------------------------------------------------------------------
	def link_token_create(self, request: Request) -> Response:
		body, error = self._authorised(request)
		if error:
			return error
		mode = "update" if body.get("access_token") else "create"
		return Response(
			200,
			{
				"link_token": f"link-emulator-{mode}-{uuid.uuid4().hex}",
				"expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 4 * 3600)),
				"request_id": uuid.uuid4().hex[:12],
			},
		)

	def public_token_exchange(self, request: Request) -> Response:
		body, error = self._authorised(request)
		if error:
			return error
		token = body.get("public_token") or ""
		item_id = token.removeprefix(PUBLIC_PREFIX)
		if not token.startswith(PUBLIC_PREFIX) or not self._item_dir(item_id).is_dir():
			return plaid_error("INVALID_INPUT", "INVALID_PUBLIC_TOKEN", "unknown public token")
		return Response(
			200,
			{
				"access_token": ACCESS_PREFIX + item_id,
				"item_id": item_id,
				"request_id": uuid.uuid4().hex[:12],
			},
		)

	def item_get(self, request: Request) -> Response:
		_, item_id, error = self._item(request)
		return error or Response(200, self.read_json("items", item_id, "item.json"))

	def institution_get(self, request: Request) -> Response:
		body, error = self._authorised(request)
		if error:
			return error
		for item_dir in sorted((self.data_dir / "items").iterdir()):
			institution = json.loads((item_dir / "institution.json").read_text())
			if institution["institution"]["institution_id"] == body.get("institution_id"):
				return Response(200, institution)
		return plaid_error("INVALID_INPUT", "INVALID_INSTITUTION", "unknown institution_id")

	def accounts_get(self, request: Request) -> Response:
		_, item_id, error = self._item(request)
		return error or Response(200, self.read_json("items", item_id, "accounts.json"))

	def transactions_sync(self, request: Request) -> Response:
		"""Captured /transactions/sync pages, in file-name order, chained by their next_cursor. A call in
		the middle of a loop meets the mutation that mutate_during_pagination armed, if any."""
		body, item_id, error = self._item(request)
		if error:
			return error
		pages = [
			json.loads(p.read_text())
			for p in sorted((self._item_dir(item_id) / "transactions_sync").glob("*.json"))
		]
		cursor = body.get("cursor") or ""
		index = 0
		if cursor:
			cursors = [page["next_cursor"] for page in pages]
			if cursor not in cursors:
				return plaid_error("INVALID_INPUT", "INVALID_FIELD", f"cursor {cursor!r} is not valid")
			index = cursors.index(cursor) + 1
			if pages[index - 1]["has_more"] and self._mutated(item_id):
				return mutation_error()
		if index >= len(pages):
			return Response(
				200,
				{
					"added": [],
					"modified": [],
					"removed": [],
					"next_cursor": cursor,
					"has_more": False,
					"request_id": uuid.uuid4().hex[:12],
				},
			)
		return Response(200, pages[index])

	def verification_key_get(self, request: Request) -> Response:
		body, error = self._authorised(request)
		if error:
			return error
		if body.get("key_id") != self.key_id:
			return plaid_error("INVALID_INPUT", "INVALID_FIELD", "unknown key_id")
		numbers = self._signing_key.public_key().public_numbers()
		key = {
			"alg": "ES256",
			"created_at": 1560466150,
			"crv": "P-256",
			"expired_at": None,
			"kid": self.key_id,
			"kty": "EC",
			"use": "sig",
			"x": _b64url(numbers.x),
			"y": _b64url(numbers.y),
		}
		return Response(200, {"key": key, "request_id": uuid.uuid4().hex[:12]})

	# -- webhooks --------------------------------------------------------------------------------
	def sign_webhook(self, body: bytes, issued_at: float | None = None) -> str:
		"""The Plaid-Verification header Plaid would send with this body."""
		claims = {
			"iat": int(issued_at if issued_at is not None else time.time()),
			"request_body_sha256": hashlib.sha256(body).hexdigest(),
		}
		return jwt.encode(claims, self._signing_key, algorithm="ES256", headers={"kid": self.key_id})

	def send_webhook(self, url: str, payload: dict) -> requests.Response:
		body = json.dumps(payload).encode()
		return requests.post(
			url,
			data=body,
			headers={"Content-Type": "application/json", "Plaid-Verification": self.sign_webhook(body)},
			timeout=30,
		)

	def control(self, request: Request) -> Response:
		action = (request.method, request.path)
		if action == ("POST", "/_emulator/webhook"):
			spec = request.json()
			sent = self.send_webhook(spec["url"], spec["payload"])
			return Response(200, {"status": sent.status_code, "body": sent.text})
		if action == ("POST", "/_emulator/mutate_during_pagination"):
			spec = request.json()
			self.mutate_during_pagination(spec["item_id"], spec.get("times", 1))
			return Response(200, {"ok": True})
		return super().control(request)
