import pytest

from kraal_connect.engine.errors import AuthenticationError, PageLost, RecordError, SyncError, TransientError
from kraal_connect.engine.records import Change, Page, Stream, Target
from kraal_connect.engine.retry import ApiCaller, RetryPolicy
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import apply_change, read_pages, sync_streams
from tests.standalone.memory_store import MemoryStore


def paged_source(pages, fail_at=None):
	"""fetch() over a list of pages of Changes; cursors are page numbers as strings."""
	calls = []

	def fetch(cursor):
		index = int(cursor or 0)
		calls.append(index)
		if fail_at is not None and index == fail_at.get("page") and fail_at["times"] > 0:
			fail_at["times"] -= 1
			raise fail_at["error"]
		last = index == len(pages) - 1
		return Page(pages[index], next_cursor=str(index + 1), has_more=not last)

	fetch.calls = calls
	return fetch


def amount_mapper(record, context):
	if record.get("pending"):
		return None
	if not isinstance(record.get("amount"), int | float):
		raise RecordError(f"row {record.get('id')}: field 'amount' is not a number")
	return {"doctype": "Row", "amount": record["amount"] * context["scale"], "docstatus": 1}


def changes(*ids, **extra):
	return [Change(i, {"id": i, "amount": 10, **extra}) for i in ids]


def run(stream, store, caller=None, context=None):
	stats = RunStats()
	sync_streams([stream], store, caller or ApiCaller(sleep=lambda s: None), context or {"scale": 1}, stats)
	return stats


def test_pages_are_followed_and_each_checkpointed_with_its_cursor():
	fetch = paged_source([changes("a", "b"), changes("c"), changes("d", "e")])
	store = MemoryStore()
	stats = run(Stream("row", fetch, amount_mapper), store, context={"scale": 3})
	assert sorted(store.live("row")) == ["a", "b", "c", "d", "e"]
	assert store.live("row")["c"]["amount"] == 30
	assert store.checkpoints == [("row", "1"), ("row", "2"), ("row", "3")]
	counts = stats.counts["row"]
	assert (counts.fetched, counts.created, counts.failed) == (5, 5, 0)
	assert stats.status == "Success"
	assert stats.api_calls == 3


def test_second_run_from_the_start_writes_nothing():
	pages = [changes("a", "b"), changes("c")]
	store = MemoryStore()
	run(Stream("row", paged_source(pages), amount_mapper), store)
	store.cursors.clear()
	stats = run(Stream("row", paged_source(pages), amount_mapper), store)
	assert store.inserts == 3
	assert (stats.counts["row"].created, stats.counts["row"].skipped) == (0, 3)


def test_a_bad_record_fails_alone_and_names_itself():
	page = [*changes("a"), Change("bad", {"id": "bad", "amount": "12,50"}), *changes("c")]
	store = MemoryStore()
	stats = run(Stream("row", paged_source([page]), amount_mapper), store)
	assert sorted(store.live("row")) == ["a", "c"]
	assert [(f.external_id, f.message) for f in stats.failures] == [
		("bad", "row bad: field 'amount' is not a number")
	]
	assert stats.counts["row"].failed == 1
	assert stats.status == "Partial"


def test_unexpected_errors_in_one_record_are_isolated_too():
	def mapper(record, context):
		if record["id"] == "boom":
			return {}["missing"]
		return amount_mapper(record, context)

	page = [*changes("a"), Change("boom", {"id": "boom"}), *changes("c")]
	store = MemoryStore()
	stats = run(Stream("row", paged_source([page]), mapper), store)
	assert sorted(store.live("row")) == ["a", "c"]
	assert stats.failures[0].external_id == "boom"
	assert stats.failures[0].message.startswith("KeyError")


def test_unbooked_records_count_as_skipped():
	page = changes("a") + changes("p", pending=True)
	store = MemoryStore()
	stats = run(Stream("row", paged_source([page]), amount_mapper), store)
	assert list(store.live("row")) == ["a"]
	assert stats.counts["row"].skipped == 1


def test_changed_record_updates_deleted_record_cancels_and_locked_document_conflicts():
	store = MemoryStore()
	run(Stream("row", paged_source([changes("a", "b", "c")]), amount_mapper), store)
	store.holds[("row", "c")] = ["Bank Transaction BT-c is reconciled against Payment Entry PE-1"]
	page = [
		Change("a", {"id": "a", "amount": 99}),
		Change("b", deleted=True),
		Change("c", {"id": "c", "amount": 1}),
		Change("never-seen", deleted=True),
	]
	store.cursors.clear()
	stream = Stream("row", paged_source([page]), amount_mapper)
	stats = run(stream, store)
	assert store.live("row")["a"]["amount"] == 99
	assert "b" not in store.live("row")
	assert store.live("row")["c"]["amount"] == 10
	counts = stats.counts["row"]
	assert (counts.updated, counts.cancelled, counts.skipped, counts.failed) == (1, 1, 1, 1)
	assert [(f.external_id, f.kind) for f in stats.failures] == [("c", "Conflict")]


def test_a_run_that_dies_resumes_from_the_last_committed_page_without_duplicates():
	pages = [changes("a", "b"), changes("c", "d"), changes("e")]
	store = MemoryStore()
	fetch = paged_source(pages, fail_at={"page": 2, "times": 1, "error": KeyboardInterrupt()})
	with pytest.raises(KeyboardInterrupt):
		run(Stream("row", fetch, amount_mapper), store)
	assert store.cursor("row") == "2"
	resumed = paged_source(pages)
	run(Stream("row", resumed, amount_mapper), store)
	assert resumed.calls == [2]
	assert sorted(store.live("row")) == ["a", "b", "c", "d", "e"]
	assert store.inserts == 5


def test_transient_errors_are_retried_then_the_stream_stops_and_the_next_one_runs():
	flaky = paged_source(
		[changes("a"), changes("b")], fail_at={"page": 1, "times": 2, "error": TransientError("503")}
	)
	dead = paged_source(
		[changes("x"), changes("y")], fail_at={"page": 1, "times": 99, "error": TransientError("503")}
	)
	healthy = paged_source([changes("z")])
	store = MemoryStore()
	stats = RunStats()
	caller = ApiCaller(RetryPolicy(max_attempts=3), sleep=lambda s: None)
	streams = [
		Stream("flaky", flaky, amount_mapper),
		Stream("dead", dead, amount_mapper),
		Stream("ok", healthy, amount_mapper),
	]
	sync_streams(streams, store, caller, {"scale": 1}, stats)
	assert sorted(store.live("flaky")) == ["a", "b"]
	assert sorted(store.live("dead")) == ["x"]
	assert store.cursor("dead") == "1"
	assert sorted(store.live("ok")) == ["z"]
	assert stats.aborted_entities == ["dead"]
	assert stats.failures[-1].message == "stopped after retries: 503"
	assert stats.status == "Partial"
	assert stats.api_calls == (1 + 3) + (1 + 3) + 1


def test_authentication_failure_stops_the_whole_integration():
	dead = paged_source(
		[changes("a")], fail_at={"page": 0, "times": 1, "error": AuthenticationError("login")}
	)
	never = paged_source([changes("b")])
	store = MemoryStore()
	with pytest.raises(AuthenticationError):
		sync_streams(
			[Stream("one", dead, amount_mapper), Stream("two", never, amount_mapper)],
			store,
			ApiCaller(sleep=lambda s: None),
			{"scale": 1},
			RunStats(),
		)
	assert never.calls == []


def test_a_vendor_that_repeats_its_cursor_does_not_loop_forever():
	def fetch(cursor):
		return Page(changes("a"), next_cursor="same", has_more=True)

	stats = run(Stream("row", fetch, amount_mapper), MemoryStore())
	assert stats.aborted_entities == ["row"]
	assert "same cursor" in stats.failures[0].message


def test_status_is_failed_when_every_stream_stopped():
	stats = RunStats()
	stats.entity("row")
	stats.aborted_entities.append("row")
	assert stats.status == "Failed"


def test_a_record_can_write_several_documents_and_removal_undoes_all_of_them():
	def order_mapper(record, context):
		targets = [Target("", {"doctype": "Sales Order", "total": record["amount"]})]
		if record.get("paid"):
			targets.append(Target("invoice", {"doctype": "Sales Invoice", "total": record["amount"]}))
		return targets

	store = MemoryStore()
	first = run(Stream("order", paged_source([changes("o1")]), order_mapper), store)
	assert first.counts["order"].created == 1
	store.cursors.clear()
	paid = run(Stream("order", paged_source([changes("o1", paid=True)]), order_mapper), store)
	assert paid.counts["order"].created == 1  # the invoice is new, the order unchanged
	assert sorted(store.live("order")) == ["o1"]
	assert sorted(store.live("order:invoice")) == ["o1"]
	store.cursors.clear()
	gone = run(Stream("order", paged_source([[Change("o1", deleted=True)]]), order_mapper), store)
	assert gone.counts["order"].cancelled == 1
	assert store.live("order") == store.live("order:invoice") == {}


def test_a_page_the_database_lost_is_written_again_and_counted_once():
	class DeadlockOnce(MemoryStore):
		lost = False

		def write(self, stream, change, targets):
			outcome = super().write(stream, change, targets)
			if change.external_id == "c" and not self.lost:
				self.lost = True
				raise PageLost("deadlock")
			return outcome

	store = DeadlockOnce()
	stats = run(Stream("row", paged_source([changes("a"), changes("b", "c", "d")]), amount_mapper), store)
	assert sorted(store.live("row")) == ["a", "b", "c", "d"]
	assert store.inserts == 4
	counts = stats.counts["row"]
	assert (counts.fetched, counts.created, counts.failed) == (4, 4, 0)
	assert store.checkpoints == [("row", "1"), ("row", "2")]


def test_a_page_lost_every_time_stops_the_stream_at_its_last_cursor():
	class AlwaysLost(MemoryStore):
		def write(self, stream, change, targets):
			if change.external_id == "b":
				raise PageLost("deadlock")
			return super().write(stream, change, targets)

	store = AlwaysLost()
	stats = run(Stream("row", paged_source([changes("a"), changes("b")]), amount_mapper), store)
	assert sorted(store.live("row")) == ["a"]
	assert store.cursor("row") == "1"
	assert stats.aborted_entities == ["row"]
	assert stats.counts["row"].created == 1


def test_reference_data_is_read_across_pages_with_retries_and_written_nowhere():
	fetch = paged_source(
		[changes("a", "b"), changes("c"), changes("d")],
		fail_at={"page": 1, "times": 1, "error": TransientError("429")},
	)
	caller = ApiCaller(RetryPolicy(max_attempts=3), sleep=lambda s: None)
	assert [c.external_id for c in read_pages(fetch, caller)] == ["a", "b", "c", "d"]
	assert fetch.calls == [0, 1, 1, 2]


def test_reading_a_vendor_that_repeats_its_cursor_stops():
	with pytest.raises(SyncError, match="same cursor"):
		read_pages(lambda cursor: Page(changes("a"), next_cursor="same", has_more=True), ApiCaller())


def test_a_failed_record_is_kept_with_the_record_so_it_can_be_tried_again():
	def mapper(record, context):
		if record.get("bad"):
			raise RecordError(f"row {record['id']}: field 'amount' is missing")
		return amount_mapper(record, context)

	store = MemoryStore()
	stats = run(
		Stream("row", paged_source([[Change("a", {"id": "a", "bad": True}), *changes("b")]]), mapper), store
	)
	[failure] = stats.failures
	assert (failure.external_id, failure.message) == ("a", "row a: field 'amount' is missing")
	assert failure.change.record == {"id": "a", "bad": True}
	assert stats.written == [("row", "b")]


def test_a_lost_page_wrapped_by_a_mapper_is_written_again_not_failed():
	calls = []

	def mapper(record, context):
		calls.append(record["id"])
		if calls.count("b") == 1 and record["id"] == "b":
			try:
				raise PageLost("deadlock")
			except PageLost as exc:
				raise RecordError("row b: could not read its customer") from exc
		return amount_mapper(record, context)

	store = MemoryStore()
	stats = run(Stream("row", paged_source([changes("a", "b")]), mapper), store)
	assert stats.failures == []
	assert calls == ["a", "b", "a", "b"]
	assert (stats.counts["row"].created, stats.counts["row"].fetched) == (2, 2)


def test_a_new_version_that_maps_to_the_same_documents_writes_nothing():
	store = MemoryStore()
	run(Stream("row", paged_source([changes("a", "b")]), amount_mapper), store)
	store.cursors.clear()
	bumped = [Change(c.external_id, c.record, version="updated-later") for c in changes("a", "b")]
	stats = run(Stream("row", paged_source([bumped]), amount_mapper), store)
	assert (store.writes, stats.counts["row"].skipped, stats.counts["row"].updated) == (2, 2, 0)
	assert store.versions[("row", "a")] == "updated-later"


def test_a_record_met_twice_at_one_version_in_one_run_is_handled_once():
	"""A failed record tried again at the start of a run and met again by its stream fails once."""
	calls = []

	def failing(record, context):
		calls.append(record["id"])
		raise RecordError(f"row {record['id']}: field 'amount' is missing")

	store, stats = MemoryStore(), RunStats()
	stream = Stream("row", paged_source([changes("a")]), failing)
	(change,) = changes("a")
	apply_change(stream, change, store, {"scale": 1}, stats)  # the open failure, tried again
	sync_streams([stream], store, ApiCaller(sleep=lambda s: None), {"scale": 1}, stats)  # met again
	assert calls == ["a"]
	assert (stats.counts["row"].failed, stats.counts["row"].skipped, len(stats.failures)) == (1, 1, 1)
