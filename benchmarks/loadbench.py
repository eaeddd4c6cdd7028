"""Shared parts of the load benchmarks: a throw-away nginx on loopback, harness and bare-Locust runs.

nginx (Debian's /usr/sbin/nginx, one worker process) answers every path with a fixed 200 from its
own temporary config on a free 127.0.0.1 port, so the target is never the bottleneck. Each load runs
in a child process, exactly as `slagate run` would run it, and reports requests per second over its
whole duration.
"""

import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from validator.net import free_port

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtests/locustfile.py"
NGINX = Path("/usr/sbin/nginx")
NGINX_CONFIG = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""
RUN_LOAD = """
import sys
from pathlib import Path
from validator.load.runner import run_load
from validator.spec import load_spec
spec = load_spec(sys.argv[1], environ={})
run_load(spec.load, sys.argv[2]).write(Path(sys.argv[3]))
"""


@dataclass
class Nginx:
    """A running nginx: its URL and its worker process (to measure or stall the target)."""

    url: str
    worker: psutil.Process

    def cpu_seconds(self) -> float:
        """CPU time the nginx worker has used so far (user + system)."""
        times = self.worker.cpu_times()
        return times.user + times.system


def install(binary: Path, package: str) -> None:
    """Install Debian's `package` when `binary` is missing, as run_validation.sh installs Prometheus: as root with
    apt-get; otherwise exit with the one line that says how."""
    if binary.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing Debian's {package} (apt-get) for {binary}", file=sys.stderr, flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=environment,
                       stdout=subprocess.DEVNULL)
    if not binary.exists():
        sys.exit(f"{binary} is missing: apt-get install -y {package} (as root), then run this benchmark again")


@contextlib.contextmanager
def nginx() -> Iterator[Nginx]:
    """Start nginx on a free loopback port with a temporary config; stop it and remove its files on exit."""
    install(NGINX, "nginx-light")
    directory = Path(tempfile.mkdtemp(prefix="slagate-bench-nginx-"))
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(NGINX_CONFIG.format(dir=directory, port=port))
    process = subprocess.Popen(
        [str(NGINX), "-c", str(config), "-p", str(directory), "-e", str(directory / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(url, process)
        worker = psutil.Process(process.pid).children()[0]
        yield Nginx(url, worker)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.time() + 10
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"nginx exited with status {process.returncode}")
        with contextlib.suppress(OSError):
            with opener.open(url, timeout=1) as response:
                if response.status == 200:
                    return
        time.sleep(0.05)
    sys.exit("nginx did not answer within 10 s")


def harness_load(load_lines: str, url: str, work: Path) -> dict:
    """Run slagate's load stage with these [load] lines against `url`; returns load.json."""
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "sla.toml"
    spec.write_text(
        f'[service]\nname = "bench"\n[target]\nurl = "{url}"\n[load]\nlocustfile = {json.dumps(str(LOCUSTFILE))}\n'
        f'{load_lines}\n[prometheus]\nurl = "http://127.0.0.1:1"\nlatency_histogram = "h"\nrequest_counter = "c"\n'
        '[[gates]]\nmetric = "latency_p99"\nmax = "1s"\n'
    )
    subprocess.run([sys.executable, "-c", RUN_LOAD, str(spec), url, str(work)], check=True, timeout=600)
    return json.loads((work / "load.json").read_text())


def harness_rate(load_lines: str, duration: float, url: str, work: Path) -> float:
    """Requests per second the harness completed over the whole run."""
    load = harness_load(f'{load_lines}\nduration = "{duration:g}s"', url, work)
    return sum(endpoint["requests"] for endpoint in load["endpoints"].values()) / duration


def bare_locust_rate(users: int, duration: float, url: str, work: Path, processes: int = 1) -> float:
    """Requests per second plain `locust --headless` completed with the same locustfile and users; `processes` > 1
    runs Locust's own distributed mode (`--processes N`: a master and N forked workers)."""
    work.mkdir(parents=True, exist_ok=True)
    locust = Path(sys.executable).with_name("locust")
    subprocess.run(
        [
            str(locust),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{duration:g}s",
            "-H",
            url,
            "--csv",
            str(work / "bare"),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *(["--processes", str(processes)] if processes > 1 else []),
        ],  # fmt: skip
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with (work / "bare_stats.csv").open() as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return int(total["Request Count"]) / duration
