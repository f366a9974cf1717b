"""The Plaid emulator for both suites, on a private copy of the dataset that a test may change."""

import shutil
from pathlib import Path

import pytest

from emulators.plaid import PlaidEmulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def plaid_data(tmp_path) -> Path:
	return Path(shutil.copytree(FIXTURES / "plaid", tmp_path / "plaid"))


@pytest.fixture
def plaid_emulator(plaid_data):
	emulator = PlaidEmulator(plaid_data).start()
	yield emulator
	emulator.stop()
