from dataclasses import dataclass, field, replace

from kraal_connect.engine.records import Change

# When a record writes several documents, the record's outcome is the strongest of theirs.
OUTCOMES = ("created", "updated", "cancelled", "skipped")


# A Sync Log names this many kept-aside values; the rest are counted.
NOTES_SHOWN = 20


def combined_outcome(outcomes: list[str]) -> str:
	return min(outcomes, key=OUTCOMES.index, default="skipped")


@dataclass
class EntityCounts:
	fetched: int = 0
	created: int = 0
	updated: int = 0
	cancelled: int = 0
	skipped: int = 0
	failed: int = 0


@dataclass(frozen=True)
class Failure:
	entity: str
	external_id: str
	message: str
	kind: str = "Error"  # or "Conflict": both sides changed, or the document may no longer change
	# (key type, key) of each Kraal Account Mapping the record needed and did not find
	mappings: tuple[tuple[str, str], ...] = ()
	# The record as received: kept with its open failure and tried again by the next runs.
	change: Change | None = field(default=None, compare=False)

	@property
	def mapping(self) -> tuple[str, str] | None:
		"""The first mapping the record waits for."""
		return self.mappings[0] if self.mappings else None


@dataclass
class RunStats:
	counts: dict[str, EntityCounts] = field(default_factory=dict)
	failures: list[Failure] = field(default_factory=list)
	api_calls: int = 0
	aborted_entities: list[str] = field(default_factory=list)
	# (entity, external id) of each record written without error: their open failures are fixed.
	written: list[tuple[str, str]] = field(default_factory=list)
	# (entity, external id, failed record, failing since) of open failures this run fixed.
	fixed: list[tuple[str, str, str, object]] = field(default_factory=list)
	# (entity, external id, version) of each record this run has handled, in order: a record read
	# again at the same version in the same run (retried, then met again by its stream) is skipped.
	handled: dict[tuple[str, str, str], None] = field(default_factory=dict)
	# What the run kept aside from records it wrote (a value ERPNext refuses in its field).
	notes: list[str] = field(default_factory=list)
	# What the run has to say besides its counts (why it found nothing), first in its summary.
	remarks: list[str] = field(default_factory=list)

	def entity(self, name: str) -> EntityCounts:
		return self.counts.setdefault(name, EntityCounts())

	def record(self, entity: str, outcome: str, external_id: str | None = None) -> None:
		counts = self.entity(entity)
		setattr(counts, outcome, getattr(counts, outcome) + 1)
		if external_id:
			self.written.append((entity, external_id))

	def fail(
		self,
		entity: str,
		external_id: str,
		message: str,
		kind: str = "Error",
		mappings: tuple[tuple[str, str], ...] = (),
		change: Change | None = None,
	) -> None:
		self.entity(entity).failed += 1
		self.failures.append(Failure(entity, external_id, message, kind, tuple(mappings), change))

	def snapshot(self) -> tuple:
		return (
			{k: replace(v) for k, v in self.counts.items()},
			len(self.failures),
			len(self.written),
			len(self.fixed),
			len(self.handled),
			len(self.notes),
		)

	def restore(self, snapshot: tuple) -> None:
		"""Back to a snapshot: the counts of a page that is written again are counted once."""
		counts, failures, written, fixed, handled, notes = snapshot
		self.counts = counts
		del self.failures[failures:]
		del self.written[written:]
		del self.fixed[fixed:]
		del self.notes[notes:]
		for key in list(self.handled)[handled:]:
			del self.handled[key]

	@property
	def status(self) -> str:
		if self.aborted_entities and len(self.aborted_entities) >= max(len(self.counts), 1):
			return "Failed"
		if self.failures or self.aborted_entities:
			return "Partial"
		return "Success"

	def summary(self) -> str:
		parts = list(self.remarks)
		for name, c in self.counts.items():
			parts.append(
				f"{name}: {c.fetched} fetched, {c.created} created, {c.updated} updated, "
				f"{c.cancelled} cancelled, {c.skipped} skipped, {c.failed} failed"
			)
		if self.fixed:
			parts.append(f"{len(self.fixed)} record(s) that had failed before booked")
		if self.notes:
			more = len(self.notes) - NOTES_SHOWN
			shown = "; ".join(self.notes[:NOTES_SHOWN]) + (f"; and {more} more" if more > 0 else "")
			parts.append(f"Kept aside: {shown}")
		return "; ".join(parts) or "nothing to sync"
