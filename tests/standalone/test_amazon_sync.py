"""The engine running the Amazon streams against the emulator, into an in-memory store."""

import dataclasses
import json
from decimal import ROUND_HALF_EVEN, Decimal

from kraal_connect.connectors.amazon import mapping
from kraal_connect.connectors.amazon.streams import (
	catalog_items_stream,
	fba_inventory_stream,
	listings_from,
	orders_stream,
	settlements_stream,
)
from kraal_connect.engine.records import Ref
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import sync_streams
from tests.standalone.amazon_support import (
	CA,
	FEE_ACCOUNTS,
	FIXTURES,
	MARKETPLACES,
	US,
	caller_for,
	context,
	make_api,
)
from tests.standalone.memory_store import MemoryStore

pytest_plugins = ("tests.standalone.amazon_fixtures",)

START = "2026-10-01T00:00:00Z"


def order_totals(data_dir) -> dict[str, Decimal]:
	orders = json.loads((data_dir / "orders/0001.json").read_text())["payload"]["Orders"]
	return {o["AmazonOrderId"]: Decimal(o["OrderTotal"]["Amount"]) for o in orders if "OrderTotal" in o}


def doc_total(doc) -> Decimal:
	items = sum(Decimal(str(i["rate"])) * i["qty"] for i in doc["items"])
	return items + sum(Decimal(str(t["tax_amount"])) for t in doc["taxes"])


def run(streams, store, caller, ctx=None):
	stats = RunStats()
	sync_streams(streams, store, caller, ctx or context(), stats)
	return stats


def test_an_order_whose_items_come_a_page_at_a_time_books_all_of_them(amazon_api, amazon_emulator):
	amazon_emulator.order_items_page_size = 1
	caller = caller_for(amazon_emulator)
	store = MemoryStore()
	run([orders_stream(amazon_api, caller, MARKETPLACES, START, page_size=3)], store, caller)
	expected = order_totals(FIXTURES)
	orders = store.live(mapping.ORDERS)
	assert {oid: doc_total(doc) for oid, doc in orders.items()} == {oid: expected[oid] for oid in orders}
	item_pages = [r for r in amazon_emulator.requests if r["path"].endswith("/orderItems")]
	assert len(item_pages) > len(orders)  # some order had more than one item, on more than one page


def test_orders_of_both_marketplaces_book_to_the_cent_and_a_second_run_writes_nothing(
	amazon_api, amazon_emulator
):
	amazon_emulator.set_rate_limit("getOrderItems", burst=2)
	caller = caller_for(amazon_emulator)
	store = MemoryStore()
	stream = orders_stream(amazon_api, caller, MARKETPLACES, START, page_size=3)
	stats = run([stream], store, caller)

	orders, invoices = store.live(mapping.ORDERS), store.live("order:invoice")
	assert sorted(orders) == [
		"111-4827361-0012001",
		"111-4827361-0012002",
		"111-4827361-0012003",
		"111-4827361-0012004",
		"702-5550101-0020001",
	]
	assert sorted(invoices) == [
		"111-4827361-0012001",
		"111-4827361-0012002",
		"111-4827361-0012003",
		"702-5550101-0020001",
	]
	expected = order_totals(FIXTURES)
	assert {oid: doc_total(doc) for oid, doc in orders.items()} == {oid: expected[oid] for oid in orders}
	assert {oid: doc_total(doc) for oid, doc in invoices.items()} == {oid: expected[oid] for oid in invoices}
	assert {oid: {i["sales_order"] for i in doc["items"]} for oid, doc in invoices.items()} == {
		oid: {Ref("order", oid)} for oid in invoices
	}
	counts = stats.counts[mapping.ORDERS]
	# Seven orders; the cancelled one (never booked) and the pending one write nothing.
	assert (counts.fetched, counts.created, counts.skipped, counts.failed) == (7, 5, 2, 0)
	assert store.cursors[mapping.ORDERS] == json.dumps({"LastUpdatedAfter": "2026-10-14T22:10:00Z"})
	first_page = json.loads(store.checkpoints[0][1])
	assert (first_page["LastUpdatedAfter"], first_page["HighWater"]) == (START, "2026-10-06T07:45:33Z")
	# Throttled order items were waited out one call at a time: getOrders ran once a page.
	order_items_calls = [r for r in amazon_emulator.requests if r["path"].endswith("/orderItems")]
	assert len(order_items_calls) == 5 + 3
	assert caller.sleep.slept == [2.0, 2.0, 2.0]
	assert [r["path"] for r in amazon_emulator.requests].count("/orders/v0/orders") == 3

	resumed = stream.fetch(store.checkpoints[0][1])
	assert [c.external_id for c in resumed.changes] == [
		"111-4827361-0012003",
		"111-4827361-0012005",
		"111-4827361-0012004",
	]
	assert [c.deleted for c in resumed.changes] == [False, True, False]

	inserts = store.inserts
	again = run([stream], store, caller)
	assert again.counts[mapping.ORDERS].fetched == 1  # the newest order again: LastUpdatedAfter is inclusive
	assert store.inserts == inserts


def test_an_order_cancelled_after_it_was_booked_cancels_its_sales_order(private_amazon_emulator, amazon_data):
	api = make_api(private_amazon_emulator)
	caller = caller_for(private_amazon_emulator)
	store = MemoryStore()
	stream = orders_stream(api, caller, MARKETPLACES, START)
	run([stream], store, caller)
	assert "111-4827361-0012004" in store.live(mapping.ORDERS)

	orders = json.loads((amazon_data / "orders/0001.json").read_text())["payload"]["Orders"]
	cancelled = next(o for o in orders if o["AmazonOrderId"] == "111-4827361-0012004")
	cancelled.update(OrderStatus="Canceled", LastUpdateDate="2026-10-15T09:00:00Z")
	del cancelled["OrderTotal"]
	(amazon_data / "orders/0002.json").write_text(json.dumps({"payload": {"Orders": [cancelled]}}))

	stats = run([stream], store, caller)
	assert "111-4827361-0012004" not in store.live(mapping.ORDERS)
	assert store.docs[("order", "111-4827361-0012004")]["docstatus"] == 2
	assert stats.counts[mapping.ORDERS].cancelled == 1
	api.close()


def test_settlements_book_one_journal_entry_each_and_an_unmapped_fee_type_fails_only_its_own(
	amazon_api, amazon_emulator
):
	caller = caller_for(amazon_emulator)
	store = MemoryStore()
	stream = settlements_stream(amazon_api, caller, MARKETPLACES, page_size=1)
	partial = {k: v for k, v in FEE_ACCOUNTS.items() if k != "Storage Fee"}
	stats = run([stream], store, caller, context(fee_accounts=partial))

	assert list(store.live(mapping.SETTLEMENTS)) == ["24881000002"]
	assert [(f.external_id, f.message) for f in stats.failures] == [
		(
			"24881000001",
			"Amazon settlement 24881000001: no Amazon Fee Type mapping for 'Storage Fee'; "
			"add it under Kraal Account Mapping",
		)
	]
	assert stats.status == "Partial"
	assert (stats.counts[mapping.SETTLEMENTS].created, stats.counts[mapping.SETTLEMENTS].failed) == (1, 1)
	# A page a report, newest first; the next run starts from the newest report's creation time.
	paging, done = (json.loads(cursor) for _, cursor in store.checkpoints)
	assert (paging["createdSince"], paging["newest"], bool(paging["nextToken"])) == (
		None,
		"2026-10-17T10:24:05Z",
		True,
	)
	assert done == {"createdSince": "2026-10-17T10:24:05Z", "read": ["52713019002"]}

	# With the mapping added, reading the reports again (the cursor cleared) books the one that failed.
	store.cursors[mapping.SETTLEMENTS] = None
	again = run([stream], store, caller)
	assert sorted(store.live(mapping.SETTLEMENTS)) == ["24881000001", "24881000002"]
	assert (again.counts[mapping.SETTLEMENTS].created, again.counts[mapping.SETTLEMENTS].skipped) == (1, 1)
	for settlement_id, deposit, clearing in (
		("24881000001", "22.66", "Amazon Clearing USD - KTC"),
		("24881000002", "62.56", "Amazon Clearing CAD - KTC"),
	):
		lines = store.live(mapping.SETTLEMENTS)[settlement_id]["accounts"]
		assert (lines[-1]["account"], Decimal(str(lines[-1]["debit_in_account_currency"]))) == (
			clearing,
			Decimal(deposit),
		)
		# Balanced in the company currency, each line as ERPNext converts it.
		assert sum(in_company(ln) for ln in lines) == 0


def in_company(line) -> Decimal:
	"""A Journal Entry line's credit less debit in the company currency, rounded as ERPNext does."""
	net = Decimal(str(line["credit_in_account_currency"])) - Decimal(str(line["debit_in_account_currency"]))
	rate = Decimal(str(line.get("exchange_rate", 1)))
	return (net * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def recording(stream, seen):
	"""The stream, its records also kept in `seen`: how the site can learn listings from other streams."""

	def map_and_keep(record, ctx):
		seen.append(record)
		return stream.map(record, ctx)

	return dataclasses.replace(stream, map=map_and_keep)


def test_fba_inventory_reconciles_and_listings_from_inventory_and_orders_become_items(
	amazon_api, amazon_emulator
):
	amazon_emulator.inventory_page_size = 2
	caller = caller_for(amazon_emulator)
	store, seen = MemoryStore(), []
	ctx = context(fba_stock={"Amazon FBA - KTC": {"KR-TOTE-002": 37}})
	stats = run(
		[
			recording(fba_inventory_stream(amazon_api, [US]), seen),
			recording(orders_stream(amazon_api, caller, MARKETPLACES, START), seen),
		],
		store,
		caller,
		ctx,
	)
	reconciled = {
		sku: doc for (kind, sku), doc in store.docs.items() if kind.startswith(f"{mapping.FBA_INVENTORY}:")
	}
	assert {sku: doc["items"] for sku, doc in reconciled.items()} == {
		f"{US}:KR-MUG-001": [
			{
				"item_code": "KR-MUG-001",
				"warehouse": "Amazon FBA - KTC",
				"qty": 146,
				"allow_zero_valuation_rate": 1,
			}
		]
	}
	# The tote already holds Amazon's 37 and the hat has none anywhere: nothing to book.
	assert stats.counts[mapping.FBA_INVENTORY].skipped == 2
	assert store.cursors[mapping.FBA_INVENTORY] is None

	listings = listings_from(seen)
	assert [(ln.seller_sku, ln.asin) for ln in listings] == [
		("KR-MUG-001", "B0KRAAL001"),
		("KR-TOTE-002", "B0KRAAL002"),
		("KR-HAT-004", "B0KRAAL004"),
		("KR-KNIFE-003", "B0KRAAL003"),
	]
	catalog = catalog_items_stream(amazon_api, caller, US, listings, page_size=3)
	run([catalog], store, caller, ctx)
	items = store.live(mapping.CATALOG_ITEMS)
	assert {sku: item["item_name"] for sku, item in items.items()} == {
		"KR-MUG-001": "Kraal Enamel Camp Mug, 350 ml, Speckled Blue",
		"KR-TOTE-002": "Kraal Waxed Canvas Tote Bag, 22 L, Olive",
		"KR-HAT-004": "Kraal Wide Brim Sun Hat, UPF 50, Khaki, L",
		"KR-KNIFE-003": "Kraal Folding Bush Knife, 8 cm Blade, Beech Handle",
	}
	assert "ASIN: B0KRAAL003" in items["KR-KNIFE-003"]["description"]
	# getCatalogItem allows two at once and two a second: the third and fourth waited half a second.
	catalog_calls = [r for r in amazon_emulator.requests if r["path"].startswith("/catalog/")]
	assert len(catalog_calls) == 6
	assert caller.sleep.slept[-2:] == [0.5, 0.5]


def test_fba_inventory_of_each_marketplace_is_read_with_its_marketplace_and_kept_apart(
	amazon_api, amazon_emulator
):
	amazon_emulator.inventory_page_size = 2
	caller = caller_for(amazon_emulator)
	store = MemoryStore()
	run([fba_inventory_stream(amazon_api, [US, CA])], store, caller, context())
	counted = {
		sku: (doc["items"][0]["warehouse"], doc["items"][0]["qty"])
		for (kind, sku), doc in store.docs.items()
		if kind.startswith(f"{mapping.FBA_INVENTORY}:")
	}
	# Each marketplace's own counts (the emulator answers each granularityId from its own file).
	assert counted == {
		f"{US}:KR-MUG-001": ("Amazon FBA - KTC", 146),
		f"{US}:KR-TOTE-002": ("Amazon FBA - KTC", 37),
		f"{CA}:KR-MUG-001": ("Amazon FBA CA - KTC", 32),
		f"{CA}:KR-TOTE-002": ("Amazon FBA CA - KTC", 9),
	}
	assert store.cursors[mapping.FBA_INVENTORY] is None
