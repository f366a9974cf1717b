"""The Amazon in-bench suite's company, accounts, mappings and integrations, and a purge that leaves the
site as it found it. The suite has a company of its own, so the purge may clear its transactions."""

import json
import time
from decimal import Decimal
from functools import wraps
from pathlib import Path

import frappe

from kraal_connect.connectors.amazon import mapping
from tests.bench import site_helpers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "amazon"
COMPANY, ABBR = "Kraal Amazon Co", "KAC"
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
START = "2026-10-01"
# CAD -> USD from the day before the first order; ERPNext takes the latest rate on or before a date.
CAD_RATE, RATE_DATE = 0.7312, "2026-09-30"
# The merchant-fulfilled knife ships from the merchant's own warehouse, which holds some already.
KNIFE, KNIFE_OPENING_QTY = "KR-KNIFE-003", 10

# Ledger accounts the suite maps Amazon's money to: name -> (parent group, account type, currency).
ACCOUNTS = {
	"Amazon Clearing USD": ("Bank Accounts", "Bank", "USD"),
	"Amazon Clearing CAD": ("Bank Accounts", "Bank", "CAD"),
	"Amazon Shipping Income": ("Direct Income", "", "USD"),
	"Amazon Promotions": ("Direct Income", "", "USD"),
	"Sales Returns": ("Direct Income", "", "USD"),
	"Amazon Reimbursements": ("Indirect Income", "", "USD"),
	"Marketplace Facilitator Tax": ("Duties and Taxes", "Tax", "USD"),
	"Amazon FBA Fees": ("Indirect Expenses", "", "USD"),
	"Amazon Referral Fees": ("Indirect Expenses", "", "USD"),
	"Amazon Seller Fees": ("Indirect Expenses", "", "USD"),
	"Amazon Reserve": ("Loans and Advances (Assets)", "", "USD"),
}
FEE_ACCOUNTS = {
	"ItemPrice:Principal": "Debtors",
	"ItemPrice:Tax": "Debtors",
	"ItemPrice:Shipping": "Debtors",
	"ItemPrice:ShippingTax": "Debtors",
	"Promotion:Principal": "Debtors",
	"Promotion:Shipping": "Debtors",
	"ItemWithheldTax:MarketplaceFacilitatorTax-Principal": "Marketplace Facilitator Tax",
	"ItemWithheldTax:MarketplaceFacilitatorTax-Shipping": "Marketplace Facilitator Tax",
	"ItemFees:FBAPerUnitFulfillmentFee": "Amazon FBA Fees",
	"ItemFees:ShippingChargeback": "Amazon FBA Fees",
	"ItemFees:Commission": "Amazon Referral Fees",
	"Refund ItemPrice:Principal": "Sales Returns",
	"Refund ItemPrice:Tax": "Sales Returns",
	"Refund ItemWithheldTax:MarketplaceFacilitatorTax-Principal": "Marketplace Facilitator Tax",
	"Refund ItemFees:Commission": "Amazon Referral Fees",
	"Refund ItemFees:RefundCommission": "Amazon Referral Fees",
	"FBA Inventory Reimbursement:WAREHOUSE_DAMAGE": "Amazon Reimbursements",
	"Subscription Fee": "Amazon Seller Fees",
	"Storage Fee": "Amazon FBA Fees",
	"Previous Reserve Amount Balance": "Amazon Reserve",
	"Current Reserve Amount": "Amazon Reserve",
}
CHARGE_ACCOUNTS = {
	"ShippingPrice": "Amazon Shipping Income",
	"ShippingDiscount": "Amazon Promotions",
	"PromotionDiscount": "Amazon Promotions",
	"ItemTax": "Marketplace Facilitator Tax",
	"ShippingTax": "Marketplace Facilitator Tax",
}
CLEARING_ACCOUNTS = {"USD": "Amazon Clearing USD", "CAD": "Amazon Clearing CAD"}

LINK = "Kraal External Link"
# The transactions a run writes (and the suite's opening stock), undone newest first by the purge.
TRANSACTIONS = ("Journal Entry", "Sales Invoice", "Sales Order", "Stock Reconciliation")
LEDGERS = ("GL Entry", "Payment Ledger Entry", "Stock Ledger Entry", "Repost Item Valuation")


def account(name: str) -> str:
	return f"{name} - {ABBR}"


def ensure_company() -> None:
	"""The suite's company and the accounts it maps Amazon's money to."""
	site_helpers.ensure_company(COMPANY, ABBR)
	for name, (parent, account_type, currency) in ACCOUNTS.items():
		if not frappe.db.exists("Account", account(name)):
			frappe.get_doc(
				{
					"doctype": "Account",
					"account_name": name,
					"company": COMPANY,
					"parent_account": account(parent),
					"account_type": account_type,
					"account_currency": currency,
				}
			).insert()
	frappe.db.commit()


def ensure_cad_rate() -> str | None:
	"""A CAD -> USD rate for the Amazon.ca sales and settlement; returns the Currency Exchange it made."""
	rate = {"from_currency": "CAD", "to_currency": "USD", "date": RATE_DATE}
	if frappe.db.exists("Currency Exchange", rate):
		return None
	exchange = frappe.get_doc(
		{"doctype": "Currency Exchange", **rate, "exchange_rate": CAD_RATE, "for_buying": 1, "for_selling": 1}
	).insert()
	frappe.db.commit()
	return exchange.name


def lwa_credentials(data_dir: Path) -> tuple[str, str, str]:
	clients = json.loads((data_dir / "lwa.json").read_text())["clients"]
	client_id, client = next(iter(clients.items()))
	return client_id, client["client_secret"], client["refresh_tokens"][0]


def connect(emulator_url: str, data_dir: Path, unmapped_fee_types: tuple[str, ...] = ()) -> str:
	"""An Amazon integration on the emulator, every money key mapped (but the fee types named) and
	merchant-fulfilled orders shipping from the company's Stores."""
	client_id, secret, refresh_token = lwa_credentials(data_dir)
	name = f"Amazon {frappe.generate_hash(length=6)}"
	frappe.get_doc(
		{
			"doctype": "Kraal Integration",
			"integration_name": name,
			"vendor": "Amazon",
			"company": COMPANY,
			"client_id": client_id,
			"client_secret": secret,
			"refresh_token": refresh_token,
			"amazon_region": "na",
			"marketplace_ids": f"{US}\n{CA}",
			"sync_start_date": START,
			"api_base_url": emulator_url,
		}
	).insert()
	rows = [
		*((mapping.FEE_TYPE, k, v) for k, v in FEE_ACCOUNTS.items() if k not in unmapped_fee_types),
		*((mapping.ORDER_CHARGE, k, v) for k, v in CHARGE_ACCOUNTS.items()),
		*((mapping.CLEARING, k, v) for k, v in CLEARING_ACCOUNTS.items()),
	]
	for key_type, key, target in rows:
		add_mapping(name, key_type, key, "Account", account(target))
	add_mapping(name, mapping.FULFILMENT, "MFN", "Warehouse", account("Stores"))
	frappe.db.commit()
	return name


def add_mapping(integration: str, key_type: str, key: str, target_doctype: str, target: str) -> None:
	frappe.get_doc(
		{
			"doctype": "Kraal Account Mapping",
			"integration": integration,
			"key_type": key_type,
			"external_key": key,
			"target_doctype": target_doctype,
			"target_name": target,
		}
	).insert()


def stock_the_knife() -> None:
	"""The merchant's own stock of the knife, counted before the first order (its Item the sync adopts)."""
	if not frappe.db.exists("Item", KNIFE):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": KNIFE,
				"item_name": "Folding knife",
				"item_group": "Products",
				"stock_uom": "Nos",
				"is_stock_item": 1,
			}
		).insert()
	opening = frappe.get_doc(
		{
			"doctype": "Stock Reconciliation",
			"company": COMPANY,
			"purpose": "Stock Reconciliation",
			# ERPNext takes the site's first stock entry for an opening one, which must not book to
			# profit and loss; the temporary opening account serves either way.
			"expense_account": account("Temporary Opening"),
			"posting_date": RATE_DATE,
			"set_posting_time": 1,
			"items": [
				{
					"item_code": KNIFE,
					"warehouse": account("Stores"),
					"qty": KNIFE_OPENING_QTY,
					"valuation_rate": 8,
				}
			],
		}
	).insert()
	opening.submit()
	frappe.db.commit()


def retrying_deadlocks(purge_step):
	"""Other suites write to the same site at the same time (stock ledgers, the warehouse and account
	trees, which every company shares): MariaDB may make a purge the victim of a deadlock or a lock it
	cannot wait for, rolling all of it back, so it starts over."""

	@wraps(purge_step)
	def run(*args):
		for attempt in range(5):
			try:
				return purge_step(*args)
			except (frappe.QueryDeadlockError, frappe.QueryTimeoutError):
				frappe.db.rollback()
				time.sleep(0.5 * (attempt + 1))
		return purge_step(*args)

	return run


@retrying_deadlocks
def purge(integration: str) -> None:
	"""Everything an integration wrote, and the suite's transactions, gone; the company stays."""
	frappe.db.rollback()
	masters = frappe.get_all(
		LINK,
		filters={"integration": integration, "reference_doctype": ("not in", TRANSACTIONS)},
		fields=["reference_doctype", "reference_name"],
		order_by="creation desc",
	)
	purge_transactions()
	frappe.db.delete(LINK, {"integration": integration})
	frappe.db.delete("Kraal Account Mapping", {"integration": integration})
	frappe.db.delete("Kraal Failed Record", {"integration": integration})
	frappe.db.delete("Kraal Platform Stock", {"integration": integration})
	for log in frappe.get_all("Kraal Sync Log", filters={"integration": integration}, pluck="name"):
		frappe.delete_doc("Kraal Sync Log", log, force=True, delete_permanently=True)
	frappe.delete_doc("Kraal Integration", integration, force=True, delete_permanently=True)
	for link in masters:
		frappe.delete_doc(link.reference_doctype, link.reference_name, force=True, delete_permanently=True)
	frappe.db.commit()


def unstock_the_knife() -> None:
	"""The suite's transactions gone, and the knife's Item if no integration took it over."""
	purge_transactions()
	if frappe.db.exists("Item", KNIFE):
		frappe.delete_doc("Item", KNIFE, force=True, delete_permanently=True)
	frappe.db.commit()


@retrying_deadlocks
def purge_transactions() -> None:
	"""The company's documents cancelled newest first (stock must never go negative on the way), then
	deleted with their ledger entries and the stock balances they left."""
	written = sorted(
		(
			(doc.creation, doctype, doc.name, doc.docstatus)
			for doctype in TRANSACTIONS
			for doc in frappe.get_all(
				doctype, filters={"company": COMPANY}, fields=["name", "creation", "docstatus"]
			)
		),
		reverse=True,
	)
	for _, doctype, name, docstatus in written:
		if docstatus == 1:
			frappe.get_doc(doctype, name).cancel()
	for _, doctype, name, _ in written:
		frappe.delete_doc(doctype, name, force=True, delete_permanently=True)
	for ledger in LEDGERS:
		frappe.db.delete(ledger, {"company": COMPANY})
	warehouses = frappe.get_all("Warehouse", filters={"company": COMPANY}, pluck="name")
	frappe.db.delete("Bin", {"warehouse": ("in", warehouses)})
	frappe.db.commit()


def linked(integration: str, external_type: str) -> dict[str, str]:
	"""external id -> the document the integration wrote for it under that type."""
	return dict(
		frappe.get_all(
			LINK,
			filters={"integration": integration, "external_type": external_type},
			fields=["external_id", "reference_name"],
			as_list=True,
		)
	)


def source_orders(data_dir: Path) -> dict[str, dict]:
	"""Amazon's orders as the dataset has them: id -> the latest copy."""
	orders = {}
	for page in sorted((data_dir / "orders").glob("*.json")):
		for order in json.loads(page.read_text())["payload"]["Orders"]:
			orders[order["AmazonOrderId"]] = order
	return orders


def order_total(order: dict) -> Decimal:
	return Decimal(order["OrderTotal"]["Amount"])


def on_hand(data_dir: Path, marketplace_id: str) -> dict[str, int]:
	"""What Amazon holds for sale in a marketplace's fulfilment network, per seller SKU: fulfillable and
	reserved, counted here from the dataset."""
	summaries = json.loads((data_dir / "inventory" / f"{marketplace_id}.json").read_text())["payload"]
	return {
		s["sellerSku"]: s["inventoryDetails"]["fulfillableQuantity"]
		+ s["inventoryDetails"]["reservedQuantity"]["totalReservedQuantity"]
		for s in summaries["inventorySummaries"]
	}
