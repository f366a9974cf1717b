"""Amazon seller accounts on a real site, against the SP-API emulator over HTTP."""

import json
import shutil
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import frappe
import pytest

from emulators.amazon import AmazonEmulator
from kraal_connect import api
from kraal_connect.connectors.amazon import mapping
from kraal_connect.connectors.amazon.client import AmazonApi
from kraal_connect.connectors.amazon.integration import AmazonConnector
from kraal_connect.engine.runner import run_integration
from tests.bench.amazon_helpers import (
	CA,
	COMPANY,
	FIXTURES,
	KNIFE,
	KNIFE_OPENING_QTY,
	START,
	TRANSACTIONS,
	US,
	account,
	connect,
	ensure_cad_rate,
	ensure_company,
	linked,
	lwa_credentials,
	on_hand,
	order_total,
	purge,
	source_orders,
	stock_the_knife,
	unstock_the_knife,
)
from tests.bench.site_helpers import counts, latest_log
from tests.bench.test_failed_records import run_queued_retry

SHIPPED = ["111-4827361-0012001", "111-4827361-0012002", "111-4827361-0012003", "702-5550101-0020001"]
UNSHIPPED = "111-4827361-0012004"
CANCELLED, PENDING = "111-4827361-0012005", "702-5550101-0020002"
DEPOSITS = {"24881000001": ("USD", Decimal("22.66")), "24881000002": ("CAD", Decimal("62.56"))}
CATALOG = {
	"KR-MUG-001": "B0KRAAL001",
	"KR-TOTE-002": "B0KRAAL002",
	"KR-KNIFE-003": "B0KRAAL003",
	"KR-HAT-004": "B0KRAAL004",
}


@pytest.fixture(scope="module", autouse=True)
def amazon_company(site):
	ensure_company()
	rate = ensure_cad_rate()
	yield
	if rate:
		frappe.delete_doc("Currency Exchange", rate, force=True, delete_permanently=True)
		frappe.db.commit()
	assert not frappe.get_all("Kraal Integration", filters={"company": COMPANY}), "an integration was left"
	assert not any(frappe.db.count(doctype, {"company": COMPANY}) for doctype in TRANSACTIONS)
	# What the runs' prepare() created went with their integrations.
	assert not frappe.get_all("Customer", filters={"customer_name": ("in", ["Amazon.com", "Amazon.ca"])})
	assert not frappe.db.exists("Warehouse", account("Amazon FBA"))
	assert not frappe.db.exists("Warehouse", account("Amazon FBA CA"))
	assert not frappe.db.exists("Account", account("Debtors CAD"))
	assert not frappe.get_all("Item", filters={"item_code": ("in", list(CATALOG))})


@pytest.fixture
def amazon_data(tmp_path) -> Path:
	return Path(shutil.copytree(FIXTURES, tmp_path / "amazon"))


@pytest.fixture
def amazon_emulator(amazon_data):
	emulator = AmazonEmulator(amazon_data).start()
	# Two catalog items a second would make every run sleep; Amazon's other plans are kept.
	emulator.set_rate_limit("getCatalogItem", burst=10)
	yield emulator
	emulator.stop()


@pytest.fixture
def connected(amazon_emulator, amazon_data):
	"""connected(**options) -> an integration on the emulator, the merchant's knife in stock; purged after."""
	names = []
	stock_the_knife()

	def connect_(**options):
		names.append(connect(amazon_emulator.url, amazon_data, **options))
		return names[-1]

	yield connect_
	for name in names:
		purge(name)
	unstock_the_knife()


@pytest.fixture
def closed_october(connected):
	"""closed_october(doctypes) -> an Accounting Period of October 2026 closing those documents; it goes
	before the purge, which cancels documents of that month."""
	periods = []

	def close(doctypes: list[str]) -> str:
		period = frappe.get_doc(
			{
				"doctype": "Accounting Period",
				"period_name": f"Kraal October {frappe.generate_hash(length=4)}",
				"company": COMPANY,
				"start_date": "2026-10-01",
				"end_date": "2026-10-31",
				"closed_documents": [{"document_type": doctype, "closed": 1} for doctype in doctypes],
			}
		).insert()
		frappe.db.commit()
		periods.append(period.name)
		return period.name

	yield close
	frappe.db.rollback()
	for name in periods:
		frappe.delete_doc("Accounting Period", name, force=True, delete_permanently=True)
	frappe.db.commit()


def cursors(integration: str) -> dict[str, str]:
	return {row.entity: row.cursor for row in frappe.get_doc("Kraal Integration", integration).entities}


def sync(integration: str):
	assert run_integration(integration, "Manual")
	frappe.db.rollback()  # see what the run committed
	return latest_log(integration)


def grand_total(doctype: str, name: str) -> Decimal:
	return Decimal(str(frappe.db.get_value(doctype, name, "grand_total")))


def stock_in(warehouse: str) -> dict[str, float]:
	return dict(
		frappe.get_all(
			"Bin", filters={"warehouse": warehouse}, fields=["item_code", "actual_qty"], as_list=True
		)
	)


def written_counts() -> dict[str, int]:
	return {
		**{
			doctype: frappe.db.count(doctype, {"company": COMPANY})
			for doctype in (*TRANSACTIONS, "GL Entry", "Stock Ledger Entry")
		},
		"Item": frappe.db.count("Item", {"item_code": ("in", list(CATALOG))}),
		"Customer": frappe.db.count("Customer", {"customer_name": ("like", "Amazon.%")}),
	}


def test_a_full_sync_books_orders_invoices_settlements_items_and_fba_stock(connected, amazon_data):
	integration = connected()
	log = sync(integration)
	assert log.status == "Success", log.summary
	assert counts(log) == {
		mapping.FBA_INVENTORY: (5, 4, 0, 0, 1, 0),  # the US's three, Canada's two; the hat: none, none here
		mapping.ORDERS: (7, 5, 0, 0, 2, 0),  # the cancelled and the pending one book nothing
		# The orders and inventory made three Items first; the merchant's own knife is matched, not
		# rewritten (engine/shared_masters).
		mapping.CATALOG_ITEMS: (4, 0, 3, 0, 1, 0),
		mapping.SETTLEMENTS: (2, 2, 0, 0, 0, 0),
	}

	# A Sales Order per accepted order, to the cent of Amazon's OrderTotal; invoices for shipped ones.
	orders = source_orders(amazon_data)
	sales_orders = linked(integration, mapping.ORDERS)
	invoices = linked(integration, f"{mapping.ORDERS}:{mapping.INVOICE}")
	assert sorted(sales_orders) == sorted([*SHIPPED, UNSHIPPED])
	assert sorted(invoices) == sorted(SHIPPED)
	assert {oid: grand_total("Sales Order", so) for oid, so in sales_orders.items()} == {
		oid: order_total(orders[oid]) for oid in sales_orders
	}
	assert {oid: grand_total("Sales Invoice", si) for oid, si in invoices.items()} == {
		oid: order_total(orders[oid]) for oid in invoices
	}
	for oid in (CANCELLED, PENDING):
		assert not frappe.db.exists("Sales Order", {"po_no": oid})
		assert not frappe.db.exists("Sales Invoice", {"po_no": oid})
	assert frappe.db.count("Sales Order", {"company": COMPANY}) == 5
	assert frappe.db.count("Sales Invoice", {"company": COMPANY}) == 4

	# Invoiced orders are billed through their rows; the unshipped one waits to be billed.
	for oid, so in sales_orders.items():
		status, per_billed = frappe.db.get_value("Sales Order", so, ["status", "per_billed"])
		assert (status, per_billed) == (("Completed", 100) if oid in SHIPPED else ("To Bill", 0)), oid

	# A customer per marketplace; Amazon.ca's CAD invoices go to a CAD receivable.
	customers = frappe.db.get_value(
		"Sales Order", sales_orders["702-5550101-0020001"], ["customer", "currency"]
	)
	assert tuple(customers) == ("Amazon.ca", "CAD")
	assert frappe.db.get_value("Sales Order", sales_orders[UNSHIPPED], "customer") == "Amazon.com"
	cad_invoice = frappe.get_doc("Sales Invoice", invoices["702-5550101-0020001"])
	assert (cad_invoice.debit_to, cad_invoice.party_account_currency) == (account("Debtors CAD"), "CAD")
	assert dict(
		frappe.get_all(
			"Kraal Account Mapping",
			filters={"integration": integration, "key_type": mapping.MARKETPLACE},
			fields=["external_key", "target_name"],
			as_list=True,
		)
	) == {"Amazon.com": "Amazon.com", "Amazon.ca": "Amazon.ca"}

	# FBA and merchant fulfilment recorded; only the merchant's shipment moved its own stock.
	afn = frappe.db.get_value(
		"Kraal Account Mapping",
		{"integration": integration, "key_type": mapping.FULFILMENT, "external_key": "AFN"},
		"target_name",
	)
	assert afn == account("Amazon FBA")
	fba_order = frappe.get_doc("Sales Order", sales_orders["111-4827361-0012001"])
	assert fba_order.set_warehouse == afn
	assert "Fulfilled by Amazon (AFN)" in fba_order.items[0].additional_notes
	merchant_invoice = frappe.get_doc("Sales Invoice", invoices["111-4827361-0012003"])
	assert (merchant_invoice.set_warehouse, merchant_invoice.update_stock) == (account("Stores"), 1)
	assert "Fulfilled by the merchant (MFN)" in merchant_invoice.remarks
	assert stock_in(account("Stores"))[KNIFE] == KNIFE_OPENING_QTY - 1

	# FBA stock is Amazon's on-hand count (fulfillable and reserved), each marketplace's in its own
	# warehouse, in the bins and the stock ledger.
	assert on_hand(amazon_data, CA) == {"KR-MUG-001": 32, "KR-TOTE-002": 9}
	fba_warehouses = dict(
		frappe.get_all(
			"Kraal Account Mapping",
			filters={"integration": integration, "key_type": mapping.FBA_MARKETPLACE},
			fields=["external_key", "target_name"],
			as_list=True,
		)
	)
	assert fba_warehouses == {US: afn, CA: account("Amazon FBA CA")}
	# (The hat has a bin there too, empty: Amazon.ca's order of it reserves it there.)
	assert {sku: qty for sku, qty in stock_in(account("Amazon FBA CA")).items() if qty} == on_hand(
		amazon_data, CA
	)
	assert frappe.db.get_value(
		"Sales Order", sales_orders["702-5550101-0020001"], "set_warehouse"
	) == account("Amazon FBA CA")
	counted = on_hand(amazon_data, US)
	assert counted == {"KR-MUG-001": 146, "KR-TOTE-002": 37, "KR-HAT-004": 0}
	held = stock_in(afn)
	assert {sku: held.get(sku, 0) for sku in counted} == counted
	for sku, qty in counted.items():
		if not qty:
			continue
		ledger = frappe.get_all(
			"Stock Ledger Entry",
			filters={"item_code": sku, "warehouse": afn, "is_cancelled": 0},
			fields=["voucher_type", "qty_after_transaction"],
			order_by="posting_date desc, posting_time desc, creation desc",
			limit=1,
		)[0]
		assert (ledger.voucher_type, ledger.qty_after_transaction) == ("Stock Reconciliation", qty)

	# An Item per seller SKU, described from the catalog with its ASIN; the merchant's own Item of the
	# knife keeps what the merchant wrote, and is linked as matched.
	for sku, asin in CATALOG.items():
		item = frappe.get_doc("Item", sku)
		if sku == KNIFE:
			assert item.item_name == "Folding knife" and "ASIN" not in (item.description or "")
			assert frappe.db.get_value(
				"Kraal External Link", {"integration": integration, "reference_name": KNIFE}, "matched"
			)
			continue
		assert f"ASIN: {asin}" in item.description
		assert item.item_name.startswith("Kraal ")

	# One Journal Entry per settlement, its net to the clearing account the deposit to the cent.
	journals = linked(integration, mapping.SETTLEMENTS)
	assert sorted(journals) == sorted(DEPOSITS)
	for settlement_id, (currency, deposit) in DEPOSITS.items():
		journal = frappe.get_doc("Journal Entry", journals[settlement_id])
		assert (journal.docstatus, journal.cheque_no, str(journal.posting_date)) == (
			1,
			settlement_id,
			"2026-10-17",
		)
		clearing = account(f"Amazon Clearing {currency}")
		gl = frappe.get_all(
			"GL Entry",
			filters={"voucher_type": "Journal Entry", "voucher_no": journal.name, "is_cancelled": 0},
			fields=["account", "debit", "credit", "debit_in_account_currency", "credit_in_account_currency"],
		)
		to_clearing = sum(
			Decimal(str(g.debit_in_account_currency)) - Decimal(str(g.credit_in_account_currency))
			for g in gl
			if g.account == clearing
		)
		assert to_clearing == deposit
		assert sum(Decimal(str(g.debit)) for g in gl) == sum(Decimal(str(g.credit)) for g in gl)
		assert "Amazon fees" in journal.user_remark and "referral commission" in journal.user_remark
	us_journal = frappe.get_doc("Journal Entry", journals["24881000001"])
	assert "Amazon fees -79.30, of which referral commission -14.77" in us_journal.user_remark
	# The settlement credits each marketplace customer's receivable with what its invoices debited.
	assert receivable_balance("Amazon.com") == 0
	assert receivable_balance("Amazon.ca", in_account_currency=True) == 0


def receivable_balance(customer: str, in_account_currency: bool = False) -> Decimal:
	debit, credit = (
		("debit_in_account_currency", "credit_in_account_currency")
		if in_account_currency
		else ("debit", "credit")
	)
	rows = frappe.get_all(
		"GL Entry",
		filters={"party_type": "Customer", "party": customer, "company": COMPANY, "is_cancelled": 0},
		fields=[debit, credit],
		as_list=True,
	)
	return sum((Decimal(str(d)) - Decimal(str(c)) for d, c in rows), Decimal(0))


def test_a_second_sync_writes_nothing(connected):
	integration = connected()
	sync(integration)
	before = written_counts()
	log = sync(integration)
	assert log.status == "Success", log.summary
	assert {entity: c[1:4] for entity, c in counts(log).items()} == {
		entity: (0, 0, 0) for entity in AmazonConnector.entities
	}
	assert all(c[5] == 0 for c in counts(log).values())
	assert written_counts() == before


def test_an_unmapped_fee_type_fails_only_its_settlement_until_it_is_mapped(connected):
	integration = connected(unmapped_fee_types=("Storage Fee",))
	log = sync(integration)
	assert log.status == "Partial"
	assert [(f.entity, f.external_id, f.message) for f in log.failures] == [
		(
			mapping.SETTLEMENTS,
			"24881000001",
			"Amazon settlement 24881000001: no Amazon Fee Type mapping for 'Storage Fee'; "
			"add it under Kraal Account Mapping",
		)
	]
	assert sorted(linked(integration, mapping.SETTLEMENTS)) == ["24881000002"]
	assert len(linked(integration, mapping.ORDERS)) == 5
	secrets = frappe.get_doc("Kraal Integration", integration).secrets()
	assert not any(secret in json.dumps(log.as_dict(), default=str) for secret in secrets if secret)
	failure = frappe.get_doc(
		"Kraal Failed Record", {"integration": integration, "external_id": "24881000001"}
	)
	assert (failure.status, failure.mapping_type, failure.mapping_key) == (
		"Open",
		mapping.FEE_TYPE,
		"Storage Fee",
	)
	row = frappe.get_doc(
		"Kraal Account Mapping",
		{"integration": integration, "key_type": mapping.FEE_TYPE, "external_key": "Storage Fee"},
	)
	assert (row.target_doctype, row.target_name) == ("Account", None)
	before = cursors(integration)

	# A person fills the row in: its save queues the settlement's retry, which a worker runs. Amazon
	# cannot return one settlement, so the one received is booked; no cursor is touched.
	row.target_name = account("Amazon FBA Fees")
	row.save()
	frappe.db.commit()
	log = frappe.get_doc("Kraal Sync Log", run_queued_retry(integration))
	assert (log.trigger, log.status) == ("Retry", "Success"), log.summary
	assert counts(log) == {mapping.SETTLEMENTS: (1, 1, 0, 0, 0, 0)}
	assert [(r.entity, r.external_id, r.failed_record) for r in log.fixed] == [
		(mapping.SETTLEMENTS, "24881000001", failure.name)
	]
	assert cursors(integration) == before
	failure.reload()
	assert (failure.status, failure.fixed_by) == ("Fixed", log.name)
	journals = linked(integration, mapping.SETTLEMENTS)
	assert sorted(journals) == sorted(DEPOSITS)
	storage = frappe.get_all(
		"Journal Entry Account",
		filters={"parent": journals["24881000001"], "user_remark": "Storage Fee"},
		fields=["account", "debit_in_account_currency"],
	)
	assert [(s.account, s.debit_in_account_currency) for s in storage] == [(account("Amazon FBA Fees"), 3.12)]
	clearing = frappe.get_all(
		"GL Entry",
		filters={
			"voucher_no": journals["24881000001"],
			"account": account("Amazon Clearing USD"),
			"is_cancelled": 0,
		},
		fields=["debit", "credit"],
	)
	assert sum(Decimal(str(g.debit)) - Decimal(str(g.credit)) for g in clearing) == DEPOSITS["24881000001"][1]
	# The next run has nothing left to book.
	log = sync(integration)
	assert (log.status, log.fixed, [c[1:4] for c in counts(log).values()]) == (
		"Success",
		[],
		[(0, 0, 0)] * len(AmazonConnector.entities),
	)


def test_an_order_cancelled_at_amazon_after_it_was_booked_cancels_its_sales_order(connected, amazon_data):
	integration = connected()
	sync(integration)
	sales_order = linked(integration, mapping.ORDERS)[UNSHIPPED]
	assert frappe.db.get_value("Sales Order", sales_order, "docstatus") == 1

	cancelled = dict(source_orders(amazon_data)[UNSHIPPED], OrderStatus="Canceled")
	cancelled["LastUpdateDate"] = "2026-10-15T09:00:00Z"
	del cancelled["OrderTotal"]
	(amazon_data / "orders/0002.json").write_text(json.dumps({"payload": {"Orders": [cancelled]}}))
	log = sync(integration)

	assert counts(log)[mapping.ORDERS][1:4] == (0, 0, 1)
	assert frappe.db.get_value("Sales Order", sales_order, "docstatus") == 2
	assert frappe.db.count("Sales Order", {"company": COMPANY, "docstatus": 1}) == 4
	assert frappe.db.count("Sales Invoice", {"company": COMPANY, "docstatus": 1}) == 4


def test_an_order_in_a_closed_period_cancelled_at_amazon_is_kept_until_a_person_applies_it(
	connected, amazon_data, closed_october
):
	integration = connected()
	sync(integration)
	sales_order = linked(integration, mapping.ORDERS)[UNSHIPPED]
	period = closed_october(["Sales Order", "Sales Invoice"])
	ledger = written_counts()

	cancelled = dict(source_orders(amazon_data)[UNSHIPPED], OrderStatus="Canceled")
	cancelled["LastUpdateDate"] = "2026-10-15T09:00:00Z"
	del cancelled["OrderTotal"]
	(amazon_data / "orders/0002.json").write_text(json.dumps({"payload": {"Orders": [cancelled]}}))
	log = sync(integration)

	assert (log.status, counts(log)[mapping.ORDERS][1:]) == ("Partial", (0, 0, 0, 1, 1))
	assert frappe.db.get_value("Sales Order", sales_order, "docstatus") == 1
	assert written_counts() == ledger
	conflict = frappe.get_doc("Kraal Failed Record", {"integration": integration, "external_id": UNSHIPPED})
	assert (conflict.status, conflict.kind, conflict.entity) == ("Open", "Conflict", mapping.ORDERS)
	assert conflict.message == (
		f"Sales Order {sales_order}: Sales Order {sales_order} is dated 2026-10-12, inside the closed "
		f"Accounting Period {period}. The source cancelled it; the document was kept"
	)
	# Held on every run until a person decides: the next one keeps it the same way.
	sync(integration)
	conflict.reload()
	assert (conflict.status, conflict.attempts) == ("Open", 2)
	assert frappe.db.get_value("Sales Order", sales_order, "docstatus") == 1

	# The person applies Amazon's cancellation. ERPNext itself does not close Sales Orders with a
	# period (they post nothing), so it lets the order be cancelled.
	api.apply_source_version(conflict.name)
	frappe.db.commit()
	log = frappe.get_doc("Kraal Sync Log", run_queued_retry(integration))
	assert (log.trigger, log.status, counts(log)) == (
		"Retry",
		"Success",
		{mapping.ORDERS: (1, 0, 0, 1, 0, 0)},
	)
	conflict.reload()
	assert (conflict.status, conflict.fixed_by) == ("Fixed", log.name)
	assert frappe.db.get_value("Sales Order", sales_order, "docstatus") == 2
	assert frappe.db.count("Sales Invoice", {"company": COMPANY, "docstatus": 1}) == 4


def test_a_throttled_get_orders_is_waited_out_and_the_run_completes(connected, amazon_emulator, amazon_data):
	integration = connected()
	# One getOrders a burst, one every four seconds; a call of the test's own empties the bucket.
	amazon_emulator.set_rate_limit("getOrders", rate=0.25, burst=1)
	client_id, secret, refresh_token = lwa_credentials(amazon_data)
	api = AmazonApi(
		client_id,
		secret,
		refresh_token,
		endpoint=amazon_emulator.url,
		token_url=f"{amazon_emulator.url}/auth/o2/token",
	)
	api.orders([US, CA], f"{START}T00:00:00Z")
	api.close()
	amazon_emulator.requests.clear()

	started = time.monotonic()
	log = sync(integration)
	assert log.status == "Success", log.summary
	# The run's first getOrders was answered 429; it waited the four seconds the rate limit header
	# gives for one request and asked again.
	assert [r["path"] for r in amazon_emulator.requests].count("/orders/v0/orders") == 2
	assert time.monotonic() - started >= 4
	assert len(linked(integration, mapping.ORDERS)) == 5


def test_test_connection_lists_the_marketplaces_the_seller_participates_in(connected):
	from kraal_connect.api import test_connection

	message = test_connection(connected())
	assert message == (
		"Connected to Kraal Outfitters. Marketplaces: Amazon.com (ATVPDKIKX0DER, USD), "
		"Amazon.ca (A2EUQ1WTGCTBG2, CAD)"
	)


def test_a_sync_with_nothing_new_asks_amazon_once_an_entity(connected, amazon_emulator):
	"""A run that finds nothing new: the access token, the marketplaces, the FBA inventory of each
	marketplace's warehouse, the orders and the settlement reports once each; no order's items, no
	catalog item and no report already read."""
	integration = connected()
	sync(integration)
	amazon_emulator.requests.clear()
	log = sync(integration)
	assert log.status == "Success"
	assert all(c[1:4] == (0, 0, 0) for c in counts(log).values()), counts(log)
	assert Counter(r["path"] for r in amazon_emulator.requests) == {
		"/auth/o2/token": 1,
		"/sellers/v1/marketplaceParticipations": 1,
		"/fba/inventory/v1/summaries": 2,  # Amazon.com's and Amazon.ca's warehouses
		"/orders/v0/orders": 1,
		"/reports/2021-06-30/reports": 1,
	}
