import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kraal_connect.engine.errors import as_transient

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
	max_attempts: int = 5
	base_delay: float = 1.0
	max_delay: float = 60.0
	# A Retry-After beyond this is not waited out inside one run; the next scheduled run tries again.
	max_retry_after: float = 300.0


def backoff_delay(attempt: int, policy: RetryPolicy, rng: Callable[[], float] = random.random) -> float:
	"""Exponential backoff with equal jitter: half the step is fixed, half random."""
	step = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
	return step / 2 + rng() * step / 2


class ApiCaller:
	"""Every vendor call goes through here: retried when transient, and counted for the Sync Log."""

	def __init__(
		self,
		policy: RetryPolicy | None = None,
		sleep: Callable[[float], None] = time.sleep,
		rng: Callable[[], float] = random.random,
	):
		self.policy = policy or RetryPolicy()
		self.sleep = sleep
		self.rng = rng
		self.calls = 0

	def __call__(self, fn: Callable[..., T], *args, **kwargs) -> T:
		attempt = 0
		while True:
			attempt += 1
			self.calls += 1
			try:
				return fn(*args, **kwargs)
			except Exception as exc:
				transient = as_transient(exc)
				if transient is None or attempt >= self.policy.max_attempts:
					raise
				delay = transient.retry_after
				if delay is not None and delay > self.policy.max_retry_after:
					raise
				if delay is None:
					delay = backoff_delay(attempt, self.policy, self.rng)
				self.sleep(delay)
