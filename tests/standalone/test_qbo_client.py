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
	assert [len(p) for p in pages] == [5, 5, 5, 5, 1]
	ids = [i for page in pages for i in page]
	assert sorted(ids) == sorted(a["Id"] for a in records("Account"))
	assert ids.index("37") < ids.index("38") and ids.index("24") < ids.index("76")  # parents first
	queries = [r for r in qbo_emulator.requests if r["path"] == f"{COMPANY}/query"]
	assert len(queries) == 5


def test_query_where_subset(qbo_api):
	assert [c["Id"] for c in qbo_api.query("Customer", where="Active = true")] == ["1", "2", "3"]
	assert [i["Id"] for i in qbo_api.query("Invoice", where="TxnDate >= '2024-01-01'")] == ["132", "133"]
	assert [i["Id"] for i in qbo_api.query("Invoice", where="CustomerRef = '1' AND TotalAmt > '500'")] == [
		"130"
	]
	assert [v["Id"] for v in qbo_api.query("Vendor", where="DisplayName LIKE '%Supply%'")] == ["50"]
	assert [b["Id"] for b in qbo_api.query("Bill", where="Id IN ('105', '101')")] == ["101", "105"]
	assert qbo_api.first_transaction_date("JournalEntry") == date(2023, 1, 2)


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
	assert len(qbo_api.query("Invoice")) == 5


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
	assert rows["Checking"] == ("38032.13", "")
	assert rows["Checking EUR"] == ("1100.00", "")
	assert rows["Equipment:Vehicles"] == ("12000.00", "")
	assert rows["Inventory Asset"] == ("380.00", "")
	assert rows["Board of Equalization Payable"] == ("", "36.25")
	assert rows["Retained Earnings"] == ("", "164.00")  # 2023's profit
	assert rows["Services"] == ("", "1100.00")  # 2024 only
	assert "Accounts Receivable (A/R)" not in rows
	total = report["Rows"]["Row"][-1]["Summary"]["ColData"]
	assert total[1]["value"] == total[2]["value"] == "51700.25"


def test_trial_balance_at_the_end_of_the_first_year(qbo_api):
	rows = report_rows(qbo_api.trial_balance(date(2023, 12, 31)))
	assert rows["Accounts Receivable (A/R)"] == ("", "53.63")  # the unapplied credit memo
	assert rows["Accounts Payable (A/P)"] == ("", "176.00")
	assert rows["Utilities"] == ("35.60", "") and rows["Utilities:Electricity"] == ("180.40", "")
	assert "Retained Earnings" not in rows


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
