"""intuit-oauth and python-quickbooks, over real HTTP, against the local QuickBooks Online emulator."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kraal_connect.connectors.qbo.client import NotFoundError, QboApi, QboOAuth, StaleObjectError, Tokens
from kraal_connect.engine.errors import (
	AuthenticationError,
	ConflictError,
	RecordError,
	SyncError,
	TransientError,
)
from kraal_connect.engine.retry import ApiCaller, RetryPolicy
from tests.standalone.qbo_support import REALM, REDIRECT_URI, paths, records

pytest_plugins = ["tests.standalone.qbo_fixtures"]

COMPANY = f"/v3/company/{REALM}"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
STALE = {
	"Fault": {
		"Error": [
			{
				"Message": "Stale Object Error",
				"Detail": "Stale Object Error : changed meanwhile",
				"code": "5010",
			}
		],
		"type": "ValidationFault",
	},
	"time": "2026-01-01T00:00:00.000-08:00",
}
THROTTLED = {
	"Fault": {
		"Error": [
			{
				"Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
				"Detail": "The request limit was reached.",
				"code": "3001",
			}
		],
		"type": "SERVICE",
	},
	"time": "2026-01-01T00:00:00.000-08:00",
}


# -- OAuth ---------------------------------------------------------------------------------------
def test_consent_redirect_carries_state_and_realm_and_the_code_is_exchanged_once(qbo_oauth):
	url = qbo_oauth.authorization_url("state-123")
	assert "scope=com.intuit.quickbooks.accounting" in url
	redirect = requests.get(url, allow_redirects=False, timeout=10)
	assert redirect.status_code == 302
	location = urlsplit(redirect.headers["Location"])
	assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
	query = {k: v[0] for k, v in parse_qs(location.query).items()}
	assert (query["state"], query["realmId"]) == ("state-123", REALM)

	tokens = qbo_oauth.exchange_code(query["code"], query["realmId"])
	assert tokens.access_token.startswith("emu-at-") and tokens.refresh_token.startswith("emu-rt-")
	assert (tokens.expires_in, tokens.refresh_expires_in) == (3600, 8726400)
	with pytest.raises(AuthenticationError, match="invalid_grant"):
		qbo_oauth.exchange_code(query["code"], query["realmId"])


def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(qbo_oauth, qbo_emulator):
	first = qbo_emulator.issue_tokens(REALM)["refresh_token"]
	second = qbo_oauth.refresh(first)
	assert second.refresh_token != first
	with pytest.raises(AuthenticationError, match="connect the company again"):
		qbo_oauth.refresh(first)
	assert qbo_oauth.refresh(second.refresh_token).access_token


def test_wrong_client_credentials_and_token_endpoint_outage(qbo_oauth, qbo_emulator):
	refresh_token = qbo_emulator.issue_tokens(REALM)["refresh_token"]
	qbo_emulator.add_fault(path=TOKEN_PATH, status=401, body={"error": "invalid_client"})
	with pytest.raises(AuthenticationError, match="client id and secret"):
		qbo_oauth.refresh(refresh_token)
	qbo_emulator.add_fault(path=TOKEN_PATH, status=503, body="down", headers={"Retry-After": "30"})
	with pytest.raises(TransientError) as raised:
		qbo_oauth.refresh(refresh_token)
	assert raised.value.retry_after == 30


def test_expired_access_token_is_refreshed_once_and_the_new_tokens_are_handed_back(
	qbo_api, qbo_emulator, qbo_oauth, stored_tokens
):
	old_refresh = qbo_api.tokens.refresh_token
	qbo_emulator.expire_access_tokens()
	assert qbo_api.read("Invoice", "130")["DocNumber"] == "1001"
	assert len(stored_tokens) == 1
	assert stored_tokens[0] == qbo_api.tokens
	assert stored_tokens[0].refresh_token != old_refresh
	assert paths(qbo_emulator) == [
		f"{COMPANY}/invoice/130",
		"/.well-known/openid_configuration",  # intuit-oauth learns the token endpoint first
		TOKEN_PATH,
		f"{COMPANY}/invoice/130",
	]
	with pytest.raises(AuthenticationError):
		qbo_oauth.refresh(old_refresh)


def test_a_second_401_after_refreshing_needs_reauthentication(qbo_api, qbo_emulator, stored_tokens):
	unauthorised = {"fault": {"error": [{"message": "message=AuthenticationFailed", "code": "3200"}]}}
	qbo_emulator.add_fault(path=f"{COMPANY}/query", status=401, body=unauthorised, times=2)
	with pytest.raises(AuthenticationError, match="freshly refreshed"):
		qbo_api.query("Customer")
	assert paths(qbo_emulator).count(TOKEN_PATH) == 1
	assert len(stored_tokens) == 1


def test_a_rotated_out_refresh_token_needs_reauthentication(qbo_api, qbo_emulator, qbo_oauth, stored_tokens):
	qbo_oauth.refresh(qbo_api.tokens.refresh_token)  # another worker refreshed and stored elsewhere
	qbo_emulator.expire_access_tokens()
	with pytest.raises(AuthenticationError, match="invalid_grant"):
		qbo_api.query("Customer")
	assert stored_tokens == []


def test_a_token_for_another_company_is_refused(qbo_api, qbo_oauth):
	tokens = qbo_api.tokens
	other = QboApi(qbo_oauth, "1234567890", tokens)
	with pytest.raises(AuthenticationError, match="refused access to company 1234567890"):
		other.query("Customer")


# -- reading -------------------------------------------------------------------------------------
def test_query_pages_with_startposition_and_maxresults(qbo_api, qbo_emulator):
	pages, start = [], 1
	while True:
		rows = qbo_api.query("Account", start_position=start, max_results=5, order_by="FullyQualifiedName")
		pages.append([r["Id"] for r in rows])
		start += len(rows)
		if len(rows) < 5:
			break
	assert [len(p) for p in pages] == [5, 5, 5, 5, 4]
	ids = [i for page in pages for i in page]
	assert sorted(ids) == sorted(a["Id"] for a in records("Account"))  # the inactive Postage (92) too
	assert ids.index("37") < ids.index("38") and ids.index("24") < ids.index("76")  # parents first
	queries = [r for r in qbo_emulator.requests if r["path"] == f"{COMPANY}/query"]
	assert len(queries) == 5


def test_query_where_subset(qbo_api):
	assert [c["Id"] for c in qbo_api.query("Customer", where="Active = true")] == ["1", "2", "3", "5"]
	assert [c["Id"] for c in qbo_api.query("Customer", where="Active = false")] == ["4"]
	assert [i["Id"] for i in qbo_api.query("Invoice", where="TxnDate >= '2024-07-01'")] == ["134"]
	assert [i["Id"] for i in qbo_api.query("Invoice", where="CustomerRef = '1' AND TotalAmt > '500'")] == [
		"130"
	]
	assert [v["Id"] for v in qbo_api.query("Vendor", where="DisplayName LIKE '%Supply%'")] == ["50"]
	assert [b["Id"] for b in qbo_api.query("Bill", where="Id IN ('105', '101')")] == ["101", "105"]
	assert qbo_api.first_transaction_date("JournalEntry") == date(2023, 1, 2)


def test_inactive_names_are_left_out_of_a_plain_select_and_the_client_asks_for_them(
	qbo_api, qbo_emulator, monkeypatch
):
	"""QBO's SELECT leaves inactive customers, vendors, items and accounts out although transactions
	point at them (bill 112 posts to the inactive Postage account): every query of them asks for both."""
	realm = qbo_emulator.realms[REALM]
	plain = qbo_emulator.run_query(realm, "SELECT * FROM Customer")
	assert [c["Id"] for c in plain["Customer"]] == ["1", "2", "3", "5"]
	both = qbo_emulator.run_query(realm, "SELECT * FROM Customer WHERE Active IN (true, false)")
	assert [c["Id"] for c in both["Customer"]] == ["1", "2", "3", "4", "5"]
	assert qbo_emulator.run_query(realm, "SELECT COUNT(*) FROM Account") == {"totalCount": 23}

	statements = []
	run_query = qbo_emulator.run_query
	monkeypatch.setattr(qbo_emulator, "run_query", lambda r, q: statements.append(q) or run_query(r, q))
	assert [c["Id"] for c in qbo_api.query("Customer")] == ["1", "2", "3", "4", "5"]
	assert "92" in [a["Id"] for a in qbo_api.query("Account", where="AccountType = 'Expense'")]
	assert [b["Id"] for b in qbo_api.query("Bill", where="Id = '110'")] == ["110"]
	assert statements == [
		"SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
		"SELECT * FROM Account WHERE AccountType = 'Expense' AND Active IN (true, false) "
		"ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
		"SELECT * FROM Bill WHERE Id = '110' ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
	]


def test_bad_queries_are_errors(qbo_api):
	with pytest.raises(RecordError, match=r"4001.*too large"):
		qbo_api.query("Customer", max_results=1001)
	with pytest.raises(RecordError, match=r"4001.*Invalid context declaration : Nothing"):
		qbo_api.query("Nothing")


def test_read_returns_decimals_and_missing_objects_are_record_errors(qbo_api):
	invoice = qbo_api.read("Invoice", "130")
	assert invoice["TotalAmt"] == Decimal("1714.5")
	assert qbo_api.company_info()["CompanyName"] == "Platypus Plumbing Supply"
	assert qbo_api.home_currency() == "USD"
	with pytest.raises(NotFoundError, match="610"):
		qbo_api.read("Invoice", "999")


# -- writing -------------------------------------------------------------------------------------
def test_create_then_update_with_the_sync_token(qbo_api):
	created = qbo_api.create(
		"Customer", {"DisplayName": "Bandicoot Builders", "CompanyName": "Bandicoot Builders"}
	)
	assert (created["SyncToken"], created["Active"]) == ("0", True)
	updated = qbo_api.update(
		"Customer", {"Id": created["Id"], "SyncToken": "0", "PrimaryEmailAddr": {"Address": "a@b.example"}}
	)
	assert updated["SyncToken"] == "1"
	assert (updated["DisplayName"], updated["PrimaryEmailAddr"]["Address"]) == (
		"Bandicoot Builders",
		"a@b.example",
	)


def test_a_stale_sync_token_is_read_again_and_the_update_sent_once_more(qbo_api, qbo_emulator):
	updated = qbo_api.update("Customer", {"Id": "1", "SyncToken": "0", "Notes": "from ERPNext"})
	assert (updated["SyncToken"], updated["Notes"]) == ("3", "from ERPNext")
	assert paths(qbo_emulator) == [f"{COMPANY}/customer", f"{COMPANY}/customer/1", f"{COMPANY}/customer"]


def test_a_caller_whose_version_does_not_win_gets_the_stale_answer(qbo_api, qbo_emulator):
	with pytest.raises(StaleObjectError, match="5010"):
		qbo_api.update("Customer", {"Id": "1", "SyncToken": "0", "Notes": "x"}, retry_stale=False)
	stale = ("u", "update", "Vendor", {"Id": "51", "SyncToken": "5", "sparse": True, "Notes": "x"})
	assert isinstance(qbo_api.batch([stale], retry_stale=False)["u"], StaleObjectError)
	assert paths(qbo_emulator) == [f"{COMPANY}/customer", f"{COMPANY}/batch"]  # nothing read again


def test_stale_twice_is_a_conflict(qbo_api, qbo_emulator):
	qbo_emulator.add_fault(path=f"{COMPANY}/customer", method="POST", status=400, body=STALE, times=2)
	with pytest.raises(ConflictError, match="Customer 1 changed again"):
		qbo_api.update("Customer", {"Id": "1", "SyncToken": "2", "Notes": "x"})
	assert qbo_api.read("Customer", "1")["SyncToken"] == "2"


def test_repeating_a_create_does_not_make_a_second_object(qbo_api):
	invoice = {
		"CustomerRef": {"value": "2"},
		"TxnDate": "2024-07-01",
		"Line": [
			{
				"DetailType": "SalesItemLineDetail",
				"Amount": 300,
				"SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 2, "UnitPrice": 150},
			}
		],
	}
	first, again = qbo_api.create("Invoice", invoice), qbo_api.create("Invoice", invoice)
	assert first["Id"] == again["Id"]
	assert first["TotalAmt"] == Decimal(300)
	assert len(qbo_api.query("Invoice")) == 9


def test_validation_faults_are_record_errors(qbo_api):
	with pytest.raises(RecordError, match=r"6240.*Duplicate Name"):
		qbo_api.create("Customer", {"DisplayName": "Acme Hardware"})
	with pytest.raises(RecordError, match=r"2020.*CustomerRef"):
		qbo_api.create("Invoice", {"Line": [{"Amount": 1}]})
	unbalanced = [
		{
			"Amount": 10,
			"DetailType": "JournalEntryLineDetail",
			"JournalEntryLineDetail": {"PostingType": p, "AccountRef": {"value": a}},
		}
		for p, a in (("Debit", "35"), ("Credit", "30"))
	]
	unbalanced[1]["Amount"] = 9
	with pytest.raises(RecordError, match="balance your journal entry"):
		qbo_api.create("JournalEntry", {"Line": unbalanced})


def test_a_deleted_records_id_is_never_given_to_another(qbo_api):
	qbo_api.delete("Payment", "155", "0")  # the latest payment
	created = qbo_api.create(
		"Payment",
		{
			"CustomerRef": {"value": "2"},
			"TotalAmt": 10,
			"TxnDate": "2024-09-01",
			"DepositToAccountRef": {"value": "35"},
		},
	)
	assert created["Id"] == "156"
	again = qbo_api.create(
		"Payment",
		{
			"CustomerRef": {"value": "2"},
			"TotalAmt": 20,
			"TxnDate": "2024-09-02",
			"DepositToAccountRef": {"value": "35"},
		},
	)
	assert again["Id"] == "157"


def test_delete_transactions_but_not_names(qbo_api):
	answer = qbo_api.delete("Transfer", "170", "0")
	assert (answer["Id"], answer["status"]) == ("170", "Deleted")
	with pytest.raises(RecordError, match="610"):
		qbo_api.read("Transfer", "170")
	with pytest.raises(RecordError, match="5010"):
		qbo_api.delete("Deposit", "160", "7")
	with pytest.raises(RecordError, match="cannot be deleted"):
		qbo_api.delete("Customer", "4", "3")


def test_cdc_reports_changes_and_deletions_since_a_time(qbo_api):
	since = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()
	qbo_api.update("Invoice", {"Id": "133", "SyncToken": "0", "PrivateNote": "chased"})
	qbo_api.delete("Payment", "153", "0")
	created = qbo_api.create("Vendor", {"DisplayName": "Wombat Wires"})
	answer = qbo_api.cdc(["Invoice", "Payment", "Vendor", "Customer"], since)
	by_entity = {}
	for response in answer["CDCResponse"][0]["QueryResponse"]:
		for name in ("Invoice", "Payment", "Vendor", "Customer"):
			if name in response:
				by_entity[name] = [(r["Id"], r.get("status") or r["SyncToken"]) for r in response[name]]
	assert by_entity == {
		"Invoice": [("133", "1")],
		"Payment": [("153", "Deleted")],
		"Vendor": [(created["Id"], "0")],
	}
	with pytest.raises(SyncError, match="older than fixed days is not supported"):
		qbo_api.cdc(["Invoice"], "2024-01-01T00:00:00+00:00")


def test_changed_since_reads_the_latest_changes_first_a_page_at_a_time(qbo_api, qbo_emulator):
	base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=40)
	customers = qbo_emulator.realms[REALM].records["Customer"]
	for qbo_id, hours in (("1", 1), ("2", 2), ("3", 3)):
		moment = base + timedelta(hours=hours)
		if qbo_id == "3":  # the latest, in Pacific time: compared as text it would come first
			moment = moment.astimezone(timezone(timedelta(hours=-8)))
		customers[qbo_id]["MetaData"]["LastUpdatedTime"] = moment.isoformat()
	rows, answered = qbo_api.changed_since("Customer", base, 1, 2)
	assert [r["Id"] for r in rows] == ["3", "2"]
	assert datetime.fromisoformat(answered) > base + timedelta(days=39)
	rows, _ = qbo_api.changed_since("Customer", base, 3, 2)
	assert [r["Id"] for r in rows] == ["1"]
	later, _ = qbo_api.changed_since("Customer", base + timedelta(hours=2, seconds=1))
	assert [r["Id"] for r in later] == ["3"]


def test_batch_writes_and_retries_stale_updates_once(qbo_api, qbo_emulator):
	results = qbo_api.batch(
		[
			("1", "create", "Customer", {"DisplayName": "Quokka Quarry"}),
			("2", "create", "Customer", {"CompanyName": "no display name"}),
			("3", "update", "Customer", {"Id": "2", "SyncToken": "9", "sparse": True, "Notes": "batch"}),
		]
	)
	assert results["1"]["DisplayName"] == "Quokka Quarry"
	assert isinstance(results["2"], RecordError) and "DisplayName" in str(results["2"])
	assert (results["3"]["SyncToken"], results["3"]["Notes"]) == ("1", "batch")
	assert paths(qbo_emulator) == [f"{COMPANY}/batch", f"{COMPANY}/query", f"{COMPANY}/batch"]


def test_batch_stale_twice_is_a_conflict_for_that_item(qbo_api, qbo_emulator):
	stale_answer = {"BatchItemResponse": [{"bId": "u", "Fault": STALE["Fault"]}], "time": STALE["time"]}
	qbo_emulator.add_fault(path=f"{COMPANY}/batch", method="POST", status=200, body=stale_answer, skip=1)
	results = qbo_api.batch(
		[
			("c", "create", "Vendor", {"DisplayName": "Echidna Electrical"}),
			("u", "update", "Vendor", {"Id": "51", "SyncToken": "5", "sparse": True, "Notes": "x"}),
		]
	)
	assert results["c"]["DisplayName"] == "Echidna Electrical"
	assert isinstance(results["u"], ConflictError)
	with pytest.raises(ValueError, match="at most 30"):
		qbo_api.batch([(str(i), "create", "Vendor", {"DisplayName": f"V{i}"}) for i in range(31)])


# -- reports -------------------------------------------------------------------------------------
def report_rows(report) -> dict[str, tuple[str, str]]:
	return {
		row["ColData"][0]["value"]: (row["ColData"][1]["value"], row["ColData"][2]["value"])
		for row in report["Rows"]["Row"]
		if "ColData" in row
	}


def test_trial_balance_is_computed_from_the_data_and_balances(qbo_api):
	report = qbo_api.trial_balance(date(2024, 12, 31))
	assert report["Header"]["ReportName"] == "TrialBalance"
	assert (report["Header"]["StartPeriod"], report["Header"]["EndPeriod"]) == ("2024-01-01", "2024-12-31")
	rows = report_rows(report)
	# 38,032.13 before this dataset's CAD payment (576.00) and the 3.5 hours paid for (525.00)
	assert rows["Checking"] == ("39133.13", "")
	assert rows["Checking EUR"] == ("1100.00", "")
	assert rows["Equipment:Vehicles"] == ("12000.00", "")
	assert rows["Board of Equalization Payable"] == ("", "36.25")
	assert rows["Accounts Receivable (A/R)"] == ("295.00", "")  # solder sold on account: 85.00 + 210.00
	assert rows["Accounts Payable (A/P)"] == ("", "202.50")  # solder (100.00, 90.00) and its freight (12.50)
	# 2023's profit: income 385.00 + 1,800.00 - 40.00 discount; expenses 214.00 cost of goods sold,
	# 12.50 postage, 1,500.00 rent, 35.60 + 180.40 utilities.
	assert rows["Retained Earnings"] == ("", f"{385 + 1800 - 40 - 214 - 12.5 - 1500 - 35.6 - 180.4:.2f}")
	total = report["Rows"]["Row"][-1]["Summary"]["ColData"]
	assert total[1]["value"] == total[2]["value"] == "53268.25"


def test_trial_balance_at_the_end_of_the_first_year(qbo_api):
	rows = report_rows(qbo_api.trial_balance(date(2023, 12, 31)))
	assert rows["Accounts Receivable (A/R)"] == ("31.37", "")  # solder sold (85.00) less the credit memo
	assert rows["Accounts Payable (A/P)"] == ("", "288.50")  # 176.00, solder 100.00, its freight 12.50
	assert rows["Utilities"] == ("35.60", "") and rows["Utilities:Electricity"] == ("180.40", "")
	assert rows["Postage"] == ("12.50", "")  # an inactive account still holds what was booked to it
	assert "Retained Earnings" not in rows


def test_an_hourly_service_billed_at_fractional_hours(qbo_api):
	invoice = qbo_api.read("Invoice", "134")
	assert invoice["Line"][0]["SalesItemLineDetail"]["Qty"] == Decimal("3.5")
	july, august = (report_rows(qbo_api.trial_balance(date(2024, m, d))) for m, d in ((7, 31), (8, 31)))
	# Services in 2024: EUR 1,000.00 x 1.1, CAD 800.00 x 0.74 and 3.5 h x 150.00.
	assert july["Services"] == ("", f"{1000 * 1.1 + 800 * 0.74 + 3.5 * 150:.2f}") == ("", "2217.00")
	# Unpaid in July: the solder (85.00 + 210.00) and the 525.00; paid on 1 August into Checking.
	assert july["Accounts Receivable (A/R)"] == ("820.00", "")
	assert august["Accounts Receivable (A/R)"] == ("295.00", "")
	assert Decimal(august["Checking"][0]) - Decimal(july["Checking"][0]) == Decimal("525.00")


def test_a_foreign_invoice_paid_at_another_rate_books_the_difference_to_exchange_gain_or_loss(qbo_api):
	may = report_rows(qbo_api.trial_balance(date(2024, 5, 31)))
	# Invoice 1008: CAD 800.00 at 0.74.
	assert may["Accounts Receivable (A/R) - CAD"] == (f"{800 * 0.74:.2f}", "") == ("592.00", "")
	assert "Exchange Gain or Loss" not in may
	june = report_rows(qbo_api.trial_balance(date(2024, 6, 30)))
	# Paid on 5 June at 0.72: 800.00 x 0.72 = 576.00 into Checking; A/R - CAD is cleared at the 592.00
	# it was booked at, and the 16.00 lost on the rate is an expense.
	assert "Accounts Receivable (A/R) - CAD" not in june
	assert Decimal(june["Checking"][0]) - Decimal(may["Checking"][0]) == Decimal("576.00")
	assert june["Exchange Gain or Loss"] == ("16.00", "")
	ledger = qbo_api.general_ledger(["90", "91"], date(2024, 6, 1), date(2024, 6, 30))
	lines = [
		(section["Header"]["ColData"][0]["value"], [cell["value"] for cell in row["ColData"]])
		for section in ledger["Rows"]["Row"]
		for row in section["Rows"]["Row"]
	]
	assert lines == [
		("Accounts Receivable (A/R) - CAD", ["2024-06-05", "Payment", "", "", "592.00"]),
		("Exchange Gain or Loss", ["2024-06-05", "Payment", "", "16.00", ""]),
	]


def test_inventory_bought_and_sold_over_two_years_is_costed_first_in_first_out(qbo_api):
	# Solder wire: 12.5 kg bought at 8.00 (1 June 2023), 4.25 kg sold (15 September 2023) at
	# 4.25 x 8.00 = 34.00, 10 kg bought at 9.00 (1 February 2024), 10.5 kg sold (10 May 2024) at
	# 8.25 x 8.00 + 2.25 x 9.00 = 86.25; 7.75 kg left at 9.00 = 69.75.
	# Copper pipe at 4.00 a metre throughout: 75 m at the end of 2023, 95 m at the end of 2024.
	first, second = (qbo_api.trial_balance(date(y, 12, 31)) for y in (2023, 2024))
	assert report_rows(first)["Inventory Asset"] == (f"{75 * 4 + 8.25 * 8:.2f}", "") == ("366.00", "")
	assert report_rows(second)["Inventory Asset"] == (f"{95 * 4 + 7.75 * 9:.2f}", "") == ("449.75", "")
	# Cost of goods sold: 2023 the gasket kits bought (120.00), 20 m sold less 5 m returned at 4.00 and
	# the solder's 34.00; 2024 30 m at 4.00 and the solder's 86.25.
	assert report_rows(first)["Cost of Goods Sold"] == (f"{120 + 15 * 4 + 34:.2f}", "")
	assert report_rows(second)["Cost of Goods Sold"] == (f"{30 * 4 + 86.25:.2f}", "")

	stock = qbo_api.inventory_valuation(date(2023, 12, 31))
	assert [column["ColTitle"] for column in stock["Columns"]["Column"]] == [
		"",
		"SKU",
		"Qty",
		"Asset Value",
		"Calc. Avg",
	]
	assert [[cell["value"] for cell in row["ColData"]] for row in stock["Rows"]["Row"][:-1]] == [
		["Copper Pipe", "CP-100", "75", "300.00", "4.00"],
		["Solder Wire", "SW-KG", "8.25", "66.00", "8.00"],
	]
	now = qbo_api.inventory_valuation(date.today())
	on_hand = {row["ColData"][0]["id"]: row["ColData"][2]["value"] for row in now["Rows"]["Row"][:-1]}
	assert on_hand == {item["Id"]: str(item["QtyOnHand"]) for item in records("Item") if "QtyOnHand" in item}


# -- faults --------------------------------------------------------------------------------------
def test_429_is_retried_by_the_engine_after_retry_after(qbo_api, qbo_emulator):
	qbo_emulator.add_fault(
		path=f"{COMPANY}/query", status=429, body=THROTTLED, headers={"Retry-After": "7"}, times=2
	)
	slept = []
	caller = ApiCaller(RetryPolicy(base_delay=0.01), sleep=slept.append)
	rows = caller(qbo_api.query, "Term")
	assert [r["Name"] for r in rows] == ["Net 15", "Net 30", "15th of next month"]
	assert slept == [7.0, 7.0]
	assert caller.calls == 3


def test_server_errors_are_transient_and_backed_off(qbo_api, qbo_emulator):
	qbo_emulator.add_fault(path=f"{COMPANY}/invoice/130", status=500, body="<html>oops</html>")
	with pytest.raises(TransientError, match="500"):
		qbo_api.read("Invoice", "130")
	qbo_emulator.add_fault(path=f"{COMPANY}/invoice/130", status=503, body=THROTTLED)
	slept = []
	caller = ApiCaller(RetryPolicy(base_delay=0.01), sleep=slept.append, rng=lambda: 0.5)
	assert caller(qbo_api.read, "Invoice", "130")["Id"] == "130"
	assert slept == [0.0075]


def test_unreachable_host_is_retried_then_raised():
	oauth = QboOAuth("client-id", "client-secret", REDIRECT_URI, base_url="http://127.0.0.1:9")
	api = QboApi(oauth, REALM, Tokens("at", "rt"), timeout=2)
	caller = ApiCaller(RetryPolicy(max_attempts=2), sleep=lambda s: None)
	with pytest.raises(TransientError, match="could not reach QuickBooks"):
		caller(api.query, "Customer")
	assert caller.calls == 2
