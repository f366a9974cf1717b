from tests.plaid_fixtures import plaid_data, plaid_emulator  # noqa: F401  (fixtures)
