"""Prices that include tax, and foreign currencies, on a real site: ERPNext itself books Shopify's and
Amazon's tax, revenue and total to the cent, and converts them to the company currency without a cent
going to Round Off; a Pan-European seller's one pool of FBA stock is counted once."""

import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import frappe
import pytest

from emulators.amazon import AmazonEmulator
from kraal_connect.connectors.amazon import mapping as amazon
from kraal_connect.connectors.shopify import mapping as shopify
from kraal_connect.engine.runner import run_integration
from tests.bench import amazon_helpers
from tests.bench.shopify_helpers import (
	ABBR,
	COMPANY,
	DATASET,
	connect_store,
	ensure_doc,
	money,
	purge_integration,
	start_store,
)
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.shopify_helpers"]

CENT = Decimal("0.01")
EU_DATASET = amazon_helpers.FIXTURES.parent / "amazon_eu"
DE, FR = "A1PA6795UKMFR9", "A13V1IB3VIYZZH"
EUR_RATE, RATE_DATE = 1.0812, "2026-09-30"


def opening_stock() -> bool:
	"""ERPNext takes a site's first stock entry for an opening one, which the stores' counts must not
	be: on a site without stock, the Amazon suite's knife is counted first. Whether it was."""
	if frappe.db.exists("Stock Ledger Entry", {"is_cancelled": 0}):
		return False
	amazon_helpers.ensure_company()
	amazon_helpers.stock_the_knife()
	return True


def failures(integration: str) -> list[tuple[str, str]]:
	return [
		(r.external_id, r.message)
		for r in frappe.get_all(
			"Kraal Failed Record", filters={"integration": integration}, fields=["external_id", "message"]
		)
	]


def round_off(company: str) -> str:
	account = frappe.get_cached_value("Company", company, "round_off_account")
	assert account, f"{company} has no Round Off account"
	return account


def ledger(voucher: str) -> dict[str, Decimal]:
	"""The voucher's GL: account -> debit less credit."""
	balance: dict[str, Decimal] = {}
	for row in frappe.get_all(
		"GL Entry", filters={"voucher_no": voucher, "is_cancelled": 0}, fields=["account", "debit", "credit"]
	):
		balance[row.account] = balance.get(row.account, Decimal(0)) + money(row.debit) - money(row.credit)
	return balance


def converted_parts(doc, company: str) -> Decimal:
	"""What ERPNext's ledger books of a selling document's rows: each item's converted net and each tax
	row's converted amount (Round Off's rows the ledger drops)."""
	items = sum((money(i.base_net_amount) for i in doc.items), Decimal(0))
	taxes = sum(
		(
			money(t.base_tax_amount_after_discount_amount)
			for t in doc.taxes
			if t.account_head != round_off(company)
		),
		Decimal(0),
	)
	return items + taxes


# -- Shopify: #1008, FR VAT 20 % included, presentment EUR on the USD store ----------------------


@pytest.fixture(scope="module")
def vat_store(shopify_company, tmp_path_factory):
	"""The store with only its tax-inclusive order, synced once."""
	data = Path(shutil.copytree(DATASET, tmp_path_factory.mktemp("vat") / "shopify"))
	for path in (data / "orders").glob("*.json"):
		path.unlink()
	shutil.copy(DATASET / "orders_tax_included" / "5008.json", data / "orders" / "5008.json")
	store = start_store(data)
	vat = f"FR VAT - {ABBR}"
	ensure_doc(
		"Account",
		vat,
		{
			"account_name": "FR VAT",
			"company": COMPANY,
			"parent_account": frappe.db.get_value(
				"Account", {"company": COMPANY, "account_name": "Duties and Taxes"}
			),
			"account_type": "Tax",
		},
	)
	stocked = opening_stock()
	name = connect_store(store.emulator.url)
	frappe.get_doc(
		{
			"doctype": "Kraal Account Mapping",
			"integration": name,
			"key_type": shopify.TAX_MAPPING,
			"external_key": "FR TVA",
			"target_doctype": "Account",
			"target_name": vat,
		}
	).insert()
	frappe.db.commit()
	log = run_integration(name, "Manual")
	frappe.db.rollback()
	yield name, store.load("orders", "5008"), frappe.get_doc("Kraal Sync Log", log), vat
	store.emulator.stop()
	purge_integration(name)
	if stocked:
		amazon_helpers.unstock_the_knife()


def order_documents(integration: str, order_id: str) -> dict:
	rows = frappe.get_all(
		"Kraal External Link",
		filters={"integration": integration, "external_id": order_id},
		fields=["external_type", "reference_doctype", "reference_name"],
	)
	return {r.external_type: frappe.get_doc(r.reference_doctype, r.reference_name) for r in rows}


def test_a_tax_inclusive_eur_order_books_shopifys_tax_revenue_and_total(vat_store):
	integration, order, log, vat = vat_store
	assert log.status == "Success", failures(integration)
	assert counts(log)["order"] == (1, 1, 0, 0, 0, 0)
	docs = order_documents(integration, order["id"])
	total = money(order["totalPriceSet"]["presentmentMoney"]["amount"])
	tax = money(order["totalTaxSet"]["presentmentMoney"]["amount"])
	shop_total = money(order["totalPriceSet"]["shopMoney"]["amount"])
	assert (total, tax, shop_total) == (Decimal("60.25"), Decimal("10.05"), Decimal("64.81"))
	for doc in (docs["order"], docs["order:invoice"]):
		assert (doc.currency, money(doc.grand_total)) == ("EUR", total)
		included = [t for t in doc.taxes if t.included_in_print_rate]
		assert [(t.account_head, t.rate, t.charge_type) for t in included] == [(vat, 20.0, "On Net Total")]
		# ERPNext's own tax of the summed nets is a cent short of Shopify's line-by-line VAT ...
		assert money(included[0].tax_amount_after_discount_amount) == Decimal("10.04")
		# ... and the document books Shopify's, with revenue the rest of the total.
		booked_vat = sum(
			(money(t.tax_amount_after_discount_amount) for t in doc.taxes if t.account_head == vat),
			Decimal(0),
		)
		assert booked_vat == tax
		assert sum((money(i.net_amount) for i in doc.items), Decimal(0)) == total - tax
		# In USD: the total Shopify converted, and rows and taxes that add up to it.
		assert money(doc.base_grand_total) == shop_total
		assert converted_parts(doc, COMPANY) == shop_total
		plain = (shop_total / total).quantize(Decimal("0.000000001"))
		assert Decimal(str(doc.conversion_rate)) != plain  # Shopify's own rate would leave a cent over

	invoice = docs["order:invoice"]
	gl = ledger(invoice.name)
	assert round_off(COMPANY) not in gl  # nothing rounded off
	assert sum(gl.values(), Decimal(0)) == 0
	assert gl[invoice.debit_to] == shop_total
	assert -gl[vat] == sum(
		(money(t.base_tax_amount_after_discount_amount) for t in invoice.taxes if t.account_head == vat),
		Decimal(0),
	)
	income = -sum((v for a, v in gl.items() if a not in (invoice.debit_to, vat)), Decimal(0))
	assert income + -gl[vat] == shop_total
	# The Shopify Payments charge of 64.81 USD settles it.
	assert money(frappe.db.get_value("Sales Invoice", invoice.name, "outstanding_amount")) == 0


# -- Amazon: a Pan-European seller on Amazon.de and Amazon.fr -----------------------------------


@pytest.fixture
def eu_seller(site, tmp_path):
	"""The EU seller's integration on the emulator (Amazon.de home, Amazon.fr), its VAT and charges
	mapped; EUR -> USD known. Yields (integration, emulator)."""
	amazon_helpers.ensure_company()
	vat = amazon_helpers.account("Amazon VAT")
	if not frappe.db.exists("Account", vat):
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": "Amazon VAT",
				"company": amazon_helpers.COMPANY,
				"parent_account": amazon_helpers.account("Duties and Taxes"),
				"account_type": "Tax",
			}
		).insert()
	rate = {"from_currency": "EUR", "to_currency": "USD", "date": RATE_DATE}
	exchange = None
	if not frappe.db.exists("Currency Exchange", rate):
		exchange = frappe.get_doc(
			{
				"doctype": "Currency Exchange",
				**rate,
				"exchange_rate": EUR_RATE,
				"for_buying": 1,
				"for_selling": 1,
			}
		).insert()
	frappe.db.commit()
	data = Path(shutil.copytree(EU_DATASET, tmp_path / "amazon_eu"))
	emulator = AmazonEmulator(data).start()
	emulator.set_rate_limit("getCatalogItem", burst=10)
	stocked = opening_stock()
	name = amazon_helpers.connect(emulator.url, data)
	frappe.db.set_value("Kraal Integration", name, {"marketplace_ids": f"{DE}\n{FR}", "amazon_region": "eu"})
	for key in ("ItemTax", "ShippingTax"):
		frappe.db.set_value(
			"Kraal Account Mapping",
			{"integration": name, "key_type": amazon.ORDER_CHARGE, "external_key": key},
			"target_name",
			vat,
		)
	frappe.db.commit()
	yield name, emulator, vat
	emulator.stop()
	amazon_helpers.purge(name)
	if stocked:
		amazon_helpers.unstock_the_knife()
	if exchange:
		frappe.delete_doc("Currency Exchange", exchange.name, force=True, delete_permanently=True)
	frappe.db.commit()


def test_a_vat_inclusive_amazon_de_order_and_one_pool_of_pan_european_stock(eu_seller):
	integration, emulator, vat = eu_seller
	assert run_integration(integration, "Manual")
	frappe.db.rollback()
	log = latest_log(integration)
	assert log.status == "Success", failures(integration)

	order = amazon_helpers.source_orders(EU_DATASET)["302-7700101-0030001"]
	total = amazon_helpers.order_total(order)
	assert total == Decimal("73.87")
	vat_charged = Decimal("11.80")  # ItemTax 4.79 + 7.17, ShippingTax 0.64, less the promotion's 0.80
	converted_total = (total * Decimal(str(EUR_RATE))).quantize(CENT, ROUND_HALF_UP)
	sales_order = amazon_helpers.linked(integration, amazon.ORDERS)[order["AmazonOrderId"]]
	invoice = amazon_helpers.linked(integration, f"{amazon.ORDERS}:{amazon.INVOICE}")[order["AmazonOrderId"]]
	for doc in (frappe.get_doc("Sales Order", sales_order), frappe.get_doc("Sales Invoice", invoice)):
		assert (doc.currency, money(doc.grand_total)) == ("EUR", total)
		included = [t for t in doc.taxes if t.included_in_print_rate]
		assert [(t.account_head, t.rate) for t in included] == [(vat, 19.0)]
		assert money(included[0].tax_amount_after_discount_amount) == Decimal("11.95")  # ERPNext's alone
		booked_vat = sum(
			(money(t.tax_amount_after_discount_amount) for t in doc.taxes if t.account_head == vat),
			Decimal(0),
		)
		assert booked_vat == vat_charged
		income = sum((money(i.net_amount) for i in doc.items), Decimal(0)) + sum(
			(
				money(t.tax_amount_after_discount_amount)
				for t in doc.taxes
				if t.account_head not in (vat, round_off(amazon_helpers.COMPANY))
			),
			Decimal(0),
		)
		assert income == total - vat_charged
		assert money(doc.base_grand_total) == converted_total
		assert converted_parts(doc, amazon_helpers.COMPANY) == converted_total
	gl = ledger(invoice)
	assert round_off(amazon_helpers.COMPANY) not in gl
	assert sum(gl.values(), Decimal(0)) == 0

	# One pool for both marketplaces: one warehouse, read once, counted once.
	warehouses = dict(
		frappe.get_all(
			"Kraal Account Mapping",
			filters={"integration": integration, "key_type": amazon.FBA_MARKETPLACE},
			fields=["external_key", "target_name"],
			as_list=True,
		)
	)
	assert warehouses == {DE: amazon_helpers.account("Amazon FBA"), FR: amazon_helpers.account("Amazon FBA")}
	held = {
		sku: qty for sku, qty in amazon_helpers_stock(amazon_helpers.account("Amazon FBA")).items() if qty
	}
	assert held == {"KR-MUG-001": 83, "KR-TOTE-002": 21}  # 80 + 3 reserved; 21: not twice
	assert counts(log)[amazon.FBA_INVENTORY] == (2, 2, 0, 0, 0, 0)
	assert len([r for r in emulator.requests if r["path"] == "/fba/inventory/v1/summaries"]) == 1


def amazon_helpers_stock(warehouse: str) -> dict[str, float]:
	return dict(
		frappe.get_all(
			"Bin", filters={"warehouse": warehouse}, fields=["item_code", "actual_qty"], as_list=True
		)
	)
