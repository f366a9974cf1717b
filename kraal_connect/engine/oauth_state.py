"""The state of a vendor's authorization flow (QuickBooks' OAuth, Shopify's, Amazon's consent): who
started it, for which integration. Kept in Redis under the random state for STATE_SECONDS and taken
out by the callback whatever happens next, so a state works once, for a while, for the person who
asked and the integration they asked for. Pure: engine/oauth_flow.py keeps and takes it."""

import json
from dataclasses import asdict, dataclass

# Long enough to sign in at the vendor and choose a company or store; a link lying around longer is
# refused.
STATE_SECONDS = 10 * 60

# Why a callback's state connects nothing (the vendor's callback words each for the user).
UNKNOWN = "unknown"  # never issued, already used, or expired: Redis no longer has it
OTHER_USER = "other user"


class StateRefused(Exception):
	def __init__(self, reason: str):
		super().__init__(reason)
		self.reason = reason


@dataclass(frozen=True)
class Flow:
	user: str
	integration: str

	def dumps(self) -> str:
		return json.dumps(asdict(self))


def flow_for(stored: bytes | str | None, user: str) -> Flow:
	"""The flow a state taken from the store was issued for, if the user now at the callback is the
	one who started it; StateRefused otherwise."""
	if not stored:
		raise StateRefused(UNKNOWN)
	flow = Flow(**json.loads(stored))
	if flow.user != user:
		raise StateRefused(OTHER_USER)
	return flow
