"""An Amazon Selling Partner API emulator serving a dataset laid out as fixtures/amazon/README.md describes.

On top of the base fault injection it has what makes SP-API particular:
  - LWA: POST /auth/o2/token trades a refresh token for an access token that expires on the
    emulator's clock; every operation wants a live one in x-amz-access-token (403 otherwise).
  - The website authorization workflow: GET /apps/authorize/consent is Seller Central's consent page,
    already agreed to by the seller, which redirects to the redirect_uri with the state, the
    selling_partner_id and an spapi_oauth_code; LWA trades that code (once, within five minutes) for a
    refresh token of the seller.
  - A token bucket per operation with Amazon's published rate and burst. Every answer carries
    x-amzn-RateLimit-Limit; an empty bucket answers 429 QuotaExceeded.
  - Report documents: getReportDocument hands out a presigned-style URL on this emulator, which
    serves the stored flat file gzip'd, as Amazon's S3 bucket does.

Control endpoints besides the base ones:
  POST /_emulator/rate_limits   {"getOrders": {"rate": 0.0167, "burst": 1}}: set and refill buckets
  POST /_emulator/clock         {"advance": 60}: move the emulator's clock on (token expiry, refills)
  POST /_emulator/consent       {"deny": false, "selling_partner_id"?}: how the next consent pages are
                                answered: declined, or agreed to by this seller (default: lwa.json's)
  POST /_emulator/revoke        {"refresh_token"?}: that refresh token, or every one the workflow issued,
                                is refused by LWA from now on (the seller removed the app)
"""

import base64
import binascii
import gzip
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import wraps
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode

from emulators.base import Emulator, Request, Response

# Requests per second and burst, as Amazon's usage plans give them.
RATE_LIMITS = {
	"getMarketplaceParticipations": (0.016, 15),
	"getOrders": (0.0167, 20),
	"getOrderItems": (0.5, 30),
	"getReports": (0.0222, 10),
	"getReportDocument": (0.0167, 15),
	"getCatalogItem": (2.0, 2),
	"getInventorySummaries": (2.0, 2),
}
ACCESS_PREFIX = "Atza|emulator-"
REFRESH_PREFIX = "Atzr|emulator-"
# An spapi_oauth_code works this long after the consent, and once.
CODE_SECONDS = 300
DOCUMENT_PATH = "/tortuga/"


def sp_error(status: int, code: str, message: str, details: str = "") -> Response:
	return Response(status, {"errors": [{"code": code, "message": message, "details": details}]})


def lwa_error(status: int, error: str, description: str) -> Response:
	return Response(status, {"error": error, "error_description": description})


def invalid_input(message: str) -> Response:
	return sp_error(400, "InvalidInput", message)


def _iso(moment: datetime) -> str:
	return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: str) -> datetime:
	"""ISO 8601 as SP-API writes it ("Z" suffix included, which Python 3.10 cannot read)."""
	moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
	return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _page_token(state: dict) -> str:
	return base64.urlsafe_b64encode(json.dumps(state, sort_keys=True).encode()).decode()


def _page_state(token: str) -> dict | None:
	try:
		state = json.loads(base64.urlsafe_b64decode(token.encode()))
	except (ValueError, binascii.Error):
		return None
	return state if isinstance(state, dict) else None


def _listed(request: Request, name: str) -> list[str]:
	"""A list parameter, sent comma-separated or repeated."""
	return [v for raw in request.query.get(name, []) for v in raw.split(",") if v]


@dataclass
class Bucket:
	rate: float
	burst: int
	tokens: float
	updated: float

	def take(self, now: float) -> bool:
		self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
		self.updated = now
		# A client that waits exactly 1/rate must find a whole token despite float rounding.
		if self.tokens >= 1 - 1e-9:
			self.tokens = max(0.0, self.tokens - 1)
			return True
		return False


def operation(name: str):
	"""An SP-API operation: a live access token, then a token from the operation's bucket."""

	def decorate(handler):
		@wraps(handler)
		def serve(self: "AmazonEmulator", request: Request) -> Response:
			response = self._admit(request, name) or handler(self, request)
			rate = self._buckets[name].rate
			response.headers.setdefault("x-amzn-RateLimit-Limit", f"{rate:g}")
			response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
			return response

		return serve

	return decorate


class AmazonEmulator(Emulator):
	routes = (
		("POST", "/auth/o2/token", "token"),
		("GET", "/apps/authorize/consent", "consent"),
		("GET", "/sellers/v1/marketplaceParticipations", "marketplace_participations"),
		("GET", "/orders/v0/orders", "get_orders"),
		("GET", r"/orders/v0/orders/(?P<order_id>[^/]+)/orderItems", "get_order_items"),
		("GET", "/reports/2021-06-30/reports", "get_reports"),
		("GET", r"/reports/2021-06-30/documents/(?P<document_id>[^/]+)", "get_report_document"),
		("GET", DOCUMENT_PATH + r"(?P<document_id>[^/]+)", "download_document"),
		("GET", r"/catalog/2022-04-01/items/(?P<asin>[^/]+)", "get_catalog_item"),
		("GET", "/fba/inventory/v1/summaries", "get_inventory_summaries"),
	)

	def __init__(self, data_dir, clock: Callable[[], float] = time.time):
		super().__init__(data_dir)
		self._clock = clock
		self._state_lock = threading.Lock()
		self.reset_state()

	# -- state -----------------------------------------------------------------------------------
	def reset_state(self) -> None:
		with self._state_lock:
			# Amazon's page sizes for the lists it pages itself; tests may lower them.
			self.order_items_page_size = 100
			self.inventory_page_size = 50
			self._skew = 0.0
			self._access_tokens: dict[str, float] = {}  # access token -> expiry on the emulator clock
			self._codes: dict[str, tuple[str, str, float]] = {}  # code -> client id, redirect_uri, issued at
			self._issued_refresh: dict[str, str] = {}  # refresh token the workflow issued -> client id
			self.deny_consent = False
			self.consenting_seller: str | None = None
			self._buckets = {
				name: Bucket(rate, burst, float(burst), self.now())
				for name, (rate, burst) in RATE_LIMITS.items()
			}

	def now(self) -> float:
		return self._clock() + self._skew

	def advance(self, seconds: float) -> None:
		"""Move the emulator's clock on: buckets refill and access tokens age, without waiting."""
		with self._state_lock:
			self._skew += seconds

	def set_rate_limit(self, name: str, rate: float | None = None, burst: int | None = None) -> None:
		"""Change an operation's usage plan; its bucket starts full."""
		with self._state_lock:
			bucket = self._buckets[name]
			bucket.rate = bucket.rate if rate is None else float(rate)
			bucket.burst = bucket.burst if burst is None else int(burst)
			bucket.tokens, bucket.updated = float(bucket.burst), self.now()

	def control(self, request: Request) -> Response:
		action = (request.method, request.path)
		if action == ("POST", "/_emulator/rate_limits"):
			for name, plan in (request.json() or {}).items():
				if name not in self._buckets:
					return Response(400, {"error": f"unknown operation {name!r}"})
				self.set_rate_limit(name, plan.get("rate"), plan.get("burst"))
			return Response(200, {"ok": True})
		if action == ("POST", "/_emulator/clock"):
			self.advance(float((request.json() or {}).get("advance", 0)))
			return Response(200, {"ok": True})
		if action == ("POST", "/_emulator/consent"):
			spec = request.json() or {}
			with self._state_lock:
				self.deny_consent = bool(spec.get("deny"))
				self.consenting_seller = spec.get("selling_partner_id")
			return Response(200, {"ok": True})
		if action == ("POST", "/_emulator/revoke"):
			self.revoke((request.json() or {}).get("refresh_token"))
			return Response(200, {"ok": True})
		return super().control(request)

	def _admit(self, request: Request, name: str) -> Response | None:
		token = request.headers.get("x-amz-access-token") or ""
		with self._state_lock:
			expiry = self._access_tokens.get(token)
			if expiry is None:
				return sp_error(
					403,
					"Unauthorized",
					"Access to requested resource is denied.",
					"The access token you provided is revoked, malformed or invalid.",
				)
			if self.now() >= expiry:
				return sp_error(
					403,
					"Unauthorized",
					"Access to requested resource is denied.",
					"The access token you provided has expired.",
				)
			if not self._buckets[name].take(self.now()):
				return sp_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
		return None

	# -- dataset ---------------------------------------------------------------------------------
	def _bodies(self, folder: str) -> list[dict]:
		return [json.loads(p.read_text()) for p in sorted((self.data_dir / folder).glob("*.json"))]

	def _orders(self) -> list[dict]:
		"""Every order of the captured getOrders pages; a later capture of an order replaces an earlier."""
		orders: dict[str, dict] = {}
		for body in self._bodies("orders"):
			for order in body["payload"]["Orders"]:
				orders[order["AmazonOrderId"]] = order
		return sorted(orders.values(), key=lambda o: (_instant(o["LastUpdateDate"]), o["AmazonOrderId"]))

	def _reports(self) -> list[dict]:
		reports: dict[str, dict] = {}
		for body in self._bodies("reports"):
			for report in body["reports"]:
				reports[report["reportId"]] = report
		return sorted(reports.values(), key=lambda r: _instant(r["createdTime"]), reverse=True)

	def _document_file(self, document_id: str) -> Path | None:
		path = self.data_dir / "documents" / f"{document_id}.txt"
		return path if path.parent == self.data_dir / "documents" and path.is_file() else None

	# -- Seller Central's consent -----------------------------------------------------------------
	def consent(self, request: Request) -> Response:
		"""The consent page, answered at once as set by /_emulator/consent. Not emulated: the app's list
		of registered redirect URIs (any redirect_uri given is taken; Amazon's default is not known)."""
		lwa = self.read_json("lwa.json")
		app = lwa["applications"].get(request.arg("application_id") or "")
		redirect_uri, state = request.arg("redirect_uri"), request.arg("state") or ""
		if app is None or not redirect_uri:
			return Response(
				400,
				"MD9100: the application or its redirect URI is not known",
				{"Content-Type": "text/plain"},
			)
		if app.get("draft") and request.arg("version") != "beta":
			return Response(
				400,
				"MD1000: a draft application is authorized with version=beta",
				{"Content-Type": "text/plain"},
			)
		with self._state_lock:
			denied, seller = self.deny_consent, self.consenting_seller or lwa["selling_partner_id"]
			if not denied:
				code = "ANemu" + secrets.token_hex(10)
				self._codes[code] = (app["client_id"], redirect_uri, self.now())
		if denied:
			query = {"error": "access_denied", "error_description": "The seller declined", "state": state}
		else:
			query = {"state": state, "selling_partner_id": seller, "spapi_oauth_code": code}
		return Response(302, "", {"Location": f"{redirect_uri}?{urlencode(query)}"})

	def revoke(self, refresh_token: str | None = None) -> None:
		"""LWA refuses the refresh token (every one the workflow issued when None) from now on."""
		with self._state_lock:
			for token in [refresh_token] if refresh_token else list(self._issued_refresh):
				self._issued_refresh.pop(token, None)

	# -- Login with Amazon -----------------------------------------------------------------------
	def token(self, request: Request) -> Response:
		form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
		lwa = self.read_json("lwa.json")
		client_id = form.get("client_id", "")
		client = lwa["clients"].get(client_id)
		if not client or not secrets.compare_digest(client["client_secret"], form.get("client_secret", "")):
			return lwa_error(401, "invalid_client", "Client authentication failed")
		grant = form.get("grant_type")
		with self._state_lock:
			if grant == "authorization_code":
				issued = self._codes.pop(form.get("code", ""), None)
				if (
					issued is None
					or issued[0] != client_id
					or issued[1] != form.get("redirect_uri", issued[1])
					or self.now() - issued[2] > CODE_SECONDS
				):
					return lwa_error(
						400, "invalid_grant", "The request has an invalid grant parameter : code"
					)
				refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(24)
				self._issued_refresh[refresh_token] = client_id
			elif grant == "refresh_token":
				refresh_token = form.get("refresh_token")
				if (
					refresh_token not in client["refresh_tokens"]
					and self._issued_refresh.get(refresh_token) != client_id
				):
					return lwa_error(
						400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
					)
			else:
				return lwa_error(
					400, "unsupported_grant_type", "The authorization grant type is not supported"
				)
			access_token = ACCESS_PREFIX + secrets.token_urlsafe(24)
			self._access_tokens[access_token] = self.now() + lwa["expires_in"]
		return Response(
			200,
			{
				"access_token": access_token,
				"refresh_token": refresh_token,
				"token_type": "bearer",
				"expires_in": lwa["expires_in"],
			},
		)

	# -- Sellers ---------------------------------------------------------------------------------
	@operation("getMarketplaceParticipations")
	def marketplace_participations(self, request: Request) -> Response:
		return Response(200, self.read_json("sellers", "marketplaceParticipations.json"))

	# -- Orders ----------------------------------------------------------------------------------
	@operation("getOrders")
	def get_orders(self, request: Request) -> Response:
		marketplaces = _listed(request, "MarketplaceIds")
		if not marketplaces:
			return invalid_input("MarketplaceIds is required.")
		token = request.arg("NextToken")
		if token:
			state = _page_state(token)
			if state is None or "offset" not in state:
				return invalid_input("Invalid NextToken.")
		else:
			updated, created = request.arg("LastUpdatedAfter"), request.arg("CreatedAfter")
			if not (updated or created):
				return invalid_input("Either CreatedAfter or LastUpdatedAfter must be specified.")
			try:
				size = int(request.arg("MaxResultsPerPage", "100"))
				_instant(updated or created)
			except ValueError:
				return invalid_input("Invalid date or MaxResultsPerPage.")
			if not 1 <= size <= 100:
				return invalid_input("MaxResultsPerPage must be between 1 and 100.")
			state = {"offset": 0, "size": size, "updated": updated, "created": created}
		orders = [
			o
			for o in self._orders()
			if o["MarketplaceId"] in marketplaces
			and (not state["updated"] or _instant(o["LastUpdateDate"]) >= _instant(state["updated"]))
			and (not state["created"] or _instant(o["PurchaseDate"]) >= _instant(state["created"]))
		]
		start, end = state["offset"], state["offset"] + state["size"]
		payload = {"Orders": orders[start:end]}
		if end < len(orders):
			payload["NextToken"] = _page_token({**state, "offset": end})
		# Amazon answers up to two minutes before now, the newest it guarantees to be complete.
		until = _iso(datetime.fromtimestamp(self.now(), timezone.utc) - timedelta(minutes=2))
		payload["LastUpdatedBefore" if state["updated"] else "CreatedBefore"] = until
		return Response(200, {"payload": payload})

	@operation("getOrderItems")
	def get_order_items(self, request: Request) -> Response:
		order_id = unquote(request.params["order_id"])
		path = self.data_dir / "order_items" / f"{order_id}.json"
		if path.parent != self.data_dir / "order_items" or not path.is_file():
			return sp_error(404, "NotFound", f"Invalid AmazonOrderId: {order_id}")
		payload = json.loads(path.read_text())["payload"]
		items = payload["OrderItems"]
		offset = 0
		if request.arg("NextToken"):
			state = _page_state(request.arg("NextToken"))
			if state is None or state.get("order") != order_id:
				return invalid_input("Invalid NextToken.")
			offset = state["offset"]
		end = offset + self.order_items_page_size
		page = {**payload, "OrderItems": items[offset:end]}
		if end < len(items):
			page["NextToken"] = _page_token({"order": order_id, "offset": end})
		return Response(200, {"payload": page})

	# -- Reports ---------------------------------------------------------------------------------
	@operation("getReports")
	def get_reports(self, request: Request) -> Response:
		token = request.arg("nextToken")
		if token:
			if set(request.query) != {"nextToken"}:
				return invalid_input("nextToken must be the only parameter.")
			state = _page_state(token)
			if state is None or "offset" not in state:
				return invalid_input("Invalid nextToken.")
		else:
			types = _listed(request, "reportTypes")
			if not types:
				return invalid_input("Either reportTypes or nextToken is required.")
			try:
				size = int(request.arg("pageSize", "10"))
				since, until = request.arg("createdSince"), request.arg("createdUntil")
				for moment in filter(None, (since, until)):
					_instant(moment)
			except ValueError:
				return invalid_input("Invalid createdSince, createdUntil or pageSize.")
			if not 1 <= size <= 100:
				return invalid_input("pageSize must be between 1 and 100.")
			state = {
				"offset": 0,
				"size": size,
				"types": types,
				"statuses": _listed(request, "processingStatuses"),
				"marketplaces": _listed(request, "marketplaceIds"),
				"since": since,
				"until": until,
			}
		reports = [
			r
			for r in self._reports()
			if r["reportType"] in state["types"]
			and (not state["statuses"] or r["processingStatus"] in state["statuses"])
			and (not state["marketplaces"] or set(r.get("marketplaceIds", [])) & set(state["marketplaces"]))
			and (not state["since"] or _instant(r["createdTime"]) >= _instant(state["since"]))
			and (not state["until"] or _instant(r["createdTime"]) <= _instant(state["until"]))
		]
		start, end = state["offset"], state["offset"] + state["size"]
		body = {"reports": reports[start:end]}
		if end < len(reports):
			body["nextToken"] = _page_token({**state, "offset": end})
		return Response(200, body)

	@operation("getReportDocument")
	def get_report_document(self, request: Request) -> Response:
		document_id = unquote(request.params["document_id"])
		if not self._document_file(document_id):
			return sp_error(404, "NotFound", f"Report document {document_id} not found.")
		expires = int(self.now()) + 300
		return Response(
			200,
			{
				"reportDocumentId": document_id,
				"url": f"{self.url}{DOCUMENT_PATH}{document_id}?X-Amz-Expires=300&expires={expires}",
				"compressionAlgorithm": "GZIP",
			},
		)

	def download_document(self, request: Request) -> Response:
		"""The presigned URL: no access token, no SP-API rate limit, a gzip'd flat file."""
		path = self._document_file(unquote(request.params["document_id"]))
		if not path:
			return Response(
				404,
				b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
				{"Content-Type": "application/xml"},
			)
		return Response(200, gzip.compress(path.read_bytes()), {"Content-Type": "text/plain"})

	# -- Catalog Items ---------------------------------------------------------------------------
	@operation("getCatalogItem")
	def get_catalog_item(self, request: Request) -> Response:
		asin = unquote(request.params["asin"])
		marketplaces = _listed(request, "marketplaceIds")
		if not marketplaces:
			return invalid_input("marketplaceIds is required.")
		path = self.data_dir / "catalog" / f"{asin}.json"
		if path.parent != self.data_dir / "catalog" or not path.is_file():
			return sp_error(
				404,
				"NotFound",
				f"Requested item '{asin}' not found in marketplace(s) {','.join(marketplaces)}.",
			)
		return Response(200, json.loads(path.read_text()))

	# -- FBA Inventory ---------------------------------------------------------------------------
	@operation("getInventorySummaries")
	def get_inventory_summaries(self, request: Request) -> Response:
		if request.arg("granularityType") != "Marketplace" or not request.arg("granularityId"):
			return invalid_input("granularityType must be Marketplace and granularityId is required.")
		marketplace = request.arg("granularityId")
		if marketplace not in _listed(request, "marketplaceIds"):
			return invalid_input("marketplaceIds must name the granularityId marketplace.")
		path = self.data_dir / "inventory" / f"{marketplace}.json"
		summaries = json.loads(path.read_text())["payload"]["inventorySummaries"] if path.is_file() else []
		offset = 0
		if request.arg("nextToken"):
			state = _page_state(request.arg("nextToken"))
			if state is None or state.get("marketplace") != marketplace:
				return invalid_input("Invalid nextToken.")
			offset = state["offset"]
		end = offset + self.inventory_page_size
		page = summaries[offset:end]
		if request.arg("details") != "true":
			page = [{k: v for k, v in s.items() if k != "inventoryDetails"} for s in page]
		body = {
			"payload": {
				"granularity": {"granularityType": "Marketplace", "granularityId": marketplace},
				"inventorySummaries": page,
			}
		}
		if end < len(summaries):
			body["pagination"] = {"nextToken": _page_token({"marketplace": marketplace, "offset": end})}
		return Response(200, body)
