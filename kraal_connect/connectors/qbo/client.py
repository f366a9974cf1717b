"""QuickBooks Online through intuit-oauth (tokens) and python-quickbooks (the accounting API).

Both libraries take their addresses from settings: intuit-oauth reads the OpenID discovery document
of the environment, or of any URL given as the environment; python-quickbooks builds every call on
its api_url_v3. A base URL (the emulator) replaces both.

Neither library sets a timeout on its requests; both send them through a requests.Session that is
ours to give (python-quickbooks' session attribute; intuit-oauth's AuthClient is itself the session),
so each session here adds one to every call it makes.
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import (
	AuthorizationException,
	ObjectNotFoundException,
	QuickbooksException,
)

from kraal_connect.engine.errors import (
	AuthenticationError,
	ConflictError,
	RecordError,
	SyncError,
	TransientError,
	retry_after_seconds,
)

ENVIRONMENTS = ("sandbox", "production")
MINOR_VERSION = 75
MAX_RESULTS = 1000
BATCH_LIMIT = 30
STALE_OBJECT = 5010
# Records QBO makes inactive instead of deleting: its SELECT leaves inactive ones out unless the WHERE
# names Active, yet transactions keep pointing at them, so every query of these asks for both.
NAME_LISTS = frozenset({"Account", "Customer", "Vendor", "Item", "Term", "TaxCode", "TaxRate"})
_NAMES_ACTIVE = re.compile(r"\bActive\s*(=|!=|IN\b)", re.IGNORECASE)
# The GeneralLedger columns read: a line's date, its transaction (type and id), number and amounts.
LEDGER_COLUMNS = "tx_date,txn_type,doc_num,debt_amt,credt_amt"


@dataclass(frozen=True)
class Tokens:
	access_token: str
	refresh_token: str
	# Seconds from issue, as Intuit sends them (an hour; about a hundred days for the refresh token).
	expires_in: int | None = None
	refresh_expires_in: int | None = None


class StaleObjectError(RecordError):
	"""QBO's 5010: the SyncToken sent is not the object's current one."""


class NotFoundError(RecordError):
	"""QBO's 610: no such object (deleted, or never there)."""


class _AccessTokenRejected(Exception):
	"""HTTP 401 from the accounting API: the access token expired or was revoked."""


_NETWORK_ERRORS = (requests.Timeout, requests.ConnectionError)


def _network_error(what: str, exc: Exception) -> TransientError:
	return TransientError(f"network: could not reach {what} ({type(exc).__name__})")


class _DefaultTimeout:
	"""A requests.Session whose calls time out after self.timeout seconds unless told otherwise."""

	timeout: float

	def request(self, method, url, **kwargs):
		kwargs.setdefault("timeout", self.timeout)
		return super().request(method, url, **kwargs)


class _AuthClient(_DefaultTimeout, AuthClient):
	"""intuit-oauth's AuthClient reads the discovery document and calls the token endpoint through
	itself (a requests.Session), with no timeout. It fetches Intuit's signing keys around the session,
	without one too, but only to check an id_token, which Intuit sends for the openid scope alone and
	Kraal asks for the accounting scope only."""

	def __init__(self, *args, timeout: float, **kwargs):
		self.timeout = timeout  # before AuthClient.__init__, which reads the discovery document
		super().__init__(*args, **kwargs)


def _decimal_default(value):
	if isinstance(value, Decimal):
		return float(value)
	raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json(body) -> str:
	return json.dumps(body, default=_decimal_default, sort_keys=True)


def _request_id(operation: str, entity: str, body) -> str:
	"""Same request, same id: QBO answers a repeated requestid with the first answer, so a call
	the engine retries after a timeout cannot create the object twice."""
	return hashlib.sha256(f"{operation}:{entity}:{_json(body)}".encode()).hexdigest()[:36]


def _fault_text(response: requests.Response) -> str:
	"""The messages of QuickBooks' Fault; any other body is never quoted (it may echo what was sent),
	only the HTTP status is."""
	try:
		body = response.json()
	except ValueError:
		return f"HTTP {response.status_code}"
	fault = (body.get("Fault") or body.get("fault") or {}) if isinstance(body, dict) else {}
	errors = fault.get("Error") or fault.get("error") or []
	return (
		"; ".join(str(e.get("Message") or e.get("message")) for e in errors) or f"HTTP {response.status_code}"
	)


class QboOAuth:
	"""The OAuth 2.0 authorization-code flow through intuit-oauth's AuthClient."""

	def __init__(
		self,
		client_id: str,
		client_secret: str,
		redirect_uri: str,
		environment: str = "sandbox",
		base_url: str | None = None,
		timeout: float = 60,
	):
		if environment not in ENVIRONMENTS:
			raise ValueError(f"QuickBooks environment must be one of {ENVIRONMENTS}, not {environment!r}")
		self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
		self.environment, self.base_url, self.timeout = environment, base_url, timeout
		# AuthClient takes a discovery document URL in place of the environment name.
		self.discovery = (
			f"{base_url.rstrip('/')}/.well-known/openid_configuration" if base_url else environment
		)
		self._client: AuthClient | None = None

	@property
	def client(self) -> AuthClient:
		if self._client is None:
			try:
				self._client = _AuthClient(
					self.client_id,
					self.client_secret,
					self.redirect_uri,
					self.discovery,
					timeout=self.timeout,
				)
			except AuthClientError as exc:
				raise TransientError(f"Intuit's OpenID discovery answered {exc.status_code}") from None
			except _NETWORK_ERRORS as exc:
				raise _network_error("Intuit's OpenID discovery", exc) from None
		return self._client

	def authorization_url(self, state: str) -> str:
		"""Where to send the user to connect a company; the callback must check `state` comes back."""
		return self.client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)

	def exchange_code(self, code: str, realm_id: str) -> Tokens:
		return self._tokens(self.client.get_bearer_token, code, realm_id=realm_id)

	def refresh(self, refresh_token: str) -> Tokens:
		"""New tokens. Intuit rotates refresh tokens: the one passed in may stop working now."""
		return self._tokens(self.client.refresh, refresh_token=refresh_token)

	def _tokens(self, fn, *args, **kwargs) -> Tokens:
		client = self.client
		try:
			fn(*args, **kwargs)
		except AuthClientError as exc:
			raise self._translate(exc) from None
		except _NETWORK_ERRORS as exc:
			raise _network_error("Intuit's token endpoint", exc) from None
		return Tokens(
			access_token=client.access_token,
			refresh_token=client.refresh_token,
			expires_in=client.expires_in,
			refresh_expires_in=client.x_refresh_token_expires_in,
		)

	@staticmethod
	def _translate(exc: AuthClientError) -> SyncError:
		if exc.status_code == 429 or exc.status_code >= 500:
			return TransientError(
				f"Intuit's token endpoint answered {exc.status_code}",
				retry_after_seconds(exc.headers.get("Retry-After")),
			)
		try:
			error = exc.response.json().get("error", "")
		except ValueError:
			error = ""
		if error == "invalid_grant":
			return AuthenticationError(
				"QuickBooks no longer accepts the stored authorization (invalid_grant); connect the company again"
			)
		if error == "invalid_client" or exc.status_code == 401:
			return AuthenticationError("Intuit rejected the app's client id and secret")
		return SyncError(f"Intuit's token endpoint answered {exc.status_code}: {error or 'no reason given'}")


class _Session(_DefaultTimeout, requests.Session):
	"""What python-quickbooks wants of its session: request() and the current access token."""

	def __init__(self, access_token: str, timeout: float):
		super().__init__()
		self.access_token = access_token
		self.timeout = timeout


class _QuickBooks(QuickBooks):
	"""python-quickbooks with its API base URL set, and HTTP status read before it parses the body."""

	def process_request(self, request_type, url, headers="", params="", data=""):
		response = super().process_request(request_type, url, headers=headers, params=params, data=data)
		status = response.status_code
		if status == 401:
			raise _AccessTokenRejected()
		if status == 403:
			raise AuthenticationError(
				f"QuickBooks refused access to company {self.company_id}: {_fault_text(response)}"
			)
		if status == 429 or status >= 500:
			raise TransientError(
				f"QuickBooks answered {status}: {_fault_text(response)}",
				retry_after_seconds(response.headers.get("Retry-After")),
			)
		return response


class QboApi:
	"""The QuickBooks calls Kraal makes for one company (realm), at the environment and base URL of
	its QboOAuth. Every call raises engine errors, and times out after `timeout` seconds.

	An access token that QBO rejects is refreshed once and the call made again; the new tokens go to
	on_tokens at once, so the site can store the rotated refresh token in the same transaction.
	"""

	def __init__(
		self,
		oauth: QboOAuth,
		realm_id: str,
		tokens: Tokens,
		on_tokens: Callable[[Tokens], None] | None = None,
		timeout: float = 60,
	):
		self.oauth, self.realm_id, self.tokens, self.on_tokens = oauth, realm_id, tokens, on_tokens
		self.qb = _QuickBooks(company_id=realm_id, minorversion=MINOR_VERSION, use_decimal=True)
		self.qb.sandbox = oauth.environment == "sandbox"
		if oauth.base_url:
			self.qb.api_url_v3 = self.qb.sandbox_api_url_v3 = f"{oauth.base_url.rstrip('/')}/v3"
		self.qb.session = _Session(tokens.access_token or "", timeout)

	# -- plumbing --------------------------------------------------------------------------------
	def _call(self, fn, *args, **kwargs):
		if not self.qb.session.access_token:
			self._refresh()
		try:
			return self._translated(fn, *args, **kwargs)
		except _AccessTokenRejected:
			self._refresh()
		try:
			return self._translated(fn, *args, **kwargs)
		except _AccessTokenRejected:
			raise AuthenticationError(
				"QuickBooks rejected a freshly refreshed access token; connect the company again"
			) from None

	def _refresh(self) -> None:
		self.tokens = self.oauth.refresh(self.tokens.refresh_token)
		self.qb.session.access_token = self.tokens.access_token
		if self.on_tokens:
			self.on_tokens(self.tokens)

	@staticmethod
	def _translated(fn, *args, **kwargs):
		try:
			return fn(*args, **kwargs)
		except _NETWORK_ERRORS as exc:
			raise _network_error("QuickBooks", exc) from None
		except QuickbooksException as exc:
			detail = f"{exc.message} ({exc.detail})" if exc.detail else exc.message
			if exc.error_code == STALE_OBJECT:
				raise StaleObjectError(f"QuickBooks 5010: {detail}") from None
			if isinstance(exc, ObjectNotFoundException):
				raise NotFoundError(f"QuickBooks {exc.error_code}: {detail}") from None
			# Validation (2000-4999) and business rules (6000-6999): the object sent.
			if 2000 <= int(exc.error_code or 0) < 10000:
				raise RecordError(f"QuickBooks {exc.error_code}: {detail}") from None
			if isinstance(exc, AuthorizationException):
				raise AuthenticationError(f"QuickBooks {exc.error_code}: {detail}") from None
			raise SyncError(f"QuickBooks {exc.error_code}: {detail}") from None

	def _company_url(self, path: str) -> str:
		return f"{self.qb.api_url}/company/{self.realm_id}/{path}"

	# -- reading ---------------------------------------------------------------------------------
	def query(
		self,
		entity: str,
		start_position: int = 1,
		max_results: int = MAX_RESULTS,
		order_by: str = "Id",
		where: str = "",
	) -> list[dict]:
		"""One page of SELECT * FROM <entity> (a name list's inactive records too); positions count
		from 1."""
		body = self._select(entity, start_position, max_results, order_by, where)
		return list(body["QueryResponse"].get(entity, []))

	def changed_since(
		self, entity: str, since: datetime, start_position: int = 1, max_results: int = MAX_RESULTS
	) -> tuple[list[dict], str]:
		"""One page of the records of an entity changed at or after a time, the latest change first,
		and the time QBO answered: what stands in for change data capture further back than its 30
		days. Deleted records are not in it."""
		where = f"MetaData.LastUpdatedTime >= '{since.isoformat(timespec='seconds')}'"
		body = self._select(entity, start_position, max_results, "MetaData.LastUpdatedTime DESC", where)
		return list(body["QueryResponse"].get(entity, [])), body["time"]

	def _select(self, entity: str, start_position: int, max_results: int, order_by: str, where: str) -> dict:
		conditions = [where] if where else []
		if entity in NAME_LISTS and not _NAMES_ACTIVE.search(where):
			conditions.append("Active IN (true, false)")
		statement = f"SELECT * FROM {entity}"
		if conditions:
			statement += " WHERE " + " AND ".join(conditions)
		statement += f" ORDERBY {order_by} STARTPOSITION {start_position} MAXRESULTS {max_results}"
		return self._call(self.qb.query, statement)

	def read(self, entity: str, qbo_id: str) -> dict:
		return self._call(self.qb.get_single_object, entity, qbo_id)[entity]

	def company_info(self) -> dict:
		return self.read("CompanyInfo", self.realm_id)

	def home_currency(self) -> str:
		preferences = self.query("Preferences", max_results=1)
		return preferences[0]["CurrencyPrefs"]["HomeCurrency"]["value"]

	def first_transaction_date(self, entity: str) -> date | None:
		"""The earliest TxnDate of an entity, to know which fiscal years the history needs."""
		rows = self.query(entity, max_results=1, order_by="TxnDate")
		return date.fromisoformat(rows[0]["TxnDate"]) if rows else None

	def cdc(self, entities: list[str], changed_since: str) -> dict:
		"""What changed or was deleted since a time (at most 30 days back), all entities in one call."""
		return self._call(self.qb.change_data_capture, ",".join(entities), changed_since)

	def trial_balance(self, end_date: date, start_date: date | None = None) -> dict:
		params = {"end_date": end_date.isoformat(), "accounting_method": "Accrual"}
		if start_date:
			params["start_date"] = start_date.isoformat()
		return self._call(self.qb.get_report, "TrialBalance", params)

	def general_ledger(self, account_ids: list[str], start_date: date, end_date: date) -> dict:
		"""Each ledger line of these accounts in the period, with the transaction it belongs to."""
		params = {
			"account": ",".join(account_ids),
			"start_date": start_date.isoformat(),
			"end_date": end_date.isoformat(),
			"columns": LEDGER_COLUMNS,
			"accounting_method": "Accrual",
		}
		return self._call(self.qb.get_report, "GeneralLedger", params)

	def inventory_valuation(self, as_of: date) -> dict:
		"""Quantity on hand and its value at QBO's cost per Inventory item, as of a date."""
		return self._call(self.qb.get_report, "InventoryValuationSummary", {"report_date": as_of.isoformat()})

	# -- writing ---------------------------------------------------------------------------------
	def create(self, entity: str, body: dict) -> dict:
		return self._write(entity, body)

	def update(self, entity: str, body: dict, retry_stale: bool = True) -> dict:
		"""A sparse update; body carries Id and the SyncToken last seen. If someone changed the object
		since, it is read again and the update sent once more on its new SyncToken; a second stale
		answer is a ConflictError. Without retry_stale the first StaleObjectError is raised, for a
		caller whose conflict rule does not let its version win."""
		body = {**body, "sparse": True}
		try:
			return self._write(entity, body)
		except StaleObjectError:
			if not retry_stale:
				raise
			current = self.read(entity, body["Id"])
		try:
			return self._write(entity, {**body, "SyncToken": current["SyncToken"]})
		except StaleObjectError:
			raise ConflictError(
				f"QuickBooks {entity} {body['Id']} changed again while it was being updated; nothing was written"
			) from None

	def delete(self, entity: str, qbo_id: str, sync_token: str) -> dict:
		body = {"Id": qbo_id, "SyncToken": sync_token}
		request_id = _request_id("delete", entity, body)
		return self._call(self.qb.delete_object, entity, _json(body), request_id=request_id)[entity]

	def _write(self, entity: str, body: dict) -> dict:
		request_id = _request_id("write", entity, body)
		if body.get("Id"):
			answer = self._call(self.qb.update_object, entity, _json(body), request_id=request_id)
		else:
			answer = self._call(self.qb.create_object, entity, _json(body), request_id=request_id)
		return answer[entity]

	def batch(
		self, items: list[tuple[str, str, str, dict]], retry_stale: bool = True
	) -> dict[str, dict | SyncError]:
		"""Up to 30 (bId, operation, entity, body) in one request; the answer for each bId is the
		object written or the error it met. Updates that meet a stale SyncToken are read again and sent
		once more in a second batch; stale twice is a ConflictError. Without retry_stale they are
		answered with the StaleObjectError."""
		if len(items) > BATCH_LIMIT:
			raise ValueError(f"a QuickBooks batch holds at most {BATCH_LIMIT} items, not {len(items)}")
		results = self._batch(items)
		stale = [item for item in items if isinstance(results[item[0]], StaleObjectError)]
		if not stale or not retry_stale:
			return results
		current = {}
		for entity in {entity for _, _, entity, _ in stale}:
			ids = ", ".join(f"'{body['Id']}'" for _, _, e, body in stale if e == entity)
			for row in self.query(entity, where=f"Id IN ({ids})"):
				current[(entity, row["Id"])] = row["SyncToken"]
		again = [
			(bid, operation, entity, {**body, "SyncToken": current[(entity, body["Id"])]})
			for bid, operation, entity, body in stale
			if (entity, body["Id"]) in current
		]
		retried = self._batch(again) if again else {}
		for bid, _, entity, body in stale:
			outcome = retried.get(bid)
			if outcome is None or isinstance(outcome, StaleObjectError):
				outcome = ConflictError(
					f"QuickBooks {entity} {body['Id']} changed again while it was being updated"
				)
			results[bid] = outcome
		return results

	def _batch(self, items: list[tuple[str, str, str, dict]]) -> dict[str, dict | SyncError]:
		request = {
			"BatchItemRequest": [
				{"bId": bid, "operation": operation, entity: body} for bid, operation, entity, body in items
			]
		}
		answer = self._call(
			self.qb.post,
			self._company_url("batch"),
			_json(request),
			request_id=_request_id("batch", "", request),
		)
		entities = {bid: entity for bid, _, entity, _ in items}
		results: dict[str, dict | SyncError] = {}
		for item in answer["BatchItemResponse"]:
			bid = item["bId"]
			fault = item.get("Fault")
			if not fault:
				results[bid] = item[entities[bid]]
				continue
			error = (fault.get("Error") or [{}])[0]
			message = f"QuickBooks {error.get('code')}: {error.get('Message')} ({error.get('Detail')})"
			stale = str(error.get("code")) == str(STALE_OBJECT)
			results[bid] = StaleObjectError(message) if stale else RecordError(message)
		return results
