"""Helpers for the Amazon tests: the dataset, credentials, the client, a context, a sleep that moves
the emulator's clock. The pytest fixtures are in amazon_fixtures.py."""

import json
from pathlib import Path

from emulators.amazon import AmazonEmulator
from kraal_connect.connectors.amazon.client import AmazonApi
from kraal_connect.connectors.amazon.mapping import AmazonContext
from kraal_connect.engine.retry import ApiCaller, RetryPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "amazon"
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
MARKETPLACES = [US, CA]
US_SETTLEMENT = "amzn1.spdoc.1.4.na.2f6a3c1e-58b1-4d7e-9c02-7b1f4e8a9d31.T3K9QJ2M5XW1AB.2511"
CA_SETTLEMENT = "amzn1.spdoc.1.4.na.8d1b4f7a-2c6e-4a93-b5d0-1e9c7f3a6b52.T1P4ZR8N6YC3DE.2511"
# 2026-09-21: the emulator's clock stands still unless a test moves it on.
FROZEN_NOW = 1_790_000_000.0


def lwa_credentials() -> tuple[str, str, str]:
	clients = json.loads((FIXTURES / "lwa.json").read_text())["clients"]
	client_id, client = next(iter(clients.items()))
	return client_id, client["client_secret"], client["refresh_tokens"][0]


def settlement_text(document_id: str) -> str:
	return (FIXTURES / "documents" / f"{document_id}.txt").read_text()


def make_api(emulator: AmazonEmulator, **overrides) -> AmazonApi:
	client_id, secret, refresh_token = lwa_credentials()
	kwargs = {
		"client_id": client_id,
		"client_secret": secret,
		"refresh_token": refresh_token,
		"endpoint": emulator.url,
		"token_url": f"{emulator.url}/auth/o2/token",
		"timeout": 10,
		**overrides,
	}
	return AmazonApi(**kwargs)


class EmulatorSleep:
	"""ApiCaller's sleep: records each wait and moves the emulator's clock on by it, so buckets refill
	and tokens age exactly as if the time had passed."""

	def __init__(self, emulator: AmazonEmulator):
		self.emulator = emulator
		self.slept: list[float] = []

	def __call__(self, seconds: float) -> None:
		self.slept.append(seconds)
		self.emulator.advance(seconds)


def caller_for(emulator: AmazonEmulator, **policy) -> ApiCaller:
	return ApiCaller(RetryPolicy(**policy), sleep=EmulatorSleep(emulator))


RECEIVABLE = "Debtors - KTC"
# The Amazon.ca customer's own receivable account: its CAD invoices go there.
RECEIVABLE_CAD = "Debtors CAD - KTC"
CAD_RATE = 0.7312
FEE_ACCOUNTS = {
	"ItemPrice:Principal": RECEIVABLE,
	"ItemPrice:Tax": RECEIVABLE,
	"ItemPrice:Shipping": RECEIVABLE,
	"ItemPrice:ShippingTax": RECEIVABLE,
	"Promotion:Principal": RECEIVABLE,
	"Promotion:Shipping": RECEIVABLE,
	"ItemWithheldTax:MarketplaceFacilitatorTax-Principal": "Marketplace Facilitator Tax - KTC",
	"ItemWithheldTax:MarketplaceFacilitatorTax-Shipping": "Marketplace Facilitator Tax - KTC",
	"ItemFees:FBAPerUnitFulfillmentFee": "Amazon FBA Fees - KTC",
	"ItemFees:ShippingChargeback": "Amazon FBA Fees - KTC",
	"ItemFees:Commission": "Amazon Referral Fees - KTC",
	"Refund ItemPrice:Principal": "Sales Returns - KTC",
	"Refund ItemPrice:Tax": "Sales Returns - KTC",
	"Refund ItemWithheldTax:MarketplaceFacilitatorTax-Principal": "Marketplace Facilitator Tax - KTC",
	"Refund ItemFees:Commission": "Amazon Referral Fees - KTC",
	"Refund ItemFees:RefundCommission": "Amazon Referral Fees - KTC",
	"FBA Inventory Reimbursement:WAREHOUSE_DAMAGE": "Amazon Reimbursements - KTC",
	"Subscription Fee": "Amazon Seller Fees - KTC",
	"Storage Fee": "Amazon FBA Fees - KTC",
	"Previous Reserve Amount Balance": "Amazon Reserve - KTC",
	"Current Reserve Amount": "Amazon Reserve - KTC",
}


def context(**overrides) -> AmazonContext:
	values = {
		"company": "Kraal Test Co",
		"company_currency": "USD",
		"customers": {"Amazon.com": "Amazon.com Customer", "Amazon.ca": "Amazon.ca Customer"},
		"warehouses": {"AFN": "Amazon FBA - KTC", "MFN": "Stores - KTC"},
		"fba_warehouses": {US: "Amazon FBA - KTC", CA: "Amazon FBA CA - KTC"},
		"charge_accounts": {
			"ShippingPrice": "Shipping Income - KTC",
			"ShippingDiscount": "Amazon Promotions - KTC",
			"PromotionDiscount": "Amazon Promotions - KTC",
			"ItemTax": "Marketplace Facilitator Tax - KTC",
			"ShippingTax": "Marketplace Facilitator Tax - KTC",
		},
		"fee_accounts": FEE_ACCOUNTS,
		"clearing_accounts": {"USD": "Amazon Clearing USD - KTC", "CAD": "Amazon Clearing CAD - KTC"},
		"receivable_accounts": frozenset({RECEIVABLE}),
		"customer_accounts": {"Amazon.ca Customer": RECEIVABLE_CAD},
		"account_currencies": {"Amazon Clearing CAD - KTC": "CAD", RECEIVABLE_CAD: "CAD"},
		"exchange_rate": lambda currency, day: CAD_RATE if (currency, day) == ("CAD", "2026-10-17") else None,
		**overrides,
	}
	return AmazonContext(**values)
