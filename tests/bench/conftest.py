"""The in-bench suite: a real site (MariaDB, Redis, ERPNext). Run from the bench's sites folder:

    cd <bench>/sites && ../env/bin/python -m pytest ../apps/kraal_connect/tests/bench

KRAAL_TEST_SITE names the site (default: the bench's default site).
"""

import json
import os

import pytest

frappe = pytest.importorskip("frappe")

from frappe.installer import update_site_config  # noqa: E402

from tests.bench.site_helpers import ensure_company  # noqa: E402
from tests.plaid_fixtures import plaid_data, plaid_emulator  # noqa: E402, F401  (fixtures)

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
	# The tests point integrations at the local emulators, which only a site that says so allows.
	if not frappe.conf.get("kraal_allow_custom_endpoints"):
		update_site_config("kraal_allow_custom_endpoints", 1)
		frappe.local.conf.kraal_allow_custom_endpoints = 1
	frappe.set_user("Administrator")
	ensure_company(COMPANY, ABBR)
	frappe.db.commit()
	yield frappe.local.site
	frappe.db.rollback()
	frappe.destroy()
