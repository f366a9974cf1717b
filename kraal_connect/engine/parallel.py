"""A long run written by several background workers at once: the run reads its streams into Kraal
Queued Records (engine/queued_records), asks workers on the `long` queue to help, and writes with them,
stage by stage (engine/fanout decides). Each record is its own transaction: its documents, its External
Links, its failed record and its queued row are committed together, so a worker killed at any moment
leaves every record either written or queued, and a replay is safe."""

import logging
import time
from dataclasses import dataclass, field

import frappe
from frappe.utils import cint

from kraal_connect.engine import failed_records, fanout, queued_records, run_cache, series
from kraal_connect.engine.errors import PageLost
from kraal_connect.engine.redaction import redact
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.site_store import SiteStore
from kraal_connect.engine.stats import OUTCOMES, RunStats
from kraal_connect.engine.sync import already_handled, apply_change, sync_streams
from kraal_connect.engine.sync_log import SyncLog

HELP_JOB = "kraal_connect.engine.parallel.help_write"
# A helper whose stage has not moved for this long (the run that asked it died) stops; the next run
# writes what is left.
HELPER_PATIENCE_SECONDS = 300
WAIT_SECONDS = 0.2
# How often the run counts what its workers wrote into its Sync Log and progress bar.
COUNT_SECONDS = 5


def writes_in_parallel(connector) -> bool:
	return connector.written_after is not None and cint(connector.integration.get("backfill_workers")) > 1


def sync_streams_in_parallel(
	connector, context, store: SiteStore, caller, stats: RunStats, streams, on_page, on_written
):
	"""What earlier runs left queued and every stream read and queued, written by this run and its
	helpers; the records' outcomes are counted into stats."""
	integration, log = connector.integration, store.log.doc.name
	plan = fanout.stages([s.entity for s in streams], connector.written_after)
	stage_of = _adopt(integration.name, log, plan, stats)

	def queue(stream, change, _store, _context, stats):
		if not already_handled(stream, change, stats):
			queued_records.add(integration.name, log, stage_of[stream.entity], stream.entity, [change])

	sync_streams(streams, store, caller, context, stats, on_page, apply=queue)
	helpers = fanout.helpers_for(queued_records.count(integration.name), cint(integration.backfill_workers))
	_write_and_count(connector, context, store, stats, plan, helpers, on_written)


def write_left_queued(connector, context, store: SiteStore, stats: RunStats, streams, on_written) -> None:
	"""What a run that died left queued, written by this run alone before it reads on: whatever Backfill
	Workers says now, no record read is ever left behind."""
	if connector.written_after is None:
		return
	plan = fanout.stages([s.entity for s in streams], connector.written_after)
	_adopt(connector.integration.name, store.log.doc.name, plan, stats)
	if queued_records.count(connector.integration.name):
		_write_and_count(connector, context, store, stats, plan, 0, on_written)


def _adopt(integration: str, log: str, plan, stats: RunStats) -> dict[str, int]:
	"""Records an earlier run queued and did not write become this run's, in this run's stages."""
	stage_of = {entity: number for number, group in enumerate(plan) for entity in group}
	for entity, number in queued_records.adopt(integration, log, stage_of).items():
		stats.entity(entity).fetched += number
	return stage_of


def _write_and_count(connector, context, store: SiteStore, stats: RunStats, plan, helpers: int, on_written):
	integration, log = connector.integration, store.log.doc.name
	for _ in range(helpers):
		frappe.enqueue(HELP_JOB, queue="long", timeout=4 * 3600, integration=integration.name, log=log)
	frappe.db.commit()
	total, counted_at = queued_records.count(integration.name), time.monotonic()

	def count_now(force: bool = False) -> None:
		"""Now and then, and at the end: the log's counts and the form's progress bar move on."""
		nonlocal counted_at
		if not force and time.monotonic() - counted_at < COUNT_SECONDS:
			return
		_count_written(integration.name, log, store, stats)
		on_written(total - queued_records.count(integration.name), total)
		counted_at = time.monotonic()

	write_queued(integration, connector, context, store, plan, is_run=True, on_written=count_now)
	count_now(force=True)


def _count_written(integration: str, log: str, store: SiteStore, stats: RunStats) -> None:
	"""What the run's workers wrote since the last count into its stats and its Sync Log."""
	queued_records.tally(log, stats)
	kept = {(f.entity, f.external_id) for f in stats.failures}
	stats.failures += [
		f for f in failed_records.failures_of_run(integration, log) if (f.entity, f.external_id) not in kept
	]
	counted = {row[2] for row in stats.fixed}
	stats.fixed += [r for r in failed_records.fixed_by_run(integration, log) if r[2] not in counted]
	store.save(stats)


def help_write(integration: str, log: str) -> None:
	"""A worker's share of a run's queued records (enqueued by the run)."""
	doc = frappe.get_doc("Kraal Integration", integration)
	if frappe.db.get_value("Kraal Sync Log", log, "status") != "Running":
		return
	connector = connector_class(doc.vendor)(doc, ApiCaller())
	with run_cache.scope():
		# As in the run: prepare first, the streams may use what it found.
		context = connector.prepare(RunStats())
		frappe.db.commit()
		# The run's stages: the entities it writes, in its order.
		plan = fanout.stages([s.entity for s in connector.enabled_streams()], connector.written_after)
		write_queued(doc, connector, context, SiteStore(doc, SyncLog.existing(log, doc.secrets())), plan)


@dataclass
class Share:
	"""What one worker did of a run, written to the kraal_parallel log when it stops: how the work was
	shared, and where a worker's time went (writing records, or waiting for a stage's last ones)."""

	# queued record -> times it lost a race (another worker's write, a record of its stage it names)
	attempts: dict[str, int] = field(default_factory=dict)
	written: int = 0
	alone: int = 0
	writing: float = 0.0
	waiting: float = 0.0

	def __str__(self) -> str:
		return (
			f"wrote {self.written} records in {self.writing:.1f} s ({self.alone} alone), waited "
			f"{self.waiting:.1f} s, lost {sum(self.attempts.values())} races"
		)


def write_queued(doc, connector, context, store: SiteStore, plan, is_run=False, on_written=None) -> None:
	"""Claim and write queued records stage by stage; on_written is called between records."""
	on_written = on_written or (lambda: None)
	streams = {s.entity: s for s in connector.streams()}
	share = Share()
	frappe.flags.kraal_parallel = True
	try:
		with series.taken_apart():
			for stage in range(len(plan)):
				# What another worker wrote in the stage before is read fresh, not from this one's cache.
				run_cache.forget()
				if not _write_stage(doc, stage, streams, context, store, share, is_run, on_written):
					return
	finally:
		frappe.flags.kraal_parallel = False
		log = frappe.logger("kraal_parallel", allow_site=True)
		log.setLevel(logging.INFO)  # Frappe's loggers keep errors only unless a site says otherwise
		log.info(f"{store.log.doc.name} {'run' if is_run else 'helper'}: {share}")


def _write_stage(doc, stage, streams, context, store, share: Share, is_run, on_written) -> bool:
	"""Claim and write the stage's records until none is left; False when a helper gave up waiting."""
	waiting_since = None
	while True:
		given_up = {name for name, n in share.attempts.items() if n >= fanout.PARALLEL_ATTEMPTS}
		# A record that lost a race is tried again after the stage's others, which it may wait for.
		row = queued_records.claim(doc.name, stage, set(share.attempts)) or queued_records.claim(
			doc.name, stage, given_up
		)
		if row:
			_write_one(row, streams, context, store, share)
			on_written()
			waiting_since = None
			continue
		step = fanout.next_step(*queued_records.stage_state(doc.name, stage, given_up), is_run=is_run)
		if step == fanout.DONE:
			return True
		if step == fanout.ALONE:
			_write_alone(doc, stage, streams, context, store, share)
		elif step == fanout.WAIT:
			on_written()
			waiting_since = waiting_since or time.monotonic()
			if not is_run and time.monotonic() - waiting_since > HELPER_PATIENCE_SECONDS:
				return False
			time.sleep(WAIT_SECONDS)
			share.waiting += WAIT_SECONDS


def _write_alone(doc, stage, streams, context, store, share: Share) -> None:
	"""The records every worker gave up on (each lost a race to another worker's write), one by one, as
	a run without helpers writes them: what fails now is a failed record like any other."""
	frappe.flags.kraal_parallel = False
	try:
		for name in queued_records.free_records(doc.name, stage):
			row = queued_records.lock(name)
			if not row:
				continue
			lost = sum(share.attempts.values())
			_write_one(row, streams, context, store, share)
			share.alone += 1
			if sum(share.attempts.values()) > lost:
				# Held up with no worker beside it: the next run writes what is left.
				raise PageLost(f"database busy writing {row.entity} {row.external_id}")
	finally:
		frappe.flags.kraal_parallel = True


def _write_one(row, streams, context, store: SiteStore, share: Share) -> None:
	"""One queued record in one transaction with its row; a lost race puts it back in the queue."""
	stats = RunStats()
	integration, log = store.integration.name, store.log.doc.name
	started = time.monotonic()
	try:
		apply_change(streams[row.entity], queued_records.change(row), store, context, stats)
		failed_records.keep(integration, stats.failures, log, lambda text: redact(text, store.log.secrets))
		fixed = failed_records.settle(integration, stats.written, log)
		queued_records.written(row.name, _outcome(stats, row.entity), bool(fixed), stats.notes)
		frappe.db.commit()
		share.written += 1
	except PageLost:
		frappe.db.rollback()
		run_cache.forget()
		share.attempts[row.name] = share.attempts.get(row.name, 0) + 1
	finally:
		share.writing += time.monotonic() - started


def _outcome(stats: RunStats, entity: str) -> str:
	if stats.failures:
		return queued_records.FAILED
	counts = stats.entity(entity)
	return next((outcome for outcome in OUTCOMES if getattr(counts, outcome)), "skipped")
