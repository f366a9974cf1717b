"""What a vendor's connector provides to the engine on a site."""

from datetime import date
from typing import Any

import frappe
from frappe.utils import getdate

from kraal_connect.engine.endpoints import check_endpoint
from kraal_connect.engine.records import Change, Stream
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.suggestions import Discovered


class Connector:
	vendor: str = ""
	# The entities it can sync, in the order they must run (masters before transactions).
	entities: tuple[str, ...] = ()
	# Kraal Account Mapping key type -> the DocType its keys map to; a record that misses a key of
	# one of these types leaves an empty mapping row behind for a person to fill in.
	mapping_targets: dict[str, str] = {}
	# key type -> the root type (Asset, Liability, …) of the Account its key books to, where the key's
	# meaning fixes it; Discover suggests only accounts of that kind.
	mapping_root_types: dict[str, str] = {}
	# Key types whose rows the connector fills itself where a person leaves them empty (a Bank Account
	# made for a Plaid account, a QuickBooks account migrated): Discover lists them but does not ask.
	fills_itself: frozenset[str] = frozenset()
	# The vendor's own hosts: the only ones an integration's API Base URL may name.
	api_hosts: tuple[str, ...] = ()
	# Kraal Integration fields this vendor needs set, and their values when left empty.
	defaults: dict[str, str] = {}
	# Entities that Sync From limits, and what their records are called ({"order": "orders"}): a run that
	# finds none while none was ever booked says the date is why (engine/sync_from).
	dated_entities: dict[str, str] = {}
	# Entities whose single record the vendor returns by its id (fetch_one): a failed record of these
	# is read fresh when tried again; others are tried again from the record as it was received.
	fetches_one: frozenset[str] = frozenset()
	# Entities whose Journal Entries are deposits into the bank (payouts, settlements), each with the
	# Kraal Account Mapping key type of the account its deposit line books to; and whether the
	# connector is a bank feed: after a run of either, engine/deposits matches the company's bank
	# transactions to the deposits.
	deposit_entities: dict[str, str] = {}
	bank_feed: bool = False
	# entity -> the entities whose records are written before its own: the masters a transaction names,
	# the invoice a payment applies to. A connector that declares it has its long runs written by several
	# workers at once (Backfill Workers, engine/parallel), its records of one stage in any order; None:
	# each run writes its records alone, in the order its streams read them.
	written_after: dict[str, tuple[str, ...]] | None = None
	# Entities a new integration gets switched off, for a person to turn on: not every account has
	# them, and they need a scope or mapping of their own (Shopify Payments payouts).
	switched_off: tuple[str, ...] = ()

	def __init__(self, integration, caller: ApiCaller | None = None):
		# Checked here too, not only when the form is saved: a value written past validation (a
		# patch, a data import) must not carry the credentials to another host either.
		check_api_base_url(self, integration.get("api_base_url"))
		self.integration = integration
		# Every vendor call of a run goes through it: retried when transient, and counted.
		self.caller = caller or ApiCaller()

	# Words for the parts of its external types that plain capitalisation gets wrong (engine/sources).
	record_types: dict[str, str] = {}

	@classmethod
	def source_url(cls, integration, external_type: str, external_id: str) -> str | None:
		"""The record in the vendor's own admin, for a person to open; None where there is no such page."""
		return None

	@classmethod
	def source_detail(cls, integration, external_type: str, external_id: str) -> str:
		"""Where else a person finds the record, when the vendor has no admin page for it."""
		return ""

	def prepare(self, stats: RunStats) -> Any:
		"""Set up what the streams need (accounts, mappings) and return the mappers' context.

		Runs before streams(), which may use what it found.
		"""
		raise NotImplementedError

	def streams(self) -> list[Stream]:
		raise NotImplementedError

	def enabled_streams(self) -> list[Stream]:
		"""The streams of the entities this integration syncs, in the connector's order."""
		enabled = {row.entity for row in self.integration.entities if row.enabled}
		return [s for s in self.streams() if s.entity in enabled]

	def sync_start(self) -> date | None:
		"""The day the dated entities are read from on a first run; None: all the vendor keeps."""
		start = self.integration.get("sync_start_date")
		return getdate(start) if start else None

	def discover(self) -> list[Discovered]:
		"""Every mapping key the account's records use (Discover, before the first sync): read from the
		vendor, nothing written. engine/discovery turns them into Kraal Account Mapping rows."""
		raise NotImplementedError

	def fetch_one(self, entity: str, external_id: str) -> Change | None:
		"""One record as its stream would give it (webhooks, failed records tried again); None when the
		vendor has no such record. Only for the entities in fetches_one."""
		raise NotImplementedError

	# -- ERPNext -> vendor ------------------------------------------------------------------------
	# DocTypes whose changes this connector may send to the vendor (see engine/outbound.py).
	pushes: tuple[str, ...] = ()
	# The channels push_key() uses, so the cron can find keys whose job was lost.
	push_channels: tuple[str, ...] = ()

	def push_key(self, doc, event: str) -> tuple[str, str] | None:
		"""(channel, key) under which a changed document waits to be pushed, or None to ignore it.

		Keys of one channel are pushed together by one job, so a burst of changes goes out in batches.
		"""
		return None

	def push(self, channel: str, keys: list[str], stats: RunStats) -> None:
		"""Send what waits under these keys; record each outcome in stats like a pulled record."""
		raise NotImplementedError

	def test_connection(self) -> str:
		"""A sentence for the user saying what the credentials reach."""
		raise NotImplementedError


def check_api_base_url(connector, url: str | None) -> None:
	check_endpoint(
		connector.vendor, connector.api_hosts, url, bool(frappe.conf.get("kraal_allow_custom_endpoints"))
	)
