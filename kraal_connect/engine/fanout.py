"""How a long run's records are shared out among background workers, free of frappe.

A run reads its pages into Kraal Queued Records and several workers write them at once. Stages keep the
order documents need: an entity's records start only when every entity it is written after is done (an
invoice before the payments that apply to it, an order before the payout that pays it out). Records of
one stage do not depend on each other and are written in any order, by any worker.
"""

from collections.abc import Mapping, Sequence

# Queued records of a run, at most, for each worker it asks to help: fewer are written faster by the
# run alone than by a worker that first has to prepare its own mapping context.
RECORDS_PER_HELPER = 25
# Times a worker writes a record that lost a race to another worker (both created the same customer,
# a deadlock) before it leaves the record to the run, which writes what is left one record at a time.
PARALLEL_ATTEMPTS = 3

CLAIM, WAIT, DONE, ALONE = "claim", "wait", "done", "alone"


def stages(entities: Sequence[str], written_after: Mapping[str, Sequence[str]]) -> list[tuple[str, ...]]:
	"""The entities grouped into stages, in the connector's order: each entity in the first stage after
	every entity it is written after. An entity the run does not sync passes its own order on (payments
	after credit memos after invoices: without credit memos, payments still come after invoices)."""
	present = set(entities)

	def before(entity: str, seen: frozenset = frozenset()) -> set[str]:
		found = set()
		for other in written_after.get(entity, ()):
			if other in present:
				found.add(other)
			elif other not in seen:
				found |= before(other, seen | {entity})
		return found

	stage_of: dict[str, int] = {}
	for entity in entities:
		stage_of[entity] = max((stage_of[e] for e in before(entity) if e in stage_of), default=-1) + 1
	grouped: dict[int, list[str]] = {}
	for entity in entities:
		grouped.setdefault(stage_of[entity], []).append(entity)
	return [tuple(grouped[n]) for n in sorted(grouped)]


def helpers_for(queued: int, workers: int) -> int:
	"""How many other workers a run with this many queued records asks to help it."""
	return max(0, min(workers - 1, queued // RECORDS_PER_HELPER))


def next_step(queued: int, free: int, free_given_up: int, is_run: bool) -> str:
	"""What a worker does next in a stage.

	queued: the stage's records not yet written (some may be in another worker's hands); free: those
	no worker holds; free_given_up: of the free ones, those this worker gave up on (PARALLEL_ATTEMPTS).
	The run writes the records every worker gave up on alone once no other worker holds any; a helper
	waits for it.
	"""
	if queued == 0:
		return DONE
	if free > free_given_up:
		return CLAIM
	if is_run and free and free == queued:
		return ALONE
	return WAIT
