"""Benchmark: a generated QuickBooks company of N transactions migrated through the connector with one
worker and with two, and the same documents inserted and submitted straight into ERPNext with one
process and with two, in the same run (the raw cost).

	cd <bench>/sites && ../env/bin/python ../apps/kraal_connect/benchmarks/qbo_migration.py --transactions 1000

Every side starts from the same site: the connector first migrates the masters (accounts, customers,
items …); then the raw inserts run, one process (a commit every 1,000 documents) and two (a commit per
document, each stage's documents split between them, a payment's stage after its invoice's), each
timed and removed; then the connector migrates the transactions with Backfill Workers 1, they are
removed with their links, and it migrates them again with Backfill Workers 2 (the run and one helper
worker). Each line says the CPU the app's processes and the database used, and how often InnoDB made
a transaction wait for a row lock. The books are compared with QBO's trial balance at the end.
Everything is written to a company of the benchmark's own, which is deleted with all it holds when the
run ends. Customers, items and payment terms are site-wide in ERPNext: do not run it beside the
QuickBooks in-bench tests, which write and remove the same ones.
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import frappe  # noqa: E402

from benchmarks import workers  # noqa: E402

COMPANY, ABBR = "Kraal QBO Benchmark", "KQBM"
LINK = "Kraal External Link"
FIXTURE = REPO / "fixtures" / "qbo" / "realms" / "9130357766900001"
# The fixture company's names and accounts: the generated history books against them.
MASTER_FILES = (
	"Account",
	"Term",
	"TaxRate",
	"TaxCode",
	"CompanyInfo",
	"Preferences",
	"Item",
	"Customer",
	"Vendor",
)
UNUSED = ("CreditMemo", "SalesReceipt", "VendorCredit", "Deposit", "Transfer")
CUSTOMERS, VENDORS = ("1", "2", "4"), ("50", "51", "52")
CONSULTING, GASKETS = ("1", 150), ("3", 25)  # service and non-inventory items, with their prices
EXPENSES = ("17", "24", "76", "20")  # rent, utilities, electricity, office supplies
CHECKING, OFFICE_SUPPLIES = "35", "20"
# Share of each kind among the transactions; payments settle earlier invoices and bills in full.
MIX = (("Invoice", 0.35), ("Payment", 0.25), ("Bill", 0.2), ("BillPayment", 0.1), ("JournalEntry", 0.1))
FIRST_DAY, DAYS = date(2023, 1, 2), 729


def ref(value: str) -> dict:
	return {"value": value}


def generate(transactions: int, realm_dir: Path, seed: int = 7) -> dict[str, list[dict]]:
	"""Write the dataset and return its transactions by entity."""
	rng = random.Random(seed)
	realm_dir.mkdir(parents=True)
	for entity in MASTER_FILES:
		shutil.copy(FIXTURE / f"{entity}.json", realm_dir / f"{entity}.json")
	records: dict[str, list[dict]] = {entity: [] for entity, _ in MIX}
	unpaid_invoices, unpaid_bills = [], []
	kinds = [entity for entity, share in MIX for _ in range(round(share * 100))]
	for number in range(transactions):
		day = (FIRST_DAY + timedelta(days=DAYS * number // transactions)).isoformat()
		kind = rng.choice(kinds)
		if kind == "Payment" and not unpaid_invoices:
			kind = "Invoice"
		if kind == "BillPayment" and not unpaid_bills:
			kind = "Bill"
		record = {"Id": str(10000 + number), "SyncToken": "0", "TxnDate": day, "DocNumber": f"B{number}"}
		meta = {
			"MetaData": {"CreateTime": f"{day}T10:00:00-08:00", "LastUpdatedTime": f"{day}T10:00:00-08:00"}
		}
		if kind == "Invoice":
			lines = []
			for item_id, price in rng.sample((CONSULTING, GASKETS), rng.randint(1, 2)):
				qty = rng.randint(1, 12)
				lines.append(
					{
						"DetailType": "SalesItemLineDetail",
						"Amount": qty * price,
						"SalesItemLineDetail": {"ItemRef": ref(item_id), "Qty": qty, "UnitPrice": price},
					}
				)
			total = sum(line["Amount"] for line in lines)
			record.update(CustomerRef=ref(rng.choice(CUSTOMERS)), Line=lines, TotalAmt=total, DueDate=day)
			unpaid_invoices.append(record)
		elif kind == "Payment":
			invoice = unpaid_invoices.pop(rng.randrange(len(unpaid_invoices)))
			total = invoice["TotalAmt"]
			record.update(
				CustomerRef=invoice["CustomerRef"],
				TotalAmt=total,
				DepositToAccountRef=ref(CHECKING),
				Line=[{"Amount": total, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
			)
		elif kind == "Bill":
			amount = rng.randint(2000, 90000) / 100
			record.update(
				VendorRef=ref(rng.choice(VENDORS)),
				TotalAmt=amount,
				DueDate=day,
				Line=[
					{
						"DetailType": "AccountBasedExpenseLineDetail",
						"Amount": amount,
						"AccountBasedExpenseLineDetail": {"AccountRef": ref(rng.choice(EXPENSES))},
					}
				],
			)
			unpaid_bills.append(record)
		elif kind == "BillPayment":
			bill = unpaid_bills.pop(rng.randrange(len(unpaid_bills)))
			record.update(
				VendorRef=bill["VendorRef"],
				PayType="Check",
				CheckPayment={"BankAccountRef": ref(CHECKING)},
				TotalAmt=bill["TotalAmt"],
				Line=[{"Amount": bill["TotalAmt"], "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
			)
		else:
			amount = rng.randint(500, 20000) / 100
			record.update(
				TotalAmt=amount,
				Line=[
					{
						"DetailType": "JournalEntryLineDetail",
						"Amount": amount,
						"JournalEntryLineDetail": {"PostingType": posting, "AccountRef": ref(account)},
					}
					for posting, account in (("Debit", OFFICE_SUPPLIES), ("Credit", CHECKING))
				],
			)
		record.update(CurrencyRef=ref("USD"), ExchangeRate=1, **meta)
		records[kind].append(record)
	for entity, rows in [*records.items(), *((entity, []) for entity in UNUSED)]:
		body = {"QueryResponse": {entity: rows, "startPosition": 1, "maxResults": len(rows)}}
		(realm_dir / f"{entity}.json").write_text(json.dumps(body))
	return records


def set_entities(integration: str, entities, enabled: int) -> None:
	for entity in entities:
		frappe.db.set_value(
			"Kraal Integration Entity", {"parent": integration, "entity": entity}, "enabled", enabled
		)
	frappe.db.commit()


def migrate(integration: str, backfill_workers: int, helpers: list):
	"""One run with Backfill Workers set so: the run itself and the helpers (already waiting for its
	jobs) write."""
	from kraal_connect.engine.runner import run_integration

	assert len(helpers) == backfill_workers - 1
	frappe.db.set_value("Kraal Integration", integration, "backfill_workers", backfill_workers)
	frappe.db.commit()
	return frappe.get_doc("Kraal Sync Log", run_integration(integration, "Manual"))


def report(log, documents: int) -> None:
	created = sum(row.created for row in log.entities)
	failed = sum(row.failed for row in log.entities)
	print(
		f"Connector: {created} of {documents} created, {failed} failed, {log.api_calls} API calls, "
		f"status {log.status}",
		flush=True,
	)
	for failure in log.failures[:5]:
		print(f"  {failure.entity} {failure.external_id}: {failure.message[:300]}")


def forget_transactions(integration: str) -> None:
	"""The connector's transactions gone, with their links and cursors, to be migrated again."""
	from kraal_connect.connectors.qbo.integration import TRANSACTION_ENTITIES

	delete_transactions()
	for entity in TRANSACTION_ENTITIES:
		frappe.db.delete(LINK, {"integration": integration, "external_type": ("like", f"{entity}%")})
		frappe.db.set_value(
			"Kraal Integration Entity", {"parent": integration, "entity": entity}, "cursor", ""
		)
	frappe.db.delete("Kraal Failed Record", {"integration": integration})
	frappe.db.commit()


def raw_stages(integration: str, records: dict[str, list[dict]]) -> list[list[tuple[str, tuple]]]:
	"""The same documents as the connector writes, mapped the same way, in the stages the connector
	keeps them in (a payment after the invoice it settles): (entity:id, (integration, document))."""
	from kraal_connect.connectors.qbo.integration import QboConnector
	from kraal_connect.connectors.qbo.mapping import QBO_ENTITIES
	from kraal_connect.connectors.qbo.streams import MAPPERS, MIGRATION_ORDER, WRITTEN_AFTER
	from kraal_connect.engine import fanout
	from kraal_connect.engine.stats import RunStats

	context = QboConnector(frappe.get_doc("Kraal Integration", integration)).prepare(RunStats())
	frappe.db.commit()
	present = [entity for entity in MIGRATION_ORDER if QBO_ENTITIES[entity] in records]
	return [
		[
			(f"{entity}:{record['Id']}", (integration, MAPPERS[entity](record, context)))
			for entity in stage
			for record in records[QBO_ENTITIES[entity]]
		]
		for stage in fanout.stages(present, WRITTEN_AFTER)
	]


def insert_raw_document(_key: str, document: tuple, names: dict[str, str]) -> str:
	"""One document inserted and submitted with nothing else: no fetching, links, savepoints or logs.
	One that settles others points at the raw ones (names: entity:id -> name)."""
	from kraal_connect.engine import writer
	from kraal_connect.engine.records import Ref

	integration, mapped = document

	def resolve(value):
		if isinstance(value, Ref) and f"{value.external_type}:{value.external_id}" in names:
			return names[f"{value.external_type}:{value.external_id}"]
		if isinstance(value, dict):
			return {k: resolve(v) for k, v in value.items()}
		if isinstance(value, list):
			return [resolve(v) for v in value]
		return writer.resolve_refs(integration, value)

	inserted = frappe.get_doc({**resolve(mapped), "docstatus": 0})
	inserted.insert()
	inserted.submit()
	return inserted.name


def insert_raw(stages, commit_every: int) -> int:
	"""Every stage in this process, a commit every so many documents."""
	names: dict[str, str] = {}
	for stage in stages:
		for key, document in stage:
			names[key] = insert_raw_document(key, document, names)
			if len(names) % commit_every == 0:
				frappe.db.commit()
	frappe.db.commit()
	return len(names)


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--transactions", type=int, default=10000)
	parser.add_argument("--site", default=None, help="default: the bench's default site")
	parser.add_argument("--seed", type=int, default=7)
	args = parser.parse_args()

	site = args.site or json.loads(Path("common_site_config.json").read_text())["default_site"]
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	# The benchmark talks to the local emulator: allowed for this process only.
	frappe.local.conf.kraal_allow_custom_endpoints = 1
	frappe.set_user("Administrator")

	from emulators.qbo import QboEmulator
	from kraal_connect.connectors.qbo.integration import TRANSACTION_ENTITIES
	from kraal_connect.connectors.qbo.reconciliation import reconcile_books
	from tests.bench.qbo_helpers import REALM, connect, purge_integration
	from tests.bench.site_helpers import ensure_company

	work = Path(tempfile.mkdtemp(prefix="kraal-qbo-bench-"))
	records = generate(args.transactions, work / "realms" / REALM, args.seed)
	print(
		f"Generated {args.transactions} transactions: "
		+ ", ".join(f"{len(rows)} {entity}" for entity, rows in records.items()),
		flush=True,
	)
	emulator = QboEmulator(work).start()
	ensure_company(COMPANY, ABBR)
	integration = connect(emulator.url, company=COMPANY)
	try:
		set_entities(integration, TRANSACTION_ENTITIES, 0)
		masters_log = migrate(integration, 1, [])
		masters = sum(row.created for row in masters_log.entities)
		print(f"Connector, masters: {masters} records", flush=True)

		stages = raw_stages(integration, records)
		documents = sum(len(stage) for stage in stages)
		runs = {}
		with workers.measured() as runs["raw", 1]:
			insert_raw(stages, commit_every=1000)
		delete_transactions()
		with workers.raw_processes(stages, 2, "benchmarks.qbo_migration:insert_raw_document") as raw:
			with workers.measured(raw.processes) as runs["raw", 2]:
				raw.run()
		delete_transactions()

		set_entities(integration, TRANSACTION_ENTITIES, 1)
		with workers.measured() as runs["connector", 1]:
			log = migrate(integration, 1, [])
		report(log, documents)
		forget_transactions(integration)
		helpers = workers.start_helpers(1)
		try:
			with workers.measured(helpers) as runs["connector", 2]:
				log = migrate(integration, 2, helpers)
		finally:
			workers.stop(helpers)
		report(log, documents)

		print(f"{documents} transactions a measurement")
		workers.print_table(runs, documents)
		last_day = max(r["TxnDate"] for rows in records.values() for r in rows)
		result = reconcile_books(integration, last_day)
		print(
			f"Reconciliation at {last_day}: {len(result.differences)} differing accounts, "
			f"{len(result.failed)} failed records",
			flush=True,
		)
	finally:
		emulator.stop()
		frappe.db.rollback()
		delete_transactions()
		purge_integration(integration)
		delete_company()
		frappe.db.commit()
		shutil.rmtree(work, ignore_errors=True)
		frappe.destroy()


def delete_transactions() -> None:
	"""Every transaction of the benchmark's company, with its ledger entries."""
	from tests.bench.qbo_helpers import delete_document

	for doctype in ("Payment Entry", "Journal Entry", "Sales Invoice", "Purchase Invoice"):
		for name in frappe.get_all(doctype, filters={"company": COMPANY}, pluck="name"):
			delete_document(doctype, name)
	frappe.db.commit()


def delete_company() -> None:
	"""The benchmark's company goes with what ERPNext made for it (accounts, warehouses …)."""
	for ledger in ("GL Entry", "Payment Ledger Entry", "Stock Ledger Entry", "Repost Item Valuation"):
		frappe.db.delete(ledger, {"company": COMPANY})
	frappe.delete_doc("Company", COMPANY, force=True, ignore_permissions=True)


if __name__ == "__main__":
	main()
