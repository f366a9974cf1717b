"""A QuickBooks Online emulator serving a dataset laid out as fixtures/qbo/README.md describes.

It answers what python-quickbooks and intuit-oauth send: the OpenID discovery document, the
consent redirect and the token endpoint (rotating refresh tokens), and under /v3/company/<realm>/
query (the SELECT subset, with paging), read, create / update (SyncToken checked), delete, cdc,
batch and the reports TrialBalance, GeneralLedger and InventoryValuationSummary, which are computed
from the emulator's own data as QBO books it. Writes live in memory on top of the dataset until
POST /_emulator/reset.

Control endpoints besides the base ones:
  POST /_emulator/expire_tokens   every access token issued so far stops working (as after an hour)
  POST /_emulator/webhook         {"url", "payload"}: POST the payload there, signed as Intuit signs
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests

from emulators.base import Emulator, Request, Response

CENT = Decimal("0.01")
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS = 1000
BATCH_LIMIT = 30
CDC_LOOKBACK = timedelta(days=30)
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8726400
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"

# Transactions can be deleted; names, accounts and items can only be made inactive.
TRANSACTIONS = frozenset(
	{
		"Invoice",
		"CreditMemo",
		"SalesReceipt",
		"Bill",
		"VendorCredit",
		"Payment",
		"BillPayment",
		"Deposit",
		"Transfer",
		"JournalEntry",
	}
)
# Records that are made inactive rather than deleted: a SELECT leaves the inactive ones out unless its
# WHERE names Active, although transactions still point at them.
NAME_LISTS = frozenset({"Account", "Customer", "Vendor", "Item", "Term", "TaxCode", "TaxRate"})
SALES_FORMS = {"Invoice": 1, "SalesReceipt": 1, "CreditMemo": -1}
PURCHASE_FORMS = {"Bill": 1, "VendorCredit": -1}
# What a payment's lines settle, and how each counts against it (a credit applied counts back).
RECEIPT_LINKS = {"Invoice": 1, "CreditMemo": -1, "JournalEntry": 1}
BILL_PAYMENT_LINKS = {"Bill": 1, "VendorCredit": -1, "JournalEntry": 1}
# How QBO's reports name each kind of transaction (a bill payment by how it was paid).
TXN_TYPES = {
	"Invoice": "Invoice",
	"CreditMemo": "Credit Memo",
	"SalesReceipt": "Sales Receipt",
	"Bill": "Bill",
	"VendorCredit": "Vendor Credit",
	"Payment": "Payment",
	"Deposit": "Deposit",
	"Transfer": "Transfer",
	"JournalEntry": "Journal Entry",
}
BILL_PAYMENT_TYPES = {"Check": "Bill Payment (Check)", "CreditCard": "Bill Payment (Credit Card)"}
# GeneralLedger columns the emulator answers: (title, type).
LEDGER_COLUMNS = {
	"tx_date": ("Date", "Date"),
	"txn_type": ("Transaction Type", "String"),
	"doc_num": ("Num", "String"),
	"debt_amt": ("Debit", "Money"),
	"credt_amt": ("Credit", "Money"),
}
REQUIRED = {
	"Account": ("Name", "AccountType"),
	"Customer": ("DisplayName",),
	"Vendor": ("DisplayName",),
	"Item": ("Name", "Type"),
	"Invoice": ("CustomerRef", "Line"),
	"CreditMemo": ("CustomerRef", "Line"),
	"SalesReceipt": ("Line",),
	"Bill": ("VendorRef", "Line"),
	"VendorCredit": ("VendorRef", "Line"),
	"Payment": ("CustomerRef", "TotalAmt"),
	"BillPayment": ("VendorRef", "PayType", "TotalAmt"),
	"Deposit": ("DepositToAccountRef", "Line"),
	"Transfer": ("FromAccountRef", "ToAccountRef", "Amount"),
	"JournalEntry": ("Line",),
}
UNIQUE_NAMES = {"Customer": "DisplayName", "Vendor": "DisplayName", "Item": "FullyQualifiedName"}
CLASSIFICATION_ORDER = ("Asset", "Liability", "Equity", "Revenue", "Expense")
MONTHS = (
	"January",
	"February",
	"March",
	"April",
	"May",
	"June",
	"July",
	"August",
	"September",
	"October",
	"November",
	"December",
)


class QboFault(Exception):
	"""A QBO error answer: {"Fault": {"Error": [{Message, Detail, code}], "type"}}."""

	def __init__(
		self, code: int, message: str, detail: str, status: int = 400, kind: str = "ValidationFault"
	):
		super().__init__(message)
		self.code, self.message, self.detail, self.status, self.kind = code, message, detail, status, kind

	def body(self) -> dict:
		error = {"Message": self.message, "Detail": self.detail, "code": str(self.code), "element": ""}
		return {"Fault": {"Error": [error], "type": self.kind}, "time": stamp(now(), "milliseconds")}

	def response(self) -> Response:
		return Response(self.status, self.body(), {"intuit_tid": secrets.token_hex(8)})


def now() -> datetime:
	return datetime.now(timezone.utc)


def stamp(moment: datetime, timespec: str = "seconds") -> str:
	return moment.isoformat(timespec=timespec)


def parse_time(value: str) -> datetime:
	"""QBO times carry an offset ("2024-01-05T09:00:00-08:00"); a bare date means its midnight, UTC."""
	moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
	return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def money(value: Any) -> Decimal:
	return Decimal(str(value or 0))


def cents(value: Decimal) -> Decimal:
	return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ref_id(record: dict, name: str) -> str | None:
	ref = record.get(name)
	return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") not in (None, "") else None


@dataclass
class Realm:
	records: dict[str, dict[str, dict]]
	# When each record last changed, kept exactly (MetaData shows whole seconds).
	changed: dict[tuple[str, str], datetime] = field(default_factory=dict)
	deleted: list[tuple[str, str, datetime]] = field(default_factory=list)
	# The highest Id each entity has handed out: QBO never gives a deleted record's Id to another.
	last_ids: dict[str, int] = field(default_factory=dict)

	def new_id(self, entity: str) -> str:
		held = [int(i) for i in self.records[entity] if i.isdigit()]
		self.last_ids[entity] = max([self.last_ids.get(entity, 0), *held]) + 1
		return str(self.last_ids[entity])

	def home_currency(self) -> str:
		for prefs in self.records.get("Preferences", {}).values():
			return prefs["CurrencyPrefs"]["HomeCurrency"]["value"]
		return "USD"

	def account_of_type(self, account_type: str, currency: str) -> str:
		for account in self.records.get("Account", {}).values():
			own = ref_id(account, "CurrencyRef") or self.home_currency()
			if account.get("AccountType") == account_type and own == currency:
				return account["Id"]
		raise QboFault(6000, "A business validation error has occurred", f"no {account_type} in {currency}")

	def account_of_subtype(self, *subtypes: str) -> str:
		for account in self.records.get("Account", {}).values():
			if account.get("AccountSubType") in subtypes:
				return account["Id"]
		raise QboFault(6000, "A business validation error has occurred", f"no {'/'.join(subtypes)} account")


# -- the query language: SELECT <fields> FROM <Entity> [WHERE ...] [ORDERBY ...] [STARTPOSITION n] [MAXRESULTS m]
TOKEN = re.compile(
	r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|=|<|>|\(|\)|,|\*)|(?P<word>[^\s'(),<>=!*]+))"
)


@dataclass
class Query:
	entity: str
	count: bool = False
	fields: tuple[str, ...] = ()
	conditions: list[tuple[str, str, Any]] = field(default_factory=list)
	order_by: str | None = None
	descending: bool = False
	start: int = 1
	max_results: int = DEFAULT_MAX_RESULTS


def parse_error(statement: str, why: str) -> QboFault:
	return QboFault(4000, "Error parsing query", f"QueryParserError: {why} in '{statement.strip()}'")


def tokenize(statement: str) -> list[tuple[str, str]]:
	tokens, position = [], 0
	while position < len(statement):
		match = TOKEN.match(statement, position)
		if not match or match.end() == position:
			if statement[position:].strip():
				raise parse_error(statement, f"unexpected '{statement[position:].strip()[:20]}'")
			break
		kind = match.lastgroup
		tokens.append((kind, match.group(kind)))
		position = match.end()
	return tokens


def parse_query(statement: str) -> Query:
	tokens = tokenize(statement.strip().rstrip(";"))
	position = 0

	def peek(offset=0) -> tuple[str, str]:
		index = position + offset
		return tokens[index] if index < len(tokens) else ("end", "")

	def take(kind: str | None = None, word: str | None = None) -> str:
		nonlocal position
		token_kind, value = peek()
		if (kind and token_kind != kind) or (word and value.lower() != word):
			raise parse_error(statement, f"expected {word or kind}, found '{value or 'end'}'")
		position += 1
		return value

	def keyword(word: str) -> bool:
		return peek()[0] == "word" and peek()[1].lower() == word

	take("word", "select")
	fields = []
	while not keyword("from"):
		if peek()[0] == "end":
			raise parse_error(statement, "no FROM")
		fields.append(take())
	take("word", "from")
	query = Query(entity=take("word"))
	selected = "".join(fields).lower()
	query.count = selected == "count(*)"
	query.fields = tuple(f for f in fields if f not in ("*", ",")) if not query.count else ()
	if keyword("where"):
		take()
		while True:
			name = take("word")
			if keyword("in") or keyword("like"):
				operator = take().lower()
			else:
				operator = take("op")
			if operator == "in":
				take("op")
				values = []
				while peek()[1] != ")":
					values.append(literal(take()))
					if peek()[1] == ",":
						take()
				take("op")
				query.conditions.append((name, "in", values))
			else:
				query.conditions.append((name, operator, literal(take())))
			if not keyword("and"):
				break
			take()
	if keyword("order"):
		take()
		take("word", "by")
		query.order_by = take("word")
	elif keyword("orderby"):
		take()
		query.order_by = take("word")
	if query.order_by and (keyword("asc") or keyword("desc")):
		query.descending = take().lower() == "desc"
	if keyword("startposition"):
		take()
		query.start = max(1, int(take("word")))
	if keyword("maxresults"):
		take()
		query.max_results = int(take("word"))
	if peek()[0] != "end":
		raise parse_error(statement, f"unexpected '{peek()[1]}'")
	if query.max_results > MAX_RESULTS:
		raise QboFault(
			4001,
			"Invalid query",
			f"QueryValidationError: value {query.max_results} is too large. Max allowed value is {MAX_RESULTS}",
		)
	return query


def literal(token: str) -> Any:
	if token.startswith("'"):
		return re.sub(r"\\(.)", r"\1", token[1:-1])
	if token.lower() in ("true", "false"):
		return token.lower() == "true"
	return token


def field_value(record: dict, path: str) -> Any:
	value: Any = record
	for part in path.split("."):
		if not isinstance(value, dict):
			return None
		key = next((k for k in value if k.lower() == part.lower()), None)
		value = value.get(key) if key else None
	if isinstance(value, dict) and "value" in value:
		value = value["value"]
	return value


def comparable(value: Any) -> Any:
	"""Numbers as numbers, times as times, the rest as text: what QBO compares them as."""
	if isinstance(value, bool):
		return str(value).lower()
	text = str(value)
	try:
		return Decimal(text)
	except ArithmeticError:
		pass
	if re.match(r"^\d{4}-\d{2}-\d{2}", text):
		try:
			return parse_time(text)
		except ValueError:
			pass
	return text


def matches(record: dict, condition: tuple[str, str, Any]) -> bool:
	name, operator, expected = condition
	actual = field_value(record, name)
	if actual is None:
		return False
	if operator == "in":
		return any(comparable(actual) == comparable(e) for e in expected)
	if operator == "like":
		pattern = ".*".join(re.escape(part) for part in str(expected).split("%"))
		return re.fullmatch(pattern, str(actual), re.I) is not None
	left, right = comparable(actual), comparable(expected)
	if type(left) is not type(right):
		left, right = str(actual), str(expected)
	return {
		"=": left == right,
		"!=": left != right,
		"<": left < right,
		">": left > right,
		"<=": left <= right,
		">=": left >= right,
	}[operator]


def sort_key(value: Any) -> tuple:
	"""Numbers, then times (as instants: their offsets may differ), then text."""
	value = comparable(value) if value is not None else ""
	if isinstance(value, Decimal):
		return (0, value, "")
	if isinstance(value, datetime):
		return (1, Decimal(str(value.timestamp())), "")
	return (2, Decimal(0), str(value))


class QboEmulator(Emulator):
	routes = (
		("GET", r"/\.well-known/openid_(?:sandbox_)?configuration/?", "discovery"),
		("GET", "/connect/oauth2", "authorize"),
		("POST", "/oauth2/v1/tokens/bearer", "token"),
		("POST", "/oauth2/v1/tokens/revoke", "revoke"),
		("POST", r"/v3/company/(?P<realm>\w+)/query", "query"),
		("GET", r"/v3/company/(?P<realm>\w+)/query", "query"),
		("GET", r"/v3/company/(?P<realm>\w+)/cdc", "cdc"),
		("POST", r"/v3/company/(?P<realm>\w+)/batch", "batch"),
		("GET", r"/v3/company/(?P<realm>\w+)/reports/(?P<report>\w+)", "report"),
		("GET", r"/v3/company/(?P<realm>\w+)/(?P<entity>[a-z]+)/(?P<id>[^/]+)", "read"),
		("POST", r"/v3/company/(?P<realm>\w+)/(?P<entity>[a-z]+)", "write"),
	)

	# Shared with the app the way Intuit shows it on the developer dashboard.
	verifier_token = "emulator-verifier-token"
	# Objects per entity that one CDC answer holds at most.
	cdc_limit = 1000

	def __init__(self, data_dir):
		super().__init__(data_dir)
		self._state = threading.RLock()
		self.reset_state()

	# -- state -----------------------------------------------------------------------------------
	def reset_state(self) -> None:
		with self._state:
			self.realms = {
				path.name: self._load(path) for path in sorted((self.data_dir / "realms").iterdir())
			}
			self._codes: dict[str, tuple[str, str]] = {}
			self._access: dict[str, tuple[str, datetime]] = {}
			self._refresh: dict[str, str] = {}
			self._answered: dict[tuple[str, str], Response] = {}

	@staticmethod
	def _load(path: Path) -> Realm:
		realm = Realm(records={})
		for file in sorted(path.glob("*.json")):
			entity = file.stem
			rows = json.loads(file.read_text())["QueryResponse"].get(entity, [])
			realm.records[entity] = {str(r["Id"]): r for r in rows}
			realm.last_ids[entity] = max((int(i) for i in realm.records[entity] if i.isdigit()), default=0)
			for row in rows:
				updated = (row.get("MetaData") or {}).get("LastUpdatedTime")
				if updated:
					realm.changed[(entity, str(row["Id"]))] = parse_time(updated)
		return realm

	def issue_tokens(self, realm_id: str) -> dict:
		"""The token answer an app gets once the user consents for this company."""
		with self._state:
			for token, realm in list(self._refresh.items()):
				if realm == realm_id:
					del self._refresh[token]
			access, refresh = "emu-at-" + secrets.token_hex(16), "emu-rt-" + secrets.token_hex(16)
			self._access[access] = (realm_id, now() + timedelta(seconds=ACCESS_TOKEN_SECONDS))
			self._refresh[refresh] = realm_id
		return {
			"token_type": "bearer",
			"access_token": access,
			"expires_in": ACCESS_TOKEN_SECONDS,
			"refresh_token": refresh,
			"x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
		}

	def expire_access_tokens(self) -> None:
		with self._state:
			self._access = {t: (realm, now()) for t, (realm, _) in self._access.items()}

	# -- OAuth -----------------------------------------------------------------------------------
	def discovery(self, request: Request) -> Response:
		base = f"http://{request.headers.get('host', '127.0.0.1')}"
		return Response(
			200,
			{
				"issuer": "https://oauth.platform.intuit.com/op/v1",
				"authorization_endpoint": f"{base}/connect/oauth2",
				"token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
				"userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
				"revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
				"jwks_uri": f"{base}/op/v1/jwks",
				"response_types_supported": ["code"],
				"scopes_supported": ["openid", "email", "profile", "address", "phone"],
				"token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
			},
		)

	def authorize(self, request: Request) -> Response:
		"""The consent page, already agreed to: redirect with a code, the state and the first company."""
		redirect_uri, state = request.arg("redirect_uri"), request.arg("state")
		scopes = (request.arg("scope") or "").split()
		if not request.arg("client_id") or request.arg("response_type") != "code" or not redirect_uri:
			return Response(400, {"error": "invalid_request"})
		if ACCOUNTING_SCOPE not in scopes:
			return Response(400, {"error": "invalid_scope"})
		realm_id = next(iter(self.realms))
		code = "emu-code-" + secrets.token_hex(12)
		with self._state:
			self._codes[code] = (realm_id, redirect_uri)
		query = urlencode({"code": code, "state": state or "", "realmId": realm_id})
		return Response(302, "", {"Location": f"{redirect_uri}?{query}"})

	def token(self, request: Request) -> Response:
		if not self._client_authenticated(request):
			return Response(401, {"error": "invalid_client"})
		form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
		grant = form.get("grant_type")
		with self._state:
			if grant == "authorization_code":
				issued = self._codes.pop(form.get("code", ""), None)
				if not issued or issued[1] != form.get("redirect_uri"):
					return Response(400, {"error": "invalid_grant"})
				return Response(200, self.issue_tokens(issued[0]))
			if grant == "refresh_token":
				realm_id = self._refresh.get(form.get("refresh_token", ""))
				if realm_id is None:
					return Response(
						400,
						{"error_description": "Incorrect or invalid refresh token", "error": "invalid_grant"},
					)
				return Response(200, self.issue_tokens(realm_id))
		return Response(400, {"error": "unsupported_grant_type"})

	def revoke(self, request: Request) -> Response:
		if not self._client_authenticated(request):
			return Response(401, {"error": "invalid_client"})
		token = (request.json() or {}).get("token", "")
		with self._state:
			self._refresh.pop(token, None)
			self._access.pop(token, None)
		return Response(200, "")

	@staticmethod
	def _client_authenticated(request: Request) -> bool:
		header = request.headers.get("authorization", "")
		if not header.startswith("Basic "):
			return False
		try:
			client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
		except ValueError:
			return False
		return bool(client_id and secret)

	def _authorised(self, request: Request) -> Realm:
		header = request.headers.get("authorization", "")
		token = header[7:] if header.lower().startswith("bearer ") else ""
		with self._state:
			issued = self._access.get(token)
		if issued is None or issued[1] <= now():
			raise QboFault(
				3200,
				"message=AuthenticationFailed; errorCode=003200; statusCode=401",
				"Token expired" if issued else "Token invalid",
				status=401,
			)
		realm_id = request.params["realm"]
		if issued[0] != realm_id or realm_id not in self.realms:
			raise QboFault(
				3100,
				"message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
				f"the token does not open company {realm_id}",
				status=403,
				kind="AUTHENTICATION",
			)
		return self.realms[realm_id]

	def handle(self, request: Request) -> Response:
		try:
			return super().handle(request)
		except QboFault as fault:
			if fault.status == 401:
				# The accounting API answers an unknown or expired token in this lower-case shape.
				error = {
					"message": fault.message,
					"detail": fault.detail,
					"code": str(fault.code),
					"element": None,
				}
				return Response(
					401, {"warnings": None, "fault": {"error": [error], "type": "AUTHENTICATION"}}
				)
			return fault.response()

	# -- reading ---------------------------------------------------------------------------------
	def _entity(self, realm: Realm, name: str) -> str:
		for entity in realm.records:
			if entity.lower() == name.lower():
				return entity
		raise QboFault(4001, "Invalid query", f"QueryValidationError: Invalid context declaration : {name}")

	def run_query(self, realm: Realm, statement: str) -> dict:
		query = parse_query(statement)
		entity = self._entity(realm, query.entity)
		conditions = list(query.conditions)
		if entity in NAME_LISTS and not any(name.lower() == "active" for name, _, _ in conditions):
			conditions.append(("Active", "=", True))
		with self._state:
			rows = [r for r in realm.records[entity].values() if all(matches(r, c) for c in conditions)]
		if query.count:
			return {"totalCount": len(rows)}
		rows.sort(key=lambda r: sort_key(field_value(r, query.order_by or "Id")), reverse=query.descending)
		page = rows[query.start - 1 : query.start - 1 + query.max_results]
		if query.fields and "*" not in query.fields:
			page = [{k: v for k, v in r.items() if k in query.fields or k == "Id"} for r in page]
		if not page:
			return {}
		return {entity: page, "startPosition": query.start, "maxResults": len(page)}

	def describe(self, request: Request) -> dict:
		"""Every query goes to one path, and the Change Data Capture of every entity to another: the
		request log keeps what each asked."""
		if request.path.endswith("/query"):
			return {"query": request.arg("query") or request.body.decode(errors="replace")}
		if request.path.endswith("/cdc"):
			return {"entities": request.arg("entities")}
		return {}

	def query(self, request: Request) -> Response:
		realm = self._authorised(request)
		statement = request.arg("query") or request.body.decode()
		return self._ok({"QueryResponse": self.run_query(realm, statement)})

	def read(self, request: Request) -> Response:
		realm = self._authorised(request)
		entity = self._entity(realm, request.params["entity"])
		record_id = request.params["id"]
		if entity == "CompanyInfo" and record_id == request.params["realm"]:
			record_id = next(iter(realm.records[entity]))  # read by the realm id, kept under Id 1
		return self._ok({entity: self._record(realm, entity, record_id)})

	@staticmethod
	def _record(realm: Realm, entity: str, record_id: str) -> dict:
		record = realm.records[entity].get(str(record_id))
		if record is None:
			raise QboFault(
				610,
				"Object Not Found",
				"Object Not Found : Something you're trying to use has been made inactive or is not available.",
			)
		return record

	@staticmethod
	def _ok(body: dict) -> Response:
		# A copy: answers are kept for repeated request ids, and records change after.
		return Response(200, json.loads(json.dumps({**body, "time": stamp(now(), "milliseconds")})))

	# -- writing ---------------------------------------------------------------------------------
	def write(self, request: Request) -> Response:
		realm = self._authorised(request)
		entity = self._entity(realm, request.params["entity"])
		request_id = request.arg("requestid")
		key = (request.params["realm"], request_id or "")
		with self._state:
			if request_id and key in self._answered:
				return self._answered[key]
			response = self._ok({entity: self.apply(realm, entity, request.arg("operation"), request.json())})
			if request_id:
				self._answered[key] = response
		return response

	def apply(self, realm: Realm, entity: str, operation: str | None, body: dict) -> dict:
		with self._state:
			if operation == "delete":
				return self._delete(realm, entity, body)
			if body.get("Id"):
				return self._update(realm, entity, body)
			return self._create(realm, entity, body)

	def _create(self, realm: Realm, entity: str, body: dict) -> dict:
		record = {k: v for k, v in body.items() if k not in ("sparse", "SyncToken")}
		record["Id"] = realm.new_id(entity)
		record["SyncToken"] = "0"
		moment = now()
		record["MetaData"] = {"CreateTime": stamp(moment), "LastUpdatedTime": stamp(moment)}
		return self._store(realm, entity, record, moment)

	def _update(self, realm: Realm, entity: str, body: dict) -> dict:
		current = self._record(realm, entity, body["Id"])
		if body.get("SyncToken") in (None, ""):
			raise QboFault(
				2020, "Required param missing, need to supply the required value for the API", "SyncToken"
			)
		if str(body["SyncToken"]) != current["SyncToken"]:
			raise QboFault(
				5010,
				"Stale Object Error",
				"Stale Object Error : You and Emulator were working on this at the same time. "
				"Emulator finished before you did, so your work was not saved.",
			)
		base = current if body.get("sparse") else {"MetaData": current["MetaData"]}
		record = {**base, **{k: v for k, v in body.items() if k != "sparse"}}
		record["SyncToken"] = str(int(current["SyncToken"]) + 1)
		moment = now()
		record["MetaData"] = {**current["MetaData"], "LastUpdatedTime": stamp(moment)}
		return self._store(realm, entity, record, moment)

	def _store(self, realm: Realm, entity: str, record: dict, moment: datetime) -> dict:
		self._validate(realm, entity, record)
		record.setdefault("domain", "QBO")
		record["sparse"] = False
		if entity in TRANSACTIONS:
			record.setdefault("CurrencyRef", {"value": realm.home_currency()})
			record.setdefault("ExchangeRate", 1)
			record.setdefault("TxnDate", moment.date().isoformat())
			self._total(entity, record)
		if entity in NAME_LISTS:
			record.setdefault("Active", True)
		if entity in ("Item", "Account"):
			parent = realm.records[entity].get(ref_id(record, "ParentRef") or "")
			record["FullyQualifiedName"] = (
				f"{parent['FullyQualifiedName']}:{record['Name']}" if parent else record["Name"]
			)
		realm.records[entity][record["Id"]] = record
		realm.changed[(entity, record["Id"])] = moment
		return record

	@staticmethod
	def _validate(realm: Realm, entity: str, record: dict) -> None:
		for name in REQUIRED.get(entity, ()):
			if record.get(name) in (None, "", []):
				raise QboFault(
					2020,
					"Required param missing, need to supply the required value for the API",
					f"Required parameter {name} is missing in the request",
				)
		unique = UNIQUE_NAMES.get(entity)
		if unique:
			name = record.get(unique) or record.get("Name")
			for other in realm.records[entity].values():
				if other["Id"] != record.get("Id") and (other.get(unique) or other.get("Name")) == name:
					raise QboFault(
						6240,
						"Duplicate Name Exists Error",
						f"The name supplied already exists. : Id={other['Id']}",
					)
		for name, target in (("CustomerRef", "Customer"), ("VendorRef", "Vendor")):
			if ref_id(record, name) and ref_id(record, name) not in realm.records.get(target, {}):
				raise QboFault(
					2500, "Invalid Reference Id", f"Invalid Reference Id : {target} assigned is invalid"
				)
		if entity == "JournalEntry":
			debit = sum(money(ln["Amount"]) for ln in record["Line"] if _posting(ln) == "Debit")
			credit = sum(money(ln["Amount"]) for ln in record["Line"] if _posting(ln) == "Credit")
			if debit != credit:
				raise QboFault(
					6000,
					"A business validation error has occurred while processing your request",
					"Business Validation Error: You must balance your journal entry.",
				)

	@staticmethod
	def _total(entity: str, record: dict) -> None:
		"""QBO works the totals out itself from the lines, whatever the request said."""
		lines = record.get("Line") or []
		tax = money((record.get("TxnTaxDetail") or {}).get("TotalTax"))
		if entity in SALES_FORMS:
			lines[:] = [ln for ln in lines if ln.get("DetailType") != "SubTotalLineDetail"]
			subtotal = sum(
				money(ln["Amount"])
				for ln in lines
				if ln.get("DetailType") in ("SalesItemLineDetail", "GroupLineDetail")
			)
			discount = sum(
				money(ln["Amount"]) for ln in lines if ln.get("DetailType") == "DiscountLineDetail"
			)
			lines.append(
				{"Amount": float(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
			)
			record["TotalAmt"] = float(subtotal - discount + tax)
		elif entity in PURCHASE_FORMS:
			record["TotalAmt"] = float(sum(money(ln["Amount"]) for ln in lines) + tax)
		elif entity == "Deposit":
			record["TotalAmt"] = float(sum(money(ln["Amount"]) for ln in lines))
		for number, line in enumerate(lines, 1):
			if line.get("DetailType") != "SubTotalLineDetail":
				line.setdefault("Id", str(number))
				line.setdefault("LineNum", number)
		if entity in ("Invoice", "Bill"):
			record.setdefault("Balance", record["TotalAmt"])

	def _delete(self, realm: Realm, entity: str, body: dict) -> dict:
		if entity not in TRANSACTIONS:
			raise QboFault(
				6000,
				"A business validation error has occurred while processing your request",
				f"Business Validation Error: a {entity} cannot be deleted; make it inactive instead",
			)
		current = self._record(realm, entity, body.get("Id", ""))
		if str(body.get("SyncToken")) != current["SyncToken"]:
			raise QboFault(
				5010, "Stale Object Error", "Stale Object Error : the object has changed since it was read"
			)
		del realm.records[entity][current["Id"]]
		realm.deleted.append((entity, current["Id"], now()))
		return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}

	# -- change data capture and batch -----------------------------------------------------------
	def cdc(self, request: Request) -> Response:
		realm = self._authorised(request)
		names, since = request.arg("entities"), request.arg("changedSince")
		if not names or not since:
			raise QboFault(2020, "Required param missing", "entities and changedSince are required")
		try:
			changed_since = parse_time(since)
		except ValueError:
			raise QboFault(2040, "Invalid Date", f"changedSince {since!r} is not a date-time") from None
		if now() - changed_since > CDC_LOOKBACK:
			# Intuit's wording, as its users report it; the error code is the emulator's own.
			raise QboFault(
				4001,
				"Invalid query",
				f"Operation cdc with changedSince date {since} which is older than fixed days "
				"is not supported.",
			)
		answers = []
		with self._state:
			for name in names.split(","):
				entity = self._entity(realm, name.strip())
				changes = [(realm.changed.get((entity, i)), r) for i, r in realm.records[entity].items()]
				changes += [
					(
						when,
						{
							"domain": "QBO",
							"status": "Deleted",
							"Id": i,
							"MetaData": {"LastUpdatedTime": stamp(when)},
						},
					)
					for kind, i, when in realm.deleted
					if kind == entity
				]
				# The earliest changes first, up to the limit.
				changes = sorted((c for c in changes if c[0] and c[0] > changed_since), key=lambda c: c[0])
				rows = [row for _, row in changes[: self.cdc_limit]]
				answers.append({entity: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {})
		return self._ok({"CDCResponse": [{"QueryResponse": answers}]})

	def batch(self, request: Request) -> Response:
		realm = self._authorised(request)
		items = (request.json() or {}).get("BatchItemRequest") or []
		if len(items) > BATCH_LIMIT:
			raise QboFault(
				4001, "Invalid batch", f"a batch holds at most {BATCH_LIMIT} items, not {len(items)}"
			)
		request_id = request.arg("requestid")
		key = (request.params["realm"], request_id or "")
		with self._state:
			if request_id and key in self._answered:
				return self._answered[key]
			answers = [self._batch_item(realm, item) for item in items]
			response = self._ok({"BatchItemResponse": answers})
			if request_id:
				self._answered[key] = response
		return response

	def _batch_item(self, realm: Realm, item: dict) -> dict:
		answer = {"bId": item.get("bId")}
		try:
			if "Query" in item:
				answer["QueryResponse"] = self.run_query(realm, item["Query"])
				return answer
			entity = next(k for k in item if k not in ("bId", "operation", "optionsData"))
			entity = self._entity(realm, entity)
			operation = item.get("operation")
			body = item[entity]
			if operation == "update" and not body.get("Id"):
				raise QboFault(2020, "Required param missing", "Id is required to update")
			answer[entity] = self.apply(realm, entity, operation if operation == "delete" else None, body)
		except QboFault as fault:
			answer["Fault"] = {
				"Error": [{"Message": fault.message, "Detail": fault.detail, "code": str(fault.code)}],
				"type": fault.kind,
			}
		return answer

	# -- reports ---------------------------------------------------------------------------------
	def report(self, request: Request) -> Response:
		realm = self._authorised(request)
		name = request.params["report"]
		today = now().date().isoformat()
		with self._state:
			if name == "TrialBalance":
				end = date.fromisoformat(request.arg("end_date") or today)
				return Response(200, self.trial_balance(realm, end))
			if name == "GeneralLedger":
				start = date.fromisoformat(request.arg("start_date") or today[:8] + "01")
				end = date.fromisoformat(request.arg("end_date") or today)
				accounts = [a for a in (request.arg("account") or "").split(",") if a]
				columns = [c for c in (request.arg("columns") or ",".join(LEDGER_COLUMNS)).split(",") if c]
				return Response(200, self.general_ledger(realm, start, end, accounts, columns))
			if name == "InventoryValuationSummary":
				as_of = date.fromisoformat(request.arg("report_date") or today)
				return Response(200, self.inventory_valuation(realm, as_of))
		raise QboFault(4001, "Invalid report", f"the emulator has no {name} report")

	def books(self, realm: Realm, end: date) -> tuple[list[tuple[str, dict, list]], "Stock"]:
		"""Every transaction up to the end date, oldest first, with the ledger lines QBO books for it,
		and the inventory left: stock moves through FIFO layers in that order. On one day purchases
		come before sales, so what is bought that day is there to sell."""
		stock = Stock(realm.records.get("Item", {}))
		transactions = sorted(
			(
				(date.fromisoformat(txn["TxnDate"]), entity not in PURCHASE_FORMS, int(txn["Id"]), entity)
				for entity in TRANSACTIONS & set(realm.records)
				for txn in realm.records[entity].values()
			),
		)
		booked = []
		for posted, _, txn_id, entity in transactions:
			if posted > end:
				break
			txn = realm.records[entity][str(txn_id)]
			booked.append((entity, txn, self.postings(realm, entity, txn, stock)))
		return booked, stock

	def trial_balance(self, realm: Realm, end: date) -> dict:
		"""Balance-sheet accounts to the end date; income and expense from the start of its fiscal year,
		earlier years' profit inside Retained Earnings, as QBO shows it."""
		year_start = self._fiscal_year_start(realm, end)
		accounts = realm.records["Account"]
		balances: dict[str, Decimal] = {}
		earlier_profit = Decimal(0)
		booked, _ = self.books(realm, end)
		for _, txn, lines in booked:
			posted = date.fromisoformat(txn["TxnDate"])
			for account_id, amount in lines:
				classification = accounts[account_id].get("Classification")
				if classification in ("Revenue", "Expense") and posted < year_start:
					earlier_profit += amount
				else:
					balances[account_id] = balances.get(account_id, Decimal(0)) + amount
		if earlier_profit:
			retained = realm.account_of_subtype("RetainedEarnings")
			balances[retained] = balances.get(retained, Decimal(0)) + earlier_profit
		ordered = sorted(
			(i for i, b in balances.items() if b),
			key=lambda i: (
				CLASSIFICATION_ORDER.index(accounts[i].get("Classification", "Expense")),
				accounts[i].get("FullyQualifiedName", accounts[i]["Name"]),
			),
		)
		rows, debit_total, credit_total = [], Decimal(0), Decimal(0)
		for account_id in ordered:
			balance = balances[account_id]
			debit_total += max(balance, Decimal(0))
			credit_total += max(-balance, Decimal(0))
			rows.append(
				{
					"ColData": [
						_account_cell(accounts[account_id]),
						{"value": f"{balance:.2f}" if balance > 0 else ""},
						{"value": f"{-balance:.2f}" if balance < 0 else ""},
					]
				}
			)
		rows.append(_total_row("TOTAL", f"{debit_total:.2f}", f"{credit_total:.2f}"))
		header = _report_header(realm, "TrialBalance", year_start, end, bool(ordered))
		return {
			"Header": {**header, "ReportBasis": "Accrual", "SummarizeColumnsBy": "Total"},
			"Columns": _columns(
				("", "Account", "account"), ("Debit", "Money", "Debit"), ("Credit", "Money", "Credit")
			),
			"Rows": {"Row": rows},
		}

	def general_ledger(
		self, realm: Realm, start: date, end: date, account_ids: list[str], columns: list[str]
	) -> dict:
		"""Each ledger line of the period, a section per account (those asked for, or all), in the
		columns asked for among LEDGER_COLUMNS."""
		unknown = [c for c in columns if c not in LEDGER_COLUMNS]
		if unknown:
			raise QboFault(4001, "Invalid report", f"the emulator's GeneralLedger has no column {unknown[0]}")
		accounts = realm.records["Account"]
		sections: dict[str, list[dict]] = {}
		booked, _ = self.books(realm, end)
		for entity, txn, lines in booked:
			if date.fromisoformat(txn["TxnDate"]) < start:
				continue
			for account_id, amount in lines:
				if account_ids and account_id not in account_ids:
					continue
				cells = {
					"tx_date": {"value": txn["TxnDate"]},
					"txn_type": {"value": _txn_type(entity, txn), "id": txn["Id"]},
					"doc_num": {"value": txn.get("DocNumber") or ""},
					"debt_amt": {"value": f"{amount:.2f}" if amount > 0 else ""},
					"credt_amt": {"value": f"{-amount:.2f}" if amount < 0 else ""},
				}
				sections.setdefault(account_id, []).append(
					{"ColData": [cells[c] for c in columns], "type": "Data"}
				)
		blank = [{"value": ""} for _ in columns[1:]]
		rows = [
			{
				"Header": {"ColData": [_account_cell(accounts[account_id]), *blank]},
				"Rows": {"Row": data},
				"Summary": {"ColData": [{"value": f"Total for {accounts[account_id]['Name']}"}, *blank]},
				"type": "Section",
			}
			for account_id, data in sorted(sections.items(), key=lambda s: accounts[s[0]]["Name"])
		]
		return {
			"Header": _report_header(realm, "GeneralLedger", start, end, bool(rows)),
			"Columns": _columns(*((*LEDGER_COLUMNS[c], c) for c in columns)),
			"Rows": {"Row": rows},
		}

	def inventory_valuation(self, realm: Realm, as_of: date) -> dict:
		"""Quantity on hand and its value at QBO's FIFO cost, per Inventory item, as of a date."""
		_, stock = self.books(realm, as_of)
		rows, total_qty, total_value = [], Decimal(0), Decimal(0)
		items = sorted(
			(i for i in realm.records.get("Item", {}).values() if i.get("Type") == "Inventory"),
			key=lambda i: i.get("FullyQualifiedName", i["Name"]),
		)
		for item in items:
			qty, value = stock.on_hand(item["Id"])
			total_qty, total_value = total_qty + qty, total_value + value
			rows.append(
				{
					"ColData": [
						{"value": item.get("FullyQualifiedName", item["Name"]), "id": item["Id"]},
						{"value": item.get("Sku") or ""},
						{"value": _quantity(qty)},
						{"value": f"{value:.2f}"},
						{"value": f"{cents(value / qty):.2f}" if qty else ""},
					]
				}
			)
		rows.append(_total_row("TOTAL", "", _quantity(total_qty), f"{total_value:.2f}", ""))
		return {
			"Header": _report_header(realm, "InventoryValuationSummary", None, as_of, bool(items)),
			"Columns": _columns(
				("", "ProductsAndService", "name"),
				("SKU", "String", "sku"),
				("Qty", "Quantity", "qty"),
				("Asset Value", "Money", "asset_value"),
				("Calc. Avg", "Money", "calc_avg"),
			),
			"Rows": {"Row": rows},
		}

	@staticmethod
	def _fiscal_year_start(realm: Realm, end: date) -> date:
		info = next(iter(realm.records.get("CompanyInfo", {}).values()), {})
		month = MONTHS.index(info.get("FiscalYearStartMonth", "January")) + 1
		year = end.year if end.month >= month else end.year - 1
		return date(year, month, 1)

	def postings(self, realm: Realm, entity: str, txn: dict, stock: "Stock") -> list[tuple[str, Decimal]]:
		"""The ledger lines QBO books for a transaction: (account id, home-currency debit, credit < 0).

		Each line is converted at the transaction's ExchangeRate and rounded to the cent; what a payment
		settles leaves A/R or A/P at the rate it was booked at, the difference going to Exchange Gain or
		Loss. Inventory moves through `stock` at FIFO cost.
		"""
		rate = money(txn.get("ExchangeRate") or 1)
		currency = ref_id(txn, "CurrencyRef") or realm.home_currency()

		def home(amount: Any) -> Decimal:
			return cents(money(amount) * rate)

		lines: list[tuple[str, Decimal]] = []
		items = realm.records.get("Item", {})
		if entity in SALES_FORMS:
			sign = SALES_FORMS[entity]
			if entity == "SalesReceipt":
				target = ref_id(txn, "DepositToAccountRef") or realm.account_of_subtype("UndepositedFunds")
			else:
				target = ref_id(txn, "ARAccountRef") or realm.account_of_type("Accounts Receivable", currency)
			lines.append((target, sign * home(txn["TotalAmt"])))
			for line in _flatten(txn.get("Line") or []):
				kind = line.get("DetailType")
				if kind == "SalesItemLineDetail":
					detail = line["SalesItemLineDetail"]
					item_id = ref_id(detail, "ItemRef")
					item = items[item_id]
					lines.append((ref_id(item, "IncomeAccountRef"), -sign * home(line["Amount"])))
					if item.get("Type") == "Inventory":
						qty = _quantity_of(detail)
						if sign > 0:
							cost = stock.issue(item_id, qty)
						else:  # a return comes back at the item's purchase cost
							cost = cents(qty * money(item.get("PurchaseCost")))
							stock.receive(item_id, qty, cost)
						lines.append((ref_id(item, "ExpenseAccountRef"), sign * cost))
						lines.append((ref_id(item, "AssetAccountRef"), -sign * cost))
				elif kind == "DiscountLineDetail":
					account = ref_id(line["DiscountLineDetail"], "DiscountAccountRef")
					lines.append(
						(
							account or realm.account_of_subtype("DiscountsRefundsGiven"),
							sign * home(line["Amount"]),
						)
					)
			for tax in (txn.get("TxnTaxDetail") or {}).get("TaxLine") or []:
				tax_account = realm.account_of_subtype("SalesTaxPayable", "GlobalTaxPayable")
				lines.append((tax_account, -sign * home(tax["Amount"])))
		elif entity in PURCHASE_FORMS:
			sign = PURCHASE_FORMS[entity]
			payable = ref_id(txn, "APAccountRef") or realm.account_of_type("Accounts Payable", currency)
			lines.append((payable, -sign * home(txn["TotalAmt"])))
			for line in txn.get("Line") or []:
				kind = line.get("DetailType")
				if kind == "AccountBasedExpenseLineDetail":
					lines.append((ref_id(line[kind], "AccountRef"), sign * home(line["Amount"])))
				elif kind == "ItemBasedExpenseLineDetail":
					item_id = ref_id(line[kind], "ItemRef")
					item = items[item_id]
					if item.get("Type") == "Inventory" and sign > 0:
						stock.receive(item_id, _quantity_of(line[kind]), home(line["Amount"]))
					elif item.get("Type") == "Inventory":
						# Sent back: the asset account loses the credit's own amount (the dataset returns
						# stock at the cost it was bought at).
						stock.issue(item_id, _quantity_of(line[kind]))
					field_name = "AssetAccountRef" if item.get("Type") == "Inventory" else "ExpenseAccountRef"
					lines.append((ref_id(item, field_name), sign * home(line["Amount"])))
			for tax in (txn.get("TxnTaxDetail") or {}).get("TaxLine") or []:
				tax_account = realm.account_of_subtype("SalesTaxPayable", "GlobalTaxPayable")
				lines.append((tax_account, sign * home(tax["Amount"])))
		elif entity == "Payment":
			deposit = ref_id(txn, "DepositToAccountRef") or realm.account_of_subtype("UndepositedFunds")
			receivable = ref_id(txn, "ARAccountRef") or realm.account_of_type("Accounts Receivable", currency)
			received = home(txn["TotalAmt"])
			cleared = self._settled(realm, txn, RECEIPT_LINKS)
			lines += [(deposit, received), (receivable, -cleared)]
			if cleared != received:
				lines.append((realm.account_of_subtype("ExchangeGainOrLoss"), cleared - received))
		elif entity == "BillPayment":
			payable = ref_id(txn, "APAccountRef") or realm.account_of_type("Accounts Payable", currency)
			if txn.get("PayType") == "CreditCard":
				paid_from = ref_id(txn["CreditCardPayment"], "CCAccountRef")
			else:
				paid_from = ref_id(txn["CheckPayment"], "BankAccountRef")
			paid = home(txn["TotalAmt"])
			cleared = self._settled(realm, txn, BILL_PAYMENT_LINKS)
			lines += [(payable, cleared), (paid_from, -paid)]
			if cleared != paid:
				lines.append((realm.account_of_subtype("ExchangeGainOrLoss"), paid - cleared))
		elif entity == "Deposit":
			lines.append((ref_id(txn, "DepositToAccountRef"), home(txn["TotalAmt"])))
			for line in txn.get("Line") or []:
				detail = line.get("DepositLineDetail") or {}
				source = ref_id(detail, "AccountRef") or realm.account_of_subtype("UndepositedFunds")
				lines.append((source, -home(line["Amount"])))
		elif entity == "Transfer":
			lines += [
				(ref_id(txn, "ToAccountRef"), home(txn["Amount"])),
				(ref_id(txn, "FromAccountRef"), -home(txn["Amount"])),
			]
		elif entity == "JournalEntry":
			for line in txn.get("Line") or []:
				detail = line["JournalEntryLineDetail"]
				amount = home(line["Amount"])
				lines.append((ref_id(detail, "AccountRef"), amount if _posting(line) == "Debit" else -amount))
		return lines

	@staticmethod
	def _settled(realm: Realm, txn: dict, links: dict[str, int]) -> Decimal:
		"""The home-currency amount of A/R or A/P a payment clears: each line at the rate of the
		transaction it settles, what it leaves unapplied at its own rate."""
		rate = money(txn.get("ExchangeRate") or 1)
		applied, cleared = Decimal(0), Decimal(0)
		for line in txn.get("Line") or []:
			for linked in line.get("LinkedTxn") or []:
				sign = links.get(linked.get("TxnType"))
				if sign is None:
					continue
				settled = realm.records.get(linked["TxnType"], {}).get(str(linked.get("TxnId")), {})
				amount = money(line["Amount"])
				applied += sign * amount
				cleared += sign * cents(amount * money(settled.get("ExchangeRate") or rate))
		return cleared + cents((money(txn["TotalAmt"]) - applied) * rate)

	# -- webhooks --------------------------------------------------------------------------------
	def sign_webhook(self, body: bytes) -> str:
		"""The intuit-signature header: base64 of HMAC-SHA256 over the body, keyed by the verifier token."""
		digest = hmac.new(self.verifier_token.encode(), body, hashlib.sha256).digest()
		return base64.b64encode(digest).decode()

	def send_webhook(self, url: str, payload: dict) -> requests.Response:
		body = json.dumps(payload).encode()
		return requests.post(
			url,
			data=body,
			headers={"Content-Type": "application/json", "intuit-signature": self.sign_webhook(body)},
			timeout=30,
		)

	def control(self, request: Request) -> Response:
		action = (request.method, request.path)
		if action == ("POST", "/_emulator/expire_tokens"):
			self.expire_access_tokens()
			return Response(200, {"ok": True})
		if action == ("POST", "/_emulator/webhook"):
			spec = request.json()
			sent = self.send_webhook(spec["url"], spec["payload"])
			return Response(200, {"status": sent.status_code, "body": sent.text})
		return super().control(request)


def _posting(line: dict) -> str | None:
	return (line.get("JournalEntryLineDetail") or {}).get("PostingType")


def _flatten(lines: list[dict]) -> list[dict]:
	"""Bundles (GroupLineDetail) book through the item lines inside them."""
	flat = []
	for line in lines:
		if line.get("DetailType") == "GroupLineDetail":
			flat += line["GroupLineDetail"].get("Line") or []
		else:
			flat.append(line)
	return flat


def _quantity_of(detail: dict) -> Decimal:
	"""An item line's quantity; a line without one is one unit."""
	return money(detail.get("Qty") or 1)


def _quantity(qty: Decimal) -> str:
	return f"{qty.normalize():f}"


def _txn_type(entity: str, txn: dict) -> str:
	if entity == "BillPayment":
		return BILL_PAYMENT_TYPES.get(txn.get("PayType"), "Bill Payment")
	return TXN_TYPES[entity]


def _account_cell(account: dict) -> dict:
	return {"value": account.get("FullyQualifiedName", account["Name"]), "id": account["Id"]}


def _columns(*columns: tuple[str, str, str]) -> dict:
	return {
		"Column": [
			{"ColTitle": title, "ColType": kind, "MetaData": [{"Name": "ColKey", "Value": key}]}
			for title, kind, key in columns
		]
	}


def _total_row(*values: str) -> dict:
	return {
		"Summary": {"ColData": [{"value": v} for v in values]},
		"type": "Section",
		"group": "GrandTotal",
	}


def _report_header(realm: Realm, name: str, start: date | None, end: date, has_data: bool) -> dict:
	header = {
		"Time": stamp(now()),
		"ReportName": name,
		"EndPeriod": end.isoformat(),
		"Currency": realm.home_currency(),
		"Option": [{"Name": "NoReportData", "Value": "false" if has_data else "true"}],
	}
	if start:
		header["StartPeriod"] = start.isoformat()
	return header


class Stock:
	"""Inventory as QBO costs it: FIFO layers of (quantity, value) per item; a sale takes from the
	oldest layer first. The dataset never sells more than it holds: a shortfall is costed at the item's
	PurchaseCost and leaves nothing behind."""

	def __init__(self, items: dict[str, dict]):
		self.items = items
		self.layers: dict[str, list[list[Decimal]]] = {}

	def receive(self, item_id: str, qty: Decimal, value: Decimal) -> None:
		self.layers.setdefault(item_id, []).append([qty, value])

	def issue(self, item_id: str, qty: Decimal) -> Decimal:
		"""Takes qty out and returns the value taken."""
		layers, taken = self.layers.setdefault(item_id, []), Decimal(0)
		while qty > 0 and layers:
			held, value = layers[0]
			if held <= qty:
				layers.pop(0)
				qty, taken = qty - held, taken + value
			else:
				part = cents(value * qty / held)
				layers[0] = [held - qty, value - part]
				qty, taken = Decimal(0), taken + part
		return taken + cents(qty * money(self.items[item_id].get("PurchaseCost")))

	def on_hand(self, item_id: str) -> tuple[Decimal, Decimal]:
		layers = self.layers.get(item_id, [])
		return sum((q for q, _ in layers), Decimal(0)), sum((v for _, v in layers), Decimal(0))
