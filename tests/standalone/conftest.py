import shutil
from pathlib import Path

import pytest

from emulators.plaid import PlaidEmulator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def plaid_data(tmp_path) -> Path:
	"""A private copy of the Plaid dataset that a test may change."""
	return Path(shutil.copytree(FIXTURES / "plaid", tmp_path / "plaid"))


@pytest.fixture
def plaid_emulator(plaid_data):
	emulator = PlaidEmulator(plaid_data).start()
	yield emulator
	emulator.stop()
