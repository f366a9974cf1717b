"""The in-bench suite: a real site (MariaDB, Redis, ERPNext). Run from the bench's sites folder:

    cd <bench>/sites && ../env/bin/python -m pytest ../apps/kraal_connect/tests/bench

KRAAL_TEST_SITE names the site (default: the bench's default site).
"""

import json
import os
import shutil
from pathlib import Path

import pytest

frappe = pytest.importorskip("frappe")

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
COMPANY = "Kraal Bench Co"
ABBR = "KBC"


def _site() -> str:
	if os.environ.get("KRAAL_TEST_SITE"):
		return os.environ["KRAAL_TEST_SITE"]
	with open("common_site_config.json") as f:
		return json.load(f)["default_site"]


@pytest.fixture(scope="session", autouse=True)
def site():
	frappe.init(site=_site(), sites_path=os.getcwd())
	frappe.connect()
	frappe.set_user("Administrator")
	_ensure_company()
	frappe.db.commit()
	yield frappe.local.site
	frappe.db.rollback()
	frappe.destroy()


def _ensure_company():
	if frappe.db.exists("Company", COMPANY):
		return
	frappe.get_doc(
		{
			"doctype": "Company",
			"company_name": COMPANY,
			"abbr": ABBR,
			"default_currency": "USD",
			"country": "United States",
			"chart_of_accounts": "Standard",
		}
	).insert()


@pytest.fixture
def plaid_data(tmp_path) -> Path:
	return Path(shutil.copytree(FIXTURES / "plaid", tmp_path / "plaid"))


@pytest.fixture
def plaid_emulator(plaid_data):
	from emulators.plaid import PlaidEmulator

	emulator = PlaidEmulator(plaid_data).start()
	yield emulator
	emulator.stop()
