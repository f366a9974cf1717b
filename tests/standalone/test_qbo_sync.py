"""The engine running QBO's streams against the emulator into an in-memory store.

A migration's documents are posted the way ERPNext posts them (a small ledger below, a stand-in for
ERPNext's GL that the in-bench suite checks for real) and compared with the emulator's TrialBalance,
which it computes from QBO's records by QBO's rules: the two must agree to the cent.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kraal_connect.connectors.fields import cents
from kraal_connect.connectors.qbo import mapping
from kraal_connect.connectors.qbo.mapping import QboKey, QboPushContext
from kraal_connect.connectors.qbo.streams import (
	CDC_ENTITIES,
	MIGRATION_ORDER,
	CatchUp,
	cdc_cursor,
	cdc_reaches,
	cdc_streams,
	migration_streams,
)
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.records import Ref
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import sync_streams
from tests.standalone.memory_store import MemoryStore
from tests.standalone.qbo_support import REALM, context, records

pytest_plugins = ["tests.standalone.qbo_fixtures"]

STOCK_IN_HAND = "Stock In Hand - PPS"  # the warehouse's account; QBO's Inventory Asset is mapped onto it
ACCOUNTS = {
	**context().accounts,
	"24": "Utilities (own postings) - PPS",
	"37": "Equipment (own postings) - PPS",
	"81": STOCK_IN_HAND,
}
CTX = context(accounts=ACCOUNTS, mapped_accounts={"81": STOCK_IN_HAND})
PROFIT_AND_LOSS = {
	ACCOUNTS[a["Id"]] for a in records("Account") if a["Classification"] in ("Revenue", "Expense")
}
RETAINED_EARNINGS = ACCOUNTS["2"]
EXCHANGE_GAIN_OR_LOSS = ACCOUNTS["91"]


def migrate(api, store, page_size=3) -> RunStats:
	stats = RunStats()
	sync_streams(migration_streams(api, page_size), store, ApiCaller(), CTX, stats)
	return stats


def ledger(store: MemoryStore, end: date, year_start: date) -> dict[str, Decimal]:
	"""Debit - credit per account from the stored documents, as ERPNext's GL books them once its stock
	reposts ran, counted as QBO's TrialBalance counts them: stock moves first in, first out in posting
	order (purchases before sales on a day), sales returns at the item's valuation rate; a payment's
	exchange difference booked by ERPNext's exchange journal to the company's Exchange Gain/Loss
	account, the one QBO's maps to."""
	balances: dict[str, Decimal] = defaultdict(Decimal)
	layers: dict[Ref, list[list[Decimal]]] = defaultdict(list)

	def item(ref: Ref) -> dict:
		return store.docs[(ref.external_type, ref.external_id)]

	def issue(ref: Ref, qty: Decimal) -> Decimal:
		taken = Decimal(0)
		while qty:
			held, value = layers[ref][0]
			part = min(held, qty)
			out = value if part == held else cents(value * part / held)
			layers[ref][0] = [held - part, value - out]
			if part == held:
				layers[ref].pop(0)
			taken, qty = taken + out, qty - part
		return taken

	def post(account: str, amount: Decimal, posted: str) -> None:
		if date.fromisoformat(posted) > end:
			return
		if account in PROFIT_AND_LOSS and date.fromisoformat(posted) < year_start:
			account = RETAINED_EARNINGS
		balances[account] += amount

	documents = sorted(
		(doc for doc in store.docs.values() if doc.get("docstatus") == 1 and "posting_date" in doc),
		key=lambda doc: (doc["posting_date"], doc["doctype"] != "Purchase Invoice"),
	)
	for doc in documents:
		posted, doctype = doc["posting_date"], doc["doctype"]
		rate = Decimal(str(doc.get("conversion_rate", 1)))
		if doctype in ("Sales Invoice", "Purchase Invoice"):
			sign = 1 if doctype == "Purchase Invoice" else -1  # income is a credit, expense a debit
			grand = Decimal(0)
			for row in doc["items"]:
				qty = Decimal(str(row["qty"]))
				amount = cents(qty * Decimal(str(row["rate"])))
				grand += amount
				defaults = item(row["item_code"])["item_defaults"][0] if "item_code" in row else {}
				if doctype == "Sales Invoice":
					income = row.get("income_account") or defaults["income_account"]
					post(income, sign * cents(amount * rate), posted)
					if row.get("warehouse"):
						if qty > 0:
							cost = issue(row["item_code"], qty)
						else:
							cost = cents(qty * Decimal(str(item(row["item_code"])["valuation_rate"])))
							layers[row["item_code"]].append([-qty, -cost])
						post(defaults["expense_account"], cost, posted)
						post(STOCK_IN_HAND, -cost, posted)
				else:
					if row.get("warehouse"):
						if qty > 0:
							layers[row["item_code"]].append([qty, amount])
						else:
							issue(row["item_code"], -qty)
					account = (
						STOCK_IN_HAND
						if row.get("warehouse")
						else row.get("expense_account") or defaults["expense_account"]
					)
					post(account, sign * cents(amount * rate), posted)
			for tax in doc["taxes"]:
				post(tax["account_head"], sign * cents(Decimal(str(tax["tax_amount"])) * rate), posted)
				grand += Decimal(str(tax["tax_amount"]))
			party_account = doc.get("debit_to") or doc["credit_to"]
			post(party_account, -sign * cents(grand * rate), posted)
		elif doctype == "Payment Entry":
			received = Decimal(str(doc["received_amount"])) * Decimal(str(doc["target_exchange_rate"]))
			paid = Decimal(str(doc["paid_amount"])) * Decimal(str(doc["source_exchange_rate"]))
			post(doc["paid_to"], cents(received), posted)
			post(doc["paid_from"], -cents(paid), posted)
			receive = doc["payment_type"] == "Receive"
			party_rate = Decimal(str(doc["source_exchange_rate" if receive else "target_exchange_rate"]))
			for reference in doc["references"]:
				settled = item(reference["reference_name"])
				booked_at = Decimal(str(settled.get("conversion_rate", party_rate)))
				difference = cents(Decimal(str(reference["allocated_amount"])) * (booked_at - party_rate))
				post(
					doc["paid_from" if receive else "paid_to"], -difference if receive else difference, posted
				)
				post(EXCHANGE_GAIN_OR_LOSS, difference if receive else -difference, posted)
		elif doctype == "Journal Entry":
			for row in doc["accounts"]:
				amount = Decimal(str(row["debit_in_account_currency"])) - Decimal(
					str(row["credit_in_account_currency"])
				)
				post(row["account"], cents(amount * Decimal(str(row["exchange_rate"]))), posted)
	return balances


@pytest.mark.parametrize("end", [date(2023, 12, 31), date(2024, 5, 31), date(2024, 12, 31)])
def test_a_migration_reproduces_qbos_trial_balance_to_the_cent(qbo_api, end):
	store = MemoryStore()
	stats = migrate(qbo_api, store)
	assert stats.status == "Success", stats.failures
	assert list(stats.counts) == list(MIGRATION_ORDER)
	assert {e: (c.fetched, c.created, c.skipped) for e, c in stats.counts.items()} == {
		"account": (24, 23, 1),  # Inventory Asset is mapped onto the warehouse's account
		"term": (3, 3, 0),
		"customer": (5, 5, 0),
		"vendor": (3, 3, 0),
		"item": (5, 4, 1),  # a category
		"tax_code": (1, 1, 0),
		"bill": (7, 7, 0),
		"vendor_credit": (1, 1, 0),
		"invoice": (8, 8, 0),
		"credit_memo": (1, 1, 0),
		"sales_receipt": (1, 1, 0),
		"payment": (6, 6, 0),
		"bill_payment": (4, 4, 0),
		"deposit": (2, 2, 0),
		"transfer": (1, 1, 0),
		"journal_entry": (3, 3, 0),
	}
	report = qbo_api.trial_balance(end)
	books = ledger(store, end, date(end.year, 1, 1))
	assert mapping.compare_trial_balance(report, books, ACCOUNTS) == []


def test_a_missing_document_shows_as_differing_accounts(qbo_api):
	store = MemoryStore()
	migrate(qbo_api, store)
	del store.docs[("payment", "153")]
	books = ledger(store, date(2024, 12, 31), date(2024, 1, 1))
	differences = mapping.compare_trial_balance(qbo_api.trial_balance(date(2024, 12, 31)), books, ACCOUNTS)
	assert [(d.erpnext_account, d.qbo_account_ids, d.difference) for d in differences] == [
		("1010 - Checking - PPS", ("35",), Decimal("-200.00")),
		("1100 - Accounts Receivable (A/R) - PPS", ("84",), Decimal("200.00")),  # no balance at QBO
	]


def test_a_second_migration_run_writes_nothing(qbo_api):
	store = MemoryStore()
	migrate(qbo_api, store)
	inserts = store.inserts
	again = migrate(qbo_api, store)
	assert sum(c.fetched for c in again.counts.values()) == 0
	assert store.inserts == inserts


def run_cdc(api, store, **options) -> RunStats:
	stats = RunStats()
	sync_streams(cdc_streams(api, **options), store, ApiCaller(), CTX, stats)
	return stats


def test_the_parallel_run_applies_changes_and_deletions_in_one_cdc_call(qbo_api, qbo_emulator):
	store = MemoryStore()
	migrate(qbo_api, store)
	start = cdc_cursor(datetime.now(timezone.utc) - timedelta(seconds=5))
	store.cursors.update({entity: start for entity in CDC_ENTITIES})
	qbo_api.update("Invoice", {"Id": "133", "SyncToken": "0", "PrivateNote": "chased twice"})
	qbo_api.delete("Payment", "153", "0")
	wombat = qbo_api.create(
		"Vendor", {"DisplayName": "Wombat Wires", "PrimaryEmailAddr": {"Address": "w@w.example"}}
	)
	qbo_emulator.requests.clear()

	stats = run_cdc(qbo_api, store)
	assert stats.status == "Success", stats.failures
	changed = {e: (c.created, c.updated, c.cancelled) for e, c in stats.counts.items() if c.fetched}
	assert changed == {"vendor": (1, 0, 0), "invoice": (0, 1, 0), "payment": (0, 0, 1)}
	assert [r["path"] for r in qbo_emulator.requests] == [f"/v3/company/{REALM}/cdc"]
	assert store.docs[("invoice", "133")]["remarks"] == "QuickBooks Invoice 1005: chased twice"
	assert store.docs[("payment", "153")]["docstatus"] == 2
	assert store.docs[("vendor:contact", wombat["Id"])]["email_ids"][0]["email_id"] == "w@w.example"
	assert all(store.cursors[e] >= start for e in CDC_ENTITIES)

	again = run_cdc(qbo_api, store)  # the overlap reads the same changes: nothing is applied twice
	assert {e: (c.created, c.updated, c.cancelled) for e, c in again.counts.items() if c.fetched} == {
		"vendor": (0, 0, 0),
		"invoice": (0, 0, 0),
		"payment": (0, 0, 0),
	}


def test_cdc_past_qbos_limit_carries_on_from_the_latest_change(qbo_api, qbo_emulator):
	since = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=10)
	realm = qbo_emulator.realms[REALM]
	for seconds, name in enumerate(("Numbat Nails", "Possum Plumbing", "Quoll Quarry"), 1):
		created = qbo_api.create("Customer", {"DisplayName": name})
		changed = since + timedelta(seconds=seconds)  # one second apart, as if made one after another
		realm.changed[("Customer", created["Id"])] = changed
		realm.records["Customer"][created["Id"]]["MetaData"]["LastUpdatedTime"] = changed.isoformat()
	qbo_emulator.cdc_limit = 2
	try:
		[customers] = [s for s in cdc_streams(qbo_api, limit=2) if s.entity == "customer"]
		cursor, pages, seen = cdc_cursor(since), [], set()
		while len(pages) < 5:
			page = customers.fetch(cursor)
			pages.append([c.record["DisplayName"] for c in page.changes])
			seen.update(pages[-1])
			cursor = page.next_cursor
			if not page.has_more:
				break
	finally:
		del qbo_emulator.cdc_limit
	assert pages == [
		["Numbat Nails", "Possum Plumbing"],
		["Possum Plumbing", "Quoll Quarry"],
		["Quoll Quarry"],
	]
	assert seen == {"Numbat Nails", "Possum Plumbing", "Quoll Quarry"}


def test_what_erpnext_pushed_comes_back_through_cdc_as_already_written(qbo_api):
	"""The SyncToken QBO returns on a push is the version CDC reports: the writer skips it."""
	push_ctx = QboPushContext(
		company=CTX.company,
		company_currency="USD",
		links={
			("Customer", "Acme Hardware"): QboKey("Customer", "1"),
			("Item", "Consulting"): QboKey("Item", "1"),
		},
		qbo_tax_codes={"California - PPS": "2"},
	)
	doc = {
		"doctype": "Sales Invoice",
		"name": "ACC-SINV-2026-00042",
		"customer": "Acme Hardware",
		"posting_date": "2026-07-01",
		"due_date": "2026-07-31",
		"currency": "USD",
		"conversion_rate": 1,
		"items": [{"item_code": "Consulting", "qty": 2.5, "rate": 150, "amount": 375}],
		"taxes": [],
		"discount_amount": 0,
	}
	since = cdc_cursor(datetime.now(timezone.utc) - timedelta(seconds=5))
	push = mapping.to_qbo(doc, push_ctx)
	created = qbo_api.create(push.entity, push.body)
	assert created["TotalAmt"] == Decimal("375")
	store = MemoryStore()
	store.docs[("invoice", created["Id"])] = doc
	store.versions[("invoice", created["Id"])] = created["SyncToken"]
	store.cursors.update({entity: since for entity in CDC_ENTITIES})
	stats = run_cdc(qbo_api, store)
	assert (stats.counts["invoice"].fetched, stats.counts["invoice"].skipped) == (1, 1)
	assert store.inserts == 0


def test_cdc_is_trusted_29_days_back_a_day_short_of_intuits_30():
	now = datetime(2026, 3, 31, 12, tzinfo=timezone.utc)
	assert cdc_reaches(now - timedelta(days=28, hours=23), now)
	assert not cdc_reaches(now - timedelta(days=29), now)
	assert not cdc_reaches(now - timedelta(days=45), now)


def test_a_catch_up_cursor_reads_back_and_a_garbled_one_is_an_error():
	catch_up = CatchUp("2026-01-01T00:00:00+00:00", 1001, "2026-02-10T00:00:00+00:00")
	assert CatchUp.parse("customer", catch_up.cursor) == catch_up
	assert CatchUp.parse("customer", "2026-01-01T00:00:00+00:00") is None
	with pytest.raises(SyncError, match="not a parallel-run cursor"):
		CatchUp.parse("customer", '{"position": 3}')


def test_a_cursor_beyond_cdcs_reach_is_caught_up_through_queries_and_cdc_goes_on(
	qbo_api, qbo_emulator, caplog
):
	store = MemoryStore()
	migrate(qbo_api, store)
	now = datetime.now(timezone.utc).replace(microsecond=0)
	store.cursors.update({entity: cdc_cursor(now - timedelta(days=40)) for entity in CDC_ENTITIES})
	realm = qbo_emulator.realms[REALM]
	for qbo_id, days in (("1", 35), ("2", 33), ("3", 31)):  # only a query still sees these changes
		customer = realm.records["Customer"][qbo_id]
		customer.update(SyncToken=str(int(customer["SyncToken"]) + 1), CompanyName=f"Renamed {qbo_id}")
		customer["MetaData"]["LastUpdatedTime"] = (now - timedelta(days=days)).isoformat()
		realm.changed[("Customer", qbo_id)] = now - timedelta(days=days)
	qbo_api.update("Invoice", {"Id": "133", "SyncToken": "0", "PrivateNote": "chased twice"})
	qbo_api.delete("Payment", "153", "0")  # a deletion only CDC reports
	qbo_api.create("Vendor", {"DisplayName": "Wombat Wires"})
	qbo_emulator.requests.clear()

	stats = run_cdc(qbo_api, store, catch_up_page_size=2)
	assert stats.status == "Success", stats.failures
	changed = {
		e: (c.created, c.updated, c.cancelled)
		for e, c in stats.counts.items()
		if c.created or c.updated or c.cancelled
	}
	assert changed == {"customer": (0, 3, 0), "vendor": (1, 0, 0), "invoice": (0, 1, 0), "payment": (0, 0, 1)}
	paths = [r["path"] for r in qbo_emulator.requests]
	assert paths.count(f"/v3/company/{REALM}/query") == len(CDC_ENTITIES) + 1  # customers: two pages
	assert paths.count(f"/v3/company/{REALM}/cdc") == 1  # every stream goes on from the same time
	assert all(store.cursors[e] >= cdc_cursor(now - timedelta(minutes=5)) for e in CDC_ENTITIES)
	assert "Records deleted more than 28 days ago are not seen" in caplog.text

	qbo_emulator.requests.clear()
	again = run_cdc(qbo_api, store)
	assert [r["path"] for r in qbo_emulator.requests] == [f"/v3/company/{REALM}/cdc"]
	assert not any(c.created or c.updated or c.cancelled for c in again.counts.values())
