"""Amazon's Selling Partner API through python-amazon-sp-api 2.1, with a configurable endpoint and LWA URL.

What this module changes about how the library is used, and why:
  - Credentials go in explicitly and only from code (FromCodeCredentialProvider). By default the
    library falls back to environment variables, AWS Secrets Manager and ~/.config/python-sp-api,
    which on a shared bench would be another client's keys.
  - The LWA access token is this connection's own (_LwaSession). The library's AccessTokenClient
    keeps tokens in a module-level TTLCache keyed by an md5 of the refresh token alone, for a fixed
    SP_API_AUTH_CACHE_TTL (3200 s) whatever expires_in says: two connections with the same refresh
    token but different token URLs or client ids share a token, and a token that expires sooner
    stays cached after it is dead. It also has no token URL setting (scheme, host and path are class
    attributes).
  - The endpoint is set on each API client after construction: the constructors only take a
    Marketplaces member, and the SP_API_DEFAULT_MARKETPLACE environment variable overrides even that.
  - HTTP errors are translated by a response hook on the httpx client the API clients share. The
    library raises only when an error body is JSON with an "errors" key; an HTML 502 from a gateway
    comes back as an empty, successful ApiResponse.
"""

import gzip
import ssl
import time
from functools import cache

import httpx
from sp_api.api import Inventories, OrdersV0, Reports, Sellers
from sp_api.api.catalog_items.catalog_items_2022_04_01 import CatalogItemsV20220401
from sp_api.auth import AccessTokenResponse
from sp_api.base import ApiResponse
from sp_api.base._transport_httpx import HttpxTransport
from sp_api.base.credential_provider import FromCodeCredentialProvider
from sp_api.base.exceptions import SellingApiException

from kraal_connect.engine.errors import AuthenticationError, SyncError, TransientError, retry_after_seconds

REGION_ENDPOINTS = {
	"na": "https://sellingpartnerapi-na.amazon.com",
	"eu": "https://sellingpartnerapi-eu.amazon.com",
	"fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# An access token is renewed this long before Amazon says it expires.
TOKEN_MARGIN_SECONDS = 60


@cache
def _tls() -> ssl.SSLContext:
	"""One TLS context for every client: loading the CA bundle costs more than a request."""
	return httpx.create_ssl_context()


class NotFound(SyncError):
	"""SP-API answered 404 for one resource (an ASIN no longer in the catalog)."""


def _error_parts(response: httpx.Response) -> tuple[str, str]:
	"""(code, message) from SP-API's {"errors": [{code, message, details}]}; any other body is never
	quoted (it may echo what was sent), only the HTTP status is."""
	try:
		errors = response.json().get("errors") or [{}]
		first = errors[0]
		code = first.get("code") or str(response.status_code)
		message = " ".join(p for p in (first.get("message"), first.get("details")) if p)
		return code, message or response.reason_phrase
	except (ValueError, AttributeError, IndexError):
		return str(response.status_code), response.reason_phrase


def throttle_delay(headers: httpx.Headers) -> float | None:
	"""How long to wait after a 429: Retry-After when sent, else one request's worth of the rate limit."""
	explicit = retry_after_seconds(headers.get("Retry-After"))
	if explicit is not None:
		return explicit
	try:
		rate = float(headers.get("x-amzn-RateLimit-Limit", ""))
	except ValueError:
		return None
	return 1 / rate if rate > 0 else None


class _LwaSession:
	"""One connection's Login with Amazon access token, renewed shortly before it expires.

	Stands in for sp_api.auth.AccessTokenClient (see the module docstring); the API clients only
	call get_auth().
	"""

	def __init__(
		self,
		token_url: str,
		client_id: str,
		client_secret: str,
		refresh_token: str,
		http: httpx.Client,
	):
		self.token_url = token_url
		self._form = {
			"grant_type": "refresh_token",
			"refresh_token": refresh_token,
			"client_id": client_id,
			"client_secret": client_secret,
		}
		self._http = http
		self._token: AccessTokenResponse | None = None
		self._renew_at = 0.0

	def get_auth(self) -> AccessTokenResponse:
		if self._token is None or time.monotonic() >= self._renew_at:
			self._token = self._request_token()
			lifetime = int(self._token.expires_in or 0)
			self._renew_at = time.monotonic() + max(0, lifetime - TOKEN_MARGIN_SECONDS)
		return self._token

	def forget(self) -> None:
		"""SP-API refused the token: the next call asks LWA for a new one."""
		self._token = None

	def _request_token(self) -> AccessTokenResponse:
		try:
			response = self._http.post(self.token_url, data=self._form)
		except httpx.TransportError as exc:
			raise TransientError(f"Login with Amazon: network: {type(exc).__name__}") from None
		try:
			body = response.json()
		except ValueError:
			body = {}
		if response.status_code == 200 and body.get("access_token"):
			return AccessTokenResponse(**body)
		if response.status_code == 429 or response.status_code >= 500:
			raise TransientError(
				f"Login with Amazon answered {response.status_code}",
				retry_after=retry_after_seconds(response.headers.get("Retry-After")),
			)
		reason = body.get("error_description") or response.reason_phrase
		raise AuthenticationError(f"Login with Amazon refused the credentials: {body.get('error')}: {reason}")


class AmazonApi:
	"""The SP-API calls Kraal makes. Every call raises engine errors, never the library's."""

	def __init__(
		self,
		client_id: str,
		client_secret: str,
		refresh_token: str,
		region: str = "na",
		endpoint: str | None = None,
		token_url: str | None = None,
		timeout: float = 60,
	):
		if region not in REGION_ENDPOINTS:
			raise ValueError(f"SP-API region must be one of {sorted(REGION_ENDPOINTS)}, not {region!r}")
		if not (client_id and client_secret and refresh_token):
			raise AuthenticationError("the LWA client id, client secret and refresh token are all required")
		# Presigned report document URLs and LWA get plain requests; SP-API calls get the error hook.
		self._plain = httpx.Client(timeout=timeout, verify=_tls())
		self._sp = httpx.Client(
			timeout=timeout, verify=_tls(), event_hooks={"response": [self._raise_for_status]}
		)
		self._lwa = _LwaSession(
			token_url or LWA_TOKEN_URL, client_id, client_secret, refresh_token, self._plain
		)
		self.endpoint = (endpoint or REGION_ENDPOINTS[region]).rstrip("/")
		credentials = {
			"lwa_app_id": client_id,
			"lwa_client_secret": client_secret,
			"refresh_token": refresh_token,
		}

		def client(api_class):
			api = api_class(
				credentials=credentials,
				credential_providers=(FromCodeCredentialProvider,),
				auth_token_client_class=lambda **_: self._lwa,
				timeout=timeout,
				verify=_tls(),
			)
			api.endpoint = self.endpoint
			api._transport.close()
			api._transport = HttpxTransport(client=self._sp)
			return api

		self.sellers = client(Sellers)
		self.orders_api = client(OrdersV0)
		self.reports = client(Reports)
		self.catalog = client(CatalogItemsV20220401)
		self.inventories = client(Inventories)

	def close(self) -> None:
		self._sp.close()
		self._plain.close()

	# -- errors ----------------------------------------------------------------------------------
	def _raise_for_status(self, response: httpx.Response) -> None:
		if response.status_code < 400:
			return
		response.read()
		code, message = _error_parts(response)
		where = f"SP-API {response.request.method} {response.request.url.path}"
		status = response.status_code
		if status == 429:
			raise TransientError(
				f"{where} throttled: {message}", retry_after=throttle_delay(response.headers)
			)
		if status >= 500:
			raise TransientError(
				f"{where} answered {status} {code}: {message}",
				retry_after=retry_after_seconds(response.headers.get("Retry-After")),
			)
		if status in (401, 403):
			self._lwa.forget()
			if "has expired" in message:
				# A fresh access token fixes this; the retry asks LWA for one.
				raise TransientError(f"{where}: {message}", retry_after=0)
			raise AuthenticationError(f"{where} refused access: {code}: {message}")
		if status == 404:
			raise NotFound(f"{where}: {message}")
		raise SyncError(f"{where} answered {status} {code}: {message}")

	@staticmethod
	def _call(fn, *args, **kwargs) -> ApiResponse:
		try:
			return fn(*args, **kwargs)
		except httpx.TransportError as exc:
			raise TransientError(f"SP-API network: {type(exc).__name__}") from None
		except SellingApiException as exc:  # errors inside a 2xx body
			raise SyncError(
				f"SP-API error {getattr(exc, 'amzn_code', '')}: {getattr(exc, 'message', '')}"
			) from None

	# -- calls -----------------------------------------------------------------------------------
	def marketplaces(self) -> list[dict]:
		"""The marketplaces the seller participates in (getMarketplaceParticipations)."""
		participations = self._call(self.sellers.get_marketplace_participation).payload or []
		return [p for p in participations if (p.get("participation") or {}).get("isParticipating")]

	def orders(
		self,
		marketplace_ids: list[str],
		last_updated_after: str,
		next_token: str | None = None,
		page_size: int = 100,
	) -> tuple[list[dict], str | None]:
		"""One page of getOrders: orders updated at or after last_updated_after, and the NextToken."""
		params = {
			"MarketplaceIds": list(marketplace_ids),
			"LastUpdatedAfter": last_updated_after,
			"MaxResultsPerPage": page_size,
		}
		if next_token:
			params["NextToken"] = next_token
		response = self._call(self.orders_api.get_orders, **params)
		return _required(response, "Orders", "getOrders"), response.next_token

	def order_items(self, order_id: str, next_token: str | None = None) -> tuple[list[dict], str | None]:
		params = {"NextToken": next_token} if next_token else {}
		response = self._call(self.orders_api.get_order_items, order_id, **params)
		return _required(response, "OrderItems", "getOrderItems"), response.next_token

	def settlement_reports(
		self,
		marketplace_ids: list[str],
		created_since: str | None = None,
		next_token: str | None = None,
		page_size: int = 10,
	) -> tuple[list[dict], str | None]:
		"""One page of finished V2 settlement reports of these marketplaces, newest first (getReports).

		marketplace_ids is not optional: without it the library adds its default marketplace (US, or
		SP_API_DEFAULT_MARKETPLACE) and Amazon leaves out every other marketplace's settlements.
		"""
		if next_token:
			response = self._call(self.reports.get_reports, nextToken=next_token)
		else:
			params = {
				"reportTypes": [SETTLEMENT_REPORT],
				"processingStatuses": ["DONE"],
				"marketplaceIds": list(marketplace_ids),
				"pageSize": page_size,
			}
			if created_since:
				params["createdSince"] = created_since
			response = self._call(self.reports.get_reports, **params)
		return _required(response, "reports", "getReports"), response.next_token

	def report_document(self, document_id: str) -> str:
		"""A report's text: getReportDocument, then its presigned URL, gunzipped when Amazon says GZIP."""
		meta = self._call(self.reports.get_report_document, document_id).payload
		if not meta.get("url"):
			raise SyncError(f"SP-API getReportDocument {document_id} gave no url")
		try:
			response = self._plain.get(meta["url"])
		except httpx.TransportError as exc:
			raise TransientError(f"report document {document_id}: network: {type(exc).__name__}") from None
		if response.status_code != 200:
			# Presigned URLs expire after five minutes; retrying this call asks for a fresh one.
			raise TransientError(f"report document {document_id}: download answered {response.status_code}")
		content = response.content
		if (meta.get("compressionAlgorithm") or "").upper() == "GZIP":
			try:
				content = gzip.decompress(content)
			except (OSError, EOFError) as exc:
				raise SyncError(f"report document {document_id} is not valid gzip: {exc}") from None
		return _decode(content, response.charset_encoding)

	def catalog_item(self, asin: str, marketplace_id: str) -> dict | None:
		"""getCatalogItem (2022-04-01) with summaries and identifiers; None when Amazon has no such ASIN."""
		try:
			response = self._call(
				self.catalog.get_catalog_item,
				asin,
				marketplaceIds=[marketplace_id],
				includedData=["summaries", "identifiers"],
			)
		except NotFound:
			return None
		return response.payload

	def inventory_summaries(
		self, marketplace_id: str, next_token: str | None = None
	) -> tuple[list[dict], str | None]:
		"""One page of getInventorySummaries for a marketplace, with inventoryDetails."""
		params = {
			"granularityType": "Marketplace",
			"granularityId": marketplace_id,
			"marketplaceIds": marketplace_id,
			"details": True,
		}
		if next_token:
			params["nextToken"] = next_token
		response = self._call(self.inventories.get_inventory_summary_marketplace, **params)
		return _required(response, "inventorySummaries", "getInventorySummaries"), response.next_token


def _required(response: ApiResponse, key: str, operation: str) -> list[dict]:
	value = (response.payload or {}).get(key)
	if value is None:
		raise SyncError(f"SP-API {operation} answered without '{key}'")
	return value


def _decode(content: bytes, charset: str | None) -> str:
	"""Report text in the charset S3 names, else UTF-8; Amazon's older flat files are Windows-1252."""
	if charset:
		return content.decode(charset, errors="replace")
	try:
		return content.decode("utf-8")
	except UnicodeDecodeError:
		return content.decode("cp1252", errors="replace")
