#!/usr/bin/env bash
# Runs slagate's whole test suite (unit + integration: real Prometheus, real Locust, real demo target
# on 127.0.0.1). Sets up exactly as run_validation.sh does; extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/run_validation.sh" --prepare-only
cd "$here"
exec "${SLAGATE_VENV:-$here/.venv}/bin/python" -m pytest "$@"
