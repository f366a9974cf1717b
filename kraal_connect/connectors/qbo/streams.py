"""QBO streams. The migration reads each entity whole, a page of STARTPOSITION/MAXRESULTS at a time
(cursor: the next STARTPOSITION); the parallel run reads change data capture (cursor: changedSince),
or, for a changedSince further back than change data capture reaches, a query on the records' change
time (cursor: a CatchUp)."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from kraal_connect.connectors.qbo import mapping
from kraal_connect.connectors.qbo.client import MAX_RESULTS, QboApi
from kraal_connect.connectors.qbo.mapping import QBO_ENTITIES
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.records import Change, Page, Stream
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.sync import read_pages

# Dependency order: terms before the customers that use them; purchases before sales, so that what
# is sold has been bought into the warehouse; payments after what they settle.
MIGRATION_ORDER = (
	mapping.ACCOUNT,
	mapping.TERM,
	mapping.CUSTOMER,
	mapping.VENDOR,
	mapping.ITEM,
	mapping.TAX_CODE,
	mapping.BILL,
	mapping.VENDOR_CREDIT,
	mapping.INVOICE,
	mapping.CREDIT_MEMO,
	mapping.SALES_RECEIPT,
	mapping.PAYMENT,
	mapping.BILL_PAYMENT,
	mapping.DEPOSIT,
	mapping.TRANSFER,
	mapping.JOURNAL_ENTRY,
)
MAPPERS = {
	mapping.ACCOUNT: mapping.account,
	mapping.TERM: mapping.payment_terms_template,
	mapping.CUSTOMER: mapping.customer,
	mapping.VENDOR: mapping.supplier,
	mapping.ITEM: mapping.item,
	mapping.TAX_CODE: mapping.tax_code,
	mapping.BILL: mapping.purchase_invoice,
	mapping.VENDOR_CREDIT: mapping.debit_note,
	mapping.INVOICE: mapping.sales_invoice,
	mapping.CREDIT_MEMO: mapping.credit_note,
	mapping.SALES_RECEIPT: mapping.paid_sales_invoice,
	mapping.PAYMENT: mapping.payment_received,
	mapping.BILL_PAYMENT: mapping.bill_payment,
	mapping.DEPOSIT: mapping.deposit,
	mapping.TRANSFER: mapping.transfer,
	mapping.JOURNAL_ENTRY: mapping.journal_entry,
}
# QBO's change data capture does not cover tax codes.
# What a migration written by several workers keeps in order (engine/fanout): each entity after the
# entities its records name, and stock moves stage by stage as MIGRATION_ORDER makes them, so no sale
# takes from a warehouse before the purchases in it. Journal entries come before the payments that
# may apply to them.
WRITTEN_AFTER = {
	mapping.CUSTOMER: (mapping.ACCOUNT, mapping.TERM),
	mapping.VENDOR: (mapping.ACCOUNT, mapping.TERM),
	mapping.ITEM: (mapping.ACCOUNT,),
	mapping.TAX_CODE: (mapping.ACCOUNT,),
	mapping.BILL: (mapping.VENDOR, mapping.ITEM, mapping.TAX_CODE),
	mapping.VENDOR_CREDIT: (mapping.BILL,),
	mapping.INVOICE: (mapping.CUSTOMER, mapping.VENDOR_CREDIT),
	mapping.CREDIT_MEMO: (mapping.INVOICE,),
	mapping.SALES_RECEIPT: (mapping.CREDIT_MEMO,),
	mapping.JOURNAL_ENTRY: (mapping.CUSTOMER, mapping.VENDOR),
	mapping.PAYMENT: (mapping.CREDIT_MEMO, mapping.JOURNAL_ENTRY),
	mapping.BILL_PAYMENT: (mapping.VENDOR_CREDIT, mapping.JOURNAL_ENTRY),
	mapping.DEPOSIT: (mapping.PAYMENT, mapping.SALES_RECEIPT),
	mapping.TRANSFER: (mapping.ACCOUNT,),
}
CDC_ENTITIES = tuple(e for e in MIGRATION_ORDER if e != mapping.TAX_CODE)
# Objects per entity one CDC answer holds at most.
CDC_LIMIT = 1000
# Each CDC run starts a minute before the last one was answered, for clocks that disagree a little;
# what is read twice is skipped, its SyncToken being the one already written.
CDC_OVERLAP = timedelta(minutes=1)
# Intuit's change data capture answers for changes up to 30 days back; a cursor older than this (a
# day's margin for clocks and a run that starts late) is read through a query instead.
CDC_REACH = timedelta(days=29)
# Once that query is read through, change data capture goes on from this far back: it reports the
# deletions of those days, which no query shows, and the run (at most four hours) still has a day
# before they are out of its reach.
CATCH_UP_CDC_FROM = CDC_REACH - timedelta(days=1)

_log = logging.getLogger(__name__)


def _change(record: dict) -> Change:
	return Change(external_id=str(record["Id"]), record=record, version=str(record.get("SyncToken")))


def _query(
	api: QboApi, qbo_entity: str, order_by: str = "Id", where: str = "", page_size: int = MAX_RESULTS
) -> Callable[[str | None], Page]:
	def fetch(cursor: str | None) -> Page:
		if cursor and not cursor.isdigit():
			raise SyncError(f"{qbo_entity}: the migration cursor must be a STARTPOSITION, not {cursor!r}")
		start = int(cursor or 1)
		rows = api.query(
			qbo_entity, start_position=start, max_results=page_size, order_by=order_by, where=where
		)
		changes = [_change(row) for row in rows]
		return Page(changes, next_cursor=str(start + len(rows)), has_more=len(rows) == page_size)

	return fetch


def query_stream(api: QboApi, entity: str, page_size: int = MAX_RESULTS) -> Stream:
	"""All of one entity, parents before sub-accounts for the chart of accounts."""
	order_by = "FullyQualifiedName" if entity == mapping.ACCOUNT else "Id"
	fetch = _query(api, QBO_ENTITIES[entity], order_by, page_size=page_size)
	return Stream(entity=entity, fetch=fetch, map=MAPPERS[entity])


def read_all(api: QboApi, caller: ApiCaller, qbo_entity: str, where: str = "") -> list[dict]:
	"""Every record of a QBO entity, for what a run needs to know before it maps anything."""
	return [change.record for change in read_pages(_query(api, qbo_entity, where=where), caller)]


def migration_streams(api: QboApi, page_size: int = MAX_RESULTS) -> list[Stream]:
	return [query_stream(api, entity, page_size) for entity in MIGRATION_ORDER]


def cdc_cursor(moment: datetime) -> str:
	"""A changedSince cursor; the parallel run starts from the time the migration started."""
	return moment.isoformat()


def _parse_cursor(entity: str, cursor: str | None) -> datetime:
	if not cursor:
		raise SyncError(f"{entity}: the parallel run has no start time; it is set when the migration starts")
	try:
		return datetime.fromisoformat(cursor.replace("Z", "+00:00"))
	except ValueError:
		raise SyncError(
			f"{entity}: the parallel-run cursor must be a changedSince time, not {cursor!r}"
		) from None


def cdc_reaches(since: datetime, now: datetime) -> bool:
	"""Whether change data capture still answers for what changed since this time."""
	return now - since < CDC_REACH


@dataclass(frozen=True)
class CatchUp:
	"""A stream reading through a query what changed since a time change data capture no longer
	reaches: that time, the next STARTPOSITION, and the changedSince to go on from once it is read
	through (None until the first page sets it)."""

	since: str
	position: int = 1
	then: str | None = None

	@property
	def cursor(self) -> str:
		return json.dumps(
			{"changed_since": self.since, "position": self.position, "then_cdc_from": self.then}
		)

	@classmethod
	def parse(cls, entity: str, cursor: str | None) -> "CatchUp | None":
		if not (cursor or "").startswith("{"):
			return None
		try:
			value = json.loads(cursor)
			return cls(value["changed_since"], int(value["position"]), value["then_cdc_from"])
		except (ValueError, KeyError, TypeError):
			raise SyncError(f"{entity}: {cursor!r} is not a parallel-run cursor") from None


class CdcFeed:
	"""One CDC call answers for every entity; each entity's stream reads its part of the answer.
	Streams at the same cursor share the call, so a run costs one request, not one per entity.

	A cursor beyond CDC's reach (a long outage, a migration finished long ago) is caught up with a
	query per entity on MetaData.LastUpdatedTime, the latest change first: a record that changes while
	the query pages moves to the front and shifts the rest one place on, so a record is read twice (and
	skipped the second time by its SyncToken) rather than missed. Deleted records leave nothing a query
	can see: CDC, going on from CATCH_UP_CDC_FROM back, reports the deletions of those days, and a
	deletion older than that is only found by reading everything again and comparing it with what was
	written."""

	def __init__(
		self,
		api: QboApi,
		entities: tuple[str, ...] = CDC_ENTITIES,
		limit: int = CDC_LIMIT,
		catch_up_page_size: int = MAX_RESULTS,
	):
		self.api, self.entities, self.limit = api, entities, limit
		self.catch_up_page_size = catch_up_page_size
		self._since: str | None = None
		self._answer: dict = {}
		# The changedSince every catch-up that starts in this run goes on from, so that their streams
		# share CDC calls again afterwards.
		self._then: str | None = None

	def page(self, entity: str, cursor: str | None) -> Page:
		catch_up = CatchUp.parse(entity, cursor)
		if catch_up:
			return self._catch_up_page(entity, catch_up)
		since = _parse_cursor(entity, cursor)
		if not cdc_reaches(since, datetime.now(timezone.utc)):
			_log.warning(
				"QuickBooks %s: change data capture does not reach back to %s; reading the changes since "
				"through a query. Records deleted more than %s days ago are not seen that way.",
				entity,
				cursor,
				CATCH_UP_CDC_FROM.days,
			)
			return self._catch_up_page(entity, CatchUp(cursor))
		if cursor != self._since:
			self._answer = self.api.cdc([QBO_ENTITIES[e] for e in self.entities], cursor)
			self._since = cursor
		qbo_entity = QBO_ENTITIES[entity]
		rows = []
		for response in self._answer["CDCResponse"][0]["QueryResponse"]:
			rows += response.get(qbo_entity) or []
		changes = [
			Change(external_id=str(row["Id"]), deleted=True)
			if row.get("status") == "Deleted"
			else _change(row)
			for row in rows
		]
		if len(rows) >= self.limit:
			# QBO stops at its limit, earliest changes first: carry on from the latest one it sent, a
			# second before it, since change times are whole seconds and that second may hold more.
			latest = max(_parse_cursor(entity, r["MetaData"]["LastUpdatedTime"]) for r in rows)
			return Page(
				changes, next_cursor=cdc_cursor(max(since, latest - timedelta(seconds=1))), has_more=True
			)
		answered = datetime.fromisoformat(self._answer["time"].replace("Z", "+00:00"))
		return Page(changes, next_cursor=cdc_cursor(max(since, answered - CDC_OVERLAP)))

	def _catch_up_page(self, entity: str, catch_up: CatchUp) -> Page:
		since = _parse_cursor(entity, catch_up.since)
		rows, answered = self.api.changed_since(
			QBO_ENTITIES[entity], since, catch_up.position, self.catch_up_page_size
		)
		then = catch_up.then or self._then_from(answered)
		changes = [_change(row) for row in rows]
		if len(rows) == self.catch_up_page_size:
			following = CatchUp(catch_up.since, catch_up.position + len(rows), then)
			return Page(changes, next_cursor=following.cursor, has_more=True)
		# Read through: change data capture goes on in this run.
		return Page(changes, next_cursor=then, has_more=True)

	def _then_from(self, answered: str) -> str:
		if self._then is None:
			moment = datetime.fromisoformat(answered.replace("Z", "+00:00"))
			self._then = cdc_cursor(moment - CATCH_UP_CDC_FROM)
		return self._then

	def stream(self, entity: str) -> Stream:
		return Stream(entity=entity, fetch=lambda cursor: self.page(entity, cursor), map=MAPPERS[entity])


def cdc_streams(api: QboApi, limit: int = CDC_LIMIT, catch_up_page_size: int = MAX_RESULTS) -> list[Stream]:
	feed = CdcFeed(api, limit=limit, catch_up_page_size=catch_up_page_size)
	return [feed.stream(entity) for entity in CDC_ENTITIES]
