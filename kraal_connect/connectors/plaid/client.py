"""Plaid through plaid-python 7.2.1 (ERPNext v15 pins it), with a configurable base URL."""

import requests
from plaid import Client
from plaid.errors import PlaidError
from plaid.internal.requester import post_request
from plaid.internal.utils import urljoin

from kraal_connect.engine.errors import AuthenticationError, PaginationRestart, SyncError, TransientError

API_VERSION = "2020-09-14"
ENVIRONMENTS = ("sandbox", "production")

# Item errors that only the account holder can clear, by logging in again through Link.
REAUTH_CODES = frozenset(
	{
		"ITEM_LOGIN_REQUIRED",
		"INVALID_CREDENTIALS",
		"INVALID_MFA",
		"INVALID_UPDATED_USERNAME",
		"ITEM_LOCKED",
		"ITEM_NOT_SUPPORTED",
		"USER_SETUP_REQUIRED",
		"MFA_NOT_SUPPORTED",
		"NO_ACCOUNTS",
		"PENDING_EXPIRATION",
		"ACCESS_NOT_GRANTED",
		"INVALID_ACCESS_TOKEN",
		"INVALID_API_KEYS",
	}
)
TRANSIENT_TYPES = frozenset({"RATE_LIMIT_EXCEEDED", "API_ERROR", "INSTITUTION_ERROR"})
TRANSIENT_CODES = frozenset({"PRODUCT_NOT_READY"})
# Plaid's data changed while /transactions/sync paged through it. Asking again with the same cursor
# does not help: Plaid documents restarting the pagination loop from the cursor it began with.
RESTART_CODES = frozenset({"TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION"})


class _BaseUrlClient(Client):
	"""7.2.1 builds every URL from https://{environment}.plaid.com; this one takes the host as set."""

	def __init__(self, base_url: str, **kwargs):
		super().__init__(**kwargs)
		self.base_url = base_url

	def _post(self, path, data, is_json):
		return post_request(
			urljoin(self.base_url, path),
			data=data,
			timeout=self.timeout,
			is_json=is_json,
			headers={"Plaid-Version": self.api_version},
		)


def translate(exc: PlaidError) -> SyncError:
	reason = exc.display_message or exc.message
	if exc.code in REAUTH_CODES:
		return AuthenticationError(f"{exc.code}: {reason}")
	if exc.code in RESTART_CODES:
		return PaginationRestart(f"{exc.code}: {reason}")
	if exc.type in TRANSIENT_TYPES or exc.code in TRANSIENT_CODES:
		return TransientError(f"{exc.code}: {reason}")
	return SyncError(f"Plaid {exc.type} {exc.code}: {reason}")


class PlaidApi:
	"""The Plaid calls Kraal makes. Every call raises engine errors, never PlaidError or requests'
	errors; each times out after `timeout` seconds (plaid-python's own default is ten minutes)."""

	def __init__(
		self,
		client_id: str,
		secret: str,
		environment: str = "sandbox",
		base_url: str | None = None,
		timeout: float = 60,
	):
		if environment not in ENVIRONMENTS:
			raise ValueError(f"Plaid environment must be one of {ENVIRONMENTS}, not {environment!r}")
		self.client = _BaseUrlClient(
			base_url=base_url or f"https://{environment}.plaid.com",
			client_id=client_id,
			secret=secret,
			environment=environment,
			api_version=API_VERSION,
			timeout=timeout,
			suppress_warnings=True,
		)

	@staticmethod
	def _call(fn, *args):
		try:
			return fn(*args)
		except PlaidError as exc:
			raise translate(exc) from None
		except (requests.Timeout, requests.ConnectionError) as exc:
			raise TransientError(f"network: could not reach Plaid ({type(exc).__name__})") from None

	def _post(self, path: str, body: dict) -> dict:
		return self._call(self.client.post, path, body)

	def create_link_token(
		self, user_id: str, client_name: str, webhook: str | None = None, access_token: str | None = None
	) -> str:
		"""A token for Plaid Link; with an access token, Link opens in update mode to re-authenticate."""
		config = {
			"user": {"client_user_id": user_id},
			"client_name": client_name,
			"country_codes": ["US", "CA"],
			"language": "en",
			"webhook": webhook,
		}
		if access_token:
			config["access_token"] = access_token
		else:
			config["products"] = ["transactions"]
		return self._call(self.client.LinkToken.create, config)["link_token"]

	def exchange_public_token(self, public_token: str) -> tuple[str, str]:
		body = self._post("/item/public_token/exchange", {"public_token": public_token})
		return body["access_token"], body["item_id"]

	def get_item(self, access_token: str) -> dict:
		return self._post("/item/get", {"access_token": access_token})

	def get_institution_name(self, institution_id: str) -> str:
		body = self._post(
			"/institutions/get_by_id", {"institution_id": institution_id, "country_codes": ["US", "CA"]}
		)
		return body["institution"]["name"]

	def get_accounts(self, access_token: str) -> list[dict]:
		return self._post("/accounts/get", {"access_token": access_token})["accounts"]

	def sync_transactions(self, access_token: str, cursor: str | None, count: int = 500) -> dict:
		body = {"access_token": access_token, "count": count}
		if cursor:
			body["cursor"] = cursor
		return self._post("/transactions/sync", body)

	def get_webhook_verification_key(self, key_id: str) -> dict:
		return self._post("/webhook_verification_key/get", {"key_id": key_id})["key"]
