"""Real processes for the third-party and auth integration tests: a CA and certificates (openssl), Prometheus
with a web config (TLS, basic auth), nginx as an auth proxy, a Python web app under uvicorn or waitress, and
`slagate run` as a user runs it. Everything listens on 127.0.0.1 in a temporary folder and is stopped after."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from validator.demo.processes import start_process, stop_process, tail, wait_until
from validator.demo.prometheus_server import find_prometheus
from validator.net import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@dataclass
class Running:
    url: str
    log: Path


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> None:
    """`<name>-ca.pem` / `<name>-ca.key`: a self-signed CA."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name} test CA",
            "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", cwd=folder)


def make_server_cert(folder: Path, ca: str) -> None:
    """server.pem / server.key for 127.0.0.1, signed by `<ca>-ca`."""
    (folder / "san.ext").write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
            "-out", "server.csr", cwd=folder)
    openssl("x509", "-req", "-in", "server.csr", "-CA", f"{ca}-ca.pem", "-CAkey", f"{ca}-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=folder)


def make_client_cert(folder: Path, ca: str, name: str) -> None:
    """<name>.pem / <name>.key: a client certificate signed by `<ca>-ca`."""
    (folder / "client.ext").write_text("extendedKeyUsage = clientAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", cwd=folder)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}-ca.pem", "-CAkey", f"{ca}-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "client.ext", "-out", f"{name}.pem", cwd=folder)


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for Prometheus's web config (cost 4: fast, this is a test)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # the C library's bcrypt; Python 3.11/3.12 ship this module

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))


@contextlib.contextmanager
def process(args: list[str], ready_url: str | None, folder: Path, name: str, ready=None,
            timeout: float = 20.0, env: dict[str, str] | None = None) -> Iterator[Path]:
    """A child process logging to folder/<name>.log, stopped (TERM, then KILL) on exit."""
    log = folder / f"{name}.log"
    with log.open("wb") as output:
        if env is not None:
            child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=folder, env=env)
        else:
            child = start_process(args, output)
    try:
        problem = wait_until(ready, timeout, child) if ready else None
        if problem:
            raise RuntimeError(f"{name} {problem}: {tail(log)}")
        yield log
    finally:
        stop_process(child, 5.0, Path(tempfile.mkdtemp()))


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def python_app(folder: Path, example: str, server: str) -> Iterator[str]:
    """examples/<example>/app.py under a real server (`uvicorn` or `waitress`) on a free port; yields its URL."""
    shutil.copy(EXAMPLES / example / "app.py", folder / "app.py")
    port = free_port()
    args = {
        "uvicorn": [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port),
                    "--log-level", "warning"],
        "waitress": [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "16", "app:app"],
    }[server]
    env = {**os.environ, "PYTHONPATH": str(folder)}
    with process(args, None, folder, example, ready=lambda: port_open(port), env=env):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def prometheus(folder: Path, target: str, job: str, web_config: dict | None = None) -> Iterator[int]:
    """A real Prometheus scraping `target` every second, optionally with a web config; yields its port."""
    port = free_port()
    config = {"global": {"scrape_interval": "1s", "scrape_timeout": "800ms"},
              "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target.split("//")[1]]}]}]}
    (folder / "prometheus.yml").write_text(json.dumps(config))
    args = [find_prometheus(), f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"]
    if web_config is not None:
        (folder / "web.yml").write_text(json.dumps(web_config))
        args.append(f"--web.config.file={folder / 'web.yml'}")
    with process(args, None, folder, "prometheus", ready=lambda: port_open(port)):
        yield port


def wait_scraped(url: str, timeout: float = 20.0, **options: object) -> None:
    """Wait until Prometheus at `url` has scraped its target once (`up` == 1); `options` go to requests.get
    (auth, headers, verify). Prometheus 2.x applies new targets on a 5 s tick, so this takes 5-6 s."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, ValueError, KeyError):
            answer = requests.get(f"{url}/api/v1/query", params={"query": "up"}, timeout=2, **options).json()
            if any(item["value"][1] == "1" for item in answer["data"]["result"]):
                time.sleep(1.0)  # one more scrape, so every series has two samples before the load
                return
        time.sleep(0.25)
    raise RuntimeError(f"Prometheus at {url} did not scrape its target within {timeout:g} s")


def slagate_run(folder: Path, spec: Path, env: dict[str, str]) -> tuple[int, str, Path | None]:
    """`slagate run` as a user runs it; (exit code, stdout + stderr, the run folder or None)."""
    reports = folder / "reports"
    completed = subprocess.run(
        [sys.executable, "-m", "validator.cli", "run", "--spec", str(spec), "--reports-dir", str(reports)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120, check=False,
    )
    runs = sorted(p for p in reports.iterdir() if p.is_dir()) if reports.exists() else []
    return completed.returncode, completed.stdout + completed.stderr, (runs[-1] if runs else None)


def gates_of(run_dir: Path) -> dict[str, dict]:
    return {g["name"]: g for g in json.loads((run_dir / "verdict.json").read_text())["gates"]}
