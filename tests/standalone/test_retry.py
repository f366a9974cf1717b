import pytest
import requests

from kraal_connect.engine.errors import AuthenticationError, TransientError, retry_after_seconds
from kraal_connect.engine.retry import ApiCaller, RetryPolicy, backoff_delay


def flaky(failures):
	"""A callable that raises the given exceptions in turn, then answers 'ok'."""
	queue = list(failures)

	def call():
		if queue:
			raise queue.pop(0)
		return "ok"

	return call


def test_backoff_doubles_within_jitter_and_caps():
	policy = RetryPolicy(base_delay=1, max_delay=8)
	assert [backoff_delay(n, policy, rng=lambda: 0.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1, 2, 4, 4]
	assert [backoff_delay(n, policy, rng=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 8]


def test_retry_after_is_honoured_and_backoff_used_without_it():
	slept = []
	caller = ApiCaller(RetryPolicy(base_delay=2), sleep=slept.append, rng=lambda: 0.5)
	call = flaky([TransientError("429", retry_after=7), TransientError("503"), requests.Timeout()])
	assert caller(call) == "ok"
	assert slept == [7, 3.0, 6.0]
	assert caller.calls == 4


def test_gives_up_after_max_attempts_with_the_last_error():
	slept = []
	caller = ApiCaller(RetryPolicy(max_attempts=3), sleep=slept.append)
	with pytest.raises(TransientError, match="third"):
		caller(flaky([TransientError("first"), TransientError("second"), TransientError("third")]))
	assert len(slept) == 2
	assert caller.calls == 3


def test_auth_and_unknown_errors_are_not_retried():
	caller = ApiCaller(sleep=lambda s: pytest.fail("must not sleep"))
	with pytest.raises(AuthenticationError):
		caller(flaky([AuthenticationError("ITEM_LOGIN_REQUIRED")]))
	with pytest.raises(KeyError):
		caller(flaky([KeyError("bug")]))
	assert caller.calls == 2


def test_a_retry_after_beyond_the_limit_is_left_to_the_next_run():
	caller = ApiCaller(RetryPolicy(max_retry_after=60), sleep=lambda s: pytest.fail("must not sleep"))
	with pytest.raises(TransientError):
		caller(flaky([TransientError("429", retry_after=3600)]))


@pytest.mark.parametrize(("header", "seconds"), [("12", 12.0), ("0", 0.0), (None, None), ("soon", None)])
def test_retry_after_header(header, seconds):
	assert retry_after_seconds(header) == seconds
