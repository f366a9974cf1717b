"""QuickBooks Online pytest fixtures (a plugin: pytest_plugins = ["tests.standalone.qbo_fixtures"]):
the emulator serving the dataset, and the real clients pointed at it."""

import pytest

from emulators.qbo import QboEmulator
from kraal_connect.connectors.qbo.client import QboApi, QboOAuth, Tokens
from tests.standalone.qbo_support import FIXTURES, REALM, REDIRECT_URI


@pytest.fixture(scope="module")
def qbo_server():
	"""One server a module: the emulator holds its state in memory, and stopping one takes half a second."""
	emulator = QboEmulator(FIXTURES).start()
	yield emulator
	emulator.stop()


@pytest.fixture
def qbo_emulator(qbo_server):
	"""The emulator as the dataset left it: no writes, tokens, faults or logged requests."""
	qbo_server.clear_faults()
	qbo_server.requests.clear()
	qbo_server.reset_state()
	yield qbo_server


@pytest.fixture
def qbo_oauth(qbo_emulator) -> QboOAuth:
	return QboOAuth("client-id", "client-secret", REDIRECT_URI, "sandbox", base_url=qbo_emulator.url)


@pytest.fixture
def stored_tokens() -> list[Tokens]:
	"""What the site would have stored: every token pair the client handed back."""
	return []


@pytest.fixture
def qbo_api(qbo_emulator, qbo_oauth, stored_tokens) -> QboApi:
	issued = qbo_emulator.issue_tokens(REALM)
	tokens = Tokens(issued["access_token"], issued["refresh_token"])
	return QboApi(qbo_oauth, REALM, tokens, on_tokens=stored_tokens.append, timeout=10)
