#!/usr/bin/env bash
# The standalone suite on a fresh machine: a private virtualenv, the test dependencies, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-standalone
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c tests/frappe-v15-pins.txt -e '.[test]'
exec "$venv/bin/python" -m pytest tests/standalone "$@"
