"""What a vendor's connector provides to the engine on a site."""

from typing import Any

from kraal_connect.engine.records import Stream
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats


class Connector:
	vendor: str = ""
	# The entities it can sync, in the order they must run (masters before transactions).
	entities: tuple[str, ...] = ()
	# Kraal Account Mapping key type -> the DocType its keys map to; a record that misses a key of
	# one of these types leaves an empty mapping row behind for a person to fill in.
	mapping_targets: dict[str, str] = {}

	def __init__(self, integration, caller: ApiCaller | None = None):
		self.integration = integration
		# Every vendor call of a run goes through it: retried when transient, and counted.
		self.caller = caller or ApiCaller()

	def prepare(self, stats: RunStats) -> Any:
		"""Set up what the streams need (accounts, mappings) and return the mappers' context.

		Runs before streams(), which may use what it found.
		"""
		raise NotImplementedError

	def streams(self) -> list[Stream]:
		raise NotImplementedError

	def test_connection(self) -> str:
		"""A sentence for the user saying what the credentials reach."""
		raise NotImplementedError
