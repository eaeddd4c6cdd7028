#!/usr/bin/env bash
# slagate's pre-canary entry point.
#   ./run_validation.sh --demo                 built-in demo: demo target + real Prometheus + real load
#   ./run_validation.sh --spec sla.toml        your service (ENDPOINT / PROMETHEUS_URL override the spec)
# Prepares the environment (virtual environment, the project, a Prometheus binary for --demo), then
# runs `slagate run` with every argument and passes its exit code through unchanged:
# 0 GO, 3 CAUTION, 1 NO-GO, 2 usage/spec error, 4 could not evaluate, 5 incomplete (interrupted).
# --prepare-only sets up and exits (used by run_tests.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SLAGATE_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

say() { printf 'run_validation: %s\n' "$*" >&2; }

prepare_venv() {
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the virtual environment $venv"
    "$python" -m venv "$venv"
  fi
  local stamp="$venv/.slagate-installed"
  if [ ! -f "$stamp" ] || [ "$here/pyproject.toml" -nt "$stamp" ]; then
    say "installing slagate and its dependencies into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$here[test]"
    touch "$stamp"
  fi
}

prepare_prometheus() {
  if [ -n "${PROMETHEUS_BIN:-}" ]; then
    [ -x "$PROMETHEUS_BIN" ] && return 0
    say "PROMETHEUS_BIN=$PROMETHEUS_BIN is not an executable file"
    exit 4
  fi
  command -v prometheus >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's prometheus package (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
    return 0
  fi
  say "no Prometheus binary: install Debian's 'prometheus' package or set PROMETHEUS_BIN=/path/to/prometheus"
  exit 4
}

prepare_nginx() {
  # Only for the tests' auth proxy, only when cheap: already there, or root with apt-get; never fatal.
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's nginx-light package (apt-get) for the auth-proxy tests"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1; } \
      || say "nginx-light could not be installed; the auth-proxy tests will skip"
  fi
  return 0
}

prepare_go() {
  # Only for the native-histogram tests' Go service, only when cheap: already there, or root with apt-get.
  command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/github.com/prometheus/client_golang ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's golang-go and client_golang packages (apt-get) for the native-histogram tests"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-github-prometheus-client-golang-dev \
      >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go \
           golang-github-prometheus-client-golang-dev >/dev/null 2>&1; } \
      || say "golang-go could not be installed; the native-histogram tests will skip"
  fi
  return 0
}

needs_prometheus=0
prepare_only=0
args=()
for arg in "$@"; do
  case "$arg" in
    --demo) needs_prometheus=1; args+=("$arg") ;;
    --prepare-only) prepare_only=1; needs_prometheus=1 ;;
    *) args+=("$arg") ;;
  esac
done

prepare_venv
if [ "$needs_prometheus" = 1 ]; then
  prepare_prometheus
fi
if [ "$prepare_only" = 1 ]; then
  prepare_nginx
  prepare_go
  exit 0
fi

cd "$here"
set +e
"$venv/bin/slagate" run "${args[@]+"${args[@]}"}"
status=$?
set -e
exit "$status"
