"""What a vendor's connector provides to the engine on a site."""

from typing import Any

from kraal_connect.engine.records import Stream
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats


class Connector:
	vendor: str = ""
	# The entities it can sync, in the order they must run (masters before transactions).
	entities: tuple[str, ...] = ()

	def __init__(self, integration, caller: ApiCaller | None = None):
		self.integration = integration
		# Every vendor call of a run goes through it: retried when transient, and counted.
		self.caller = caller or ApiCaller()

	def prepare(self, stats: RunStats) -> Any:
		"""Set up what the streams need (accounts, mappings) and return the mappers' context."""
		raise NotImplementedError

	def streams(self) -> list[Stream]:
		raise NotImplementedError

	def test_connection(self) -> str:
		"""A sentence for the user saying what the credentials reach."""
		raise NotImplementedError
