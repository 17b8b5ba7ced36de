"""Tablet pages: epro's question page and answer POST against a bare Flask-WTF form page and its POST,
both under gunicorn with the same worker settings, loaded by wrk from 127.0.0.1 at 16 connections.

    .venv/bin/python -m bench.bench_tablet [--seconds 8] [--rounds 2]

Both servers run `gunicorn --worker-class gthread --workers 2 --threads 4` (two cores here; gthread keeps
connections alive as a browser does, so neither side pays a TCP handshake per request). epro serves a
SQLite study of 1,000 generated patients plus one patient whose baseline visit is open on a tablet; wrk
sends that tablet's patient-mode cookie with every request, and each answer POST carries the CSRF token and
the session token and saves a draft answer (then redirects), so it repeats. The runs alternate epro and
bare page by page, `--rounds` times, and requests/s add up over the rounds, so a noisy neighbour on the
shared machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.results import at_least, at_most, print_ratios, print_table, save

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA_POST = Path(__file__).resolve().parent / "wrk_post.lua"
CONNECTIONS = 16
WORKERS, THREADS = 2, 4
STUDY_PATIENTS = 1_000


@dataclass
class Load:
    """What wrk measured for one URL, summed over the rounds."""

    requests: int = 0
    seconds: float = 0.0
    p99_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: float, cookie: str, body: str | None = None) -> tuple[int, float, float]:
    """Run wrk once: (requests, seconds, p99 ms). Any non-2xx/3xx answer aborts."""
    command = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{round(seconds)}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
    ]
    env = dict(os.environ, WRK_COOKIE=cookie, WRK_BODY=body or "")
    if body is not None:
        command += ["-s", str(LUA_POST)]
    out = subprocess.run([*command, url], capture_output=True, text=True, env=env, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors on {url}:\n{out}\n{answer_of(url, cookie, body)}")
    requests, took = re.search(r"(\d+) requests in ([\d.]+\w+),", out).groups()  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    return int(requests), _ms(took) / 1000, _ms(p99)


def answer_of(url: str, cookie: str, body: str | None) -> str:
    """Status line and headers of one request, as wrk sends it (to explain a failed run)."""
    command = ["curl", "-s", "-i", "-H", f"Cookie: {cookie}", *(["--data", body] if body else []), url]
    return subprocess.run(command, capture_output=True, text=True).stdout[-1500:]


class Server:
    """gunicorn serving `app_spec` on a free port with the benchmark's worker settings."""

    def __init__(self, app_spec: str, env: dict[str, str], log: Path, probe_path: str) -> None:
        from tests.gunicorn_harness import free_port

        self.port = free_port()
        self.probe_path = probe_path
        command = [
            str(BIN / "gunicorn"),
            *("--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS), "--threads", str(THREADS)),
            *("--worker-class", "gthread", "--preload", "--error-logfile", str(log), app_spec),
        ]
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self) -> None:
        from tests.gunicorn_harness import Browser, ConnectionCut

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            probe = Browser(self.port, timeout=5)
            try:
                if probe.get(self.probe_path).status < 500:
                    return
            except ConnectionCut:
                time.sleep(0.1)
            finally:
                probe.close()
        raise TimeoutError(f"gunicorn on {self.port} did not come up")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def open_tablet(port: int, nurse: str, password: str, visit_id: int) -> tuple[str, str]:
    """A nurse hands the tablet over and the patient picks Korean: (patient-mode cookie, answer POST body)."""
    from tests.conftest import csrf_of, token_of
    from tests.gunicorn_harness import Browser

    b = Browser(port)
    login = b.get("/staff/login")
    b.post("/staff/login", username=nurse, password=password, csrf_token=csrf_of(login.text))
    home = b.get("/staff/")
    started = b.post(f"/staff/visits/{visit_id}/tablet", csrf_token=csrf_of(home.text))
    assert started.status == 302 and "/tablet/" in started.location, started
    first = b.get("/tablet/language")
    form = {"csrf_token": csrf_of(first.text), "token": token_of(first.text)}
    assert b.post("/tablet/language", language="ko", **form).status == 302
    page = b.get("/tablet/question/1")
    assert page.status == 200 and "item-text" in page.text, page.status
    value = re.search(r'name="value" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    b.close()
    return _cookie_header(b.cookies), urlencode({**form, "value": value, "then": ""})


def bare_form(port: int) -> tuple[str, str]:
    from tests.conftest import csrf_of
    from tests.gunicorn_harness import Browser

    b = Browser(port)
    page = b.get("/question")
    body = urlencode({"csrf_token": csrf_of(page.text), "token": "bench", "value": "1"})
    posted = b.post("/question", csrf_token=csrf_of(page.text), token="bench", value="1")
    assert posted.status == 302, posted.status
    b.close()
    return _cookie_header(b.cookies), body


def seed(workdir: Path) -> tuple[str, object]:
    from bench.generate_study import generate
    from epro.db import make_engine
    from tests.gunicorn_harness import prepare_clinic

    url = f"sqlite:///{workdir / 'tablet.sqlite3'}"
    clinic = prepare_clinic(url, patients=1, nurses=1, prefix="TB")
    engine = make_engine(url)
    try:
        generate(engine, STUDY_PATIENTS)
    finally:
        engine.dispose()
    return url, clinic


def run(seconds: float, rounds: int) -> list:
    from tests.gunicorn_harness import app_env

    workdir = Path(tempfile.mkdtemp(prefix="epro-bench-tablet-"))
    servers: list[Server] = []
    try:
        url, clinic = seed(workdir)
        env = app_env(url, KIOSK_IDLE_SECONDS="86400")
        epro = Server("epro:create_app()", env, workdir / "epro.log", "/staff/login")
        bare = Server("bench.bare_app:create_app()", dict(os.environ), workdir / "bare.log", "/question")
        servers += [epro, bare]
        epro.wait_ready()
        bare.wait_ready()
        (visit_id,) = clinic.visits  # type: ignore[attr-defined]
        epro_cookie, epro_body = open_tablet(epro.port, clinic.nurses[0], clinic.password, visit_id)  # type: ignore[attr-defined]
        bare_cookie, bare_body = bare_form(bare.port)
        targets = {
            "epro GET /tablet/question/1": (epro.url("/tablet/question/1"), epro_cookie, None),
            "bare GET /question": (bare.url("/question"), bare_cookie, None),
            "epro POST /tablet/question/1": (epro.url("/tablet/question/1"), epro_cookie, epro_body),
            "bare POST /question": (bare.url("/question"), bare_cookie, bare_body),
        }
        for target_url, cookie, body in targets.values():  # warm every worker and cache
            wrk(target_url, 2, cookie, body)
        loads = {name: Load() for name in targets}
        for _round in range(rounds):
            for name, (target_url, cookie, body) in targets.items():
                requests, took, p99 = wrk(target_url, seconds, cookie, body)
                loads[name].requests += requests
                loads[name].seconds += took
                loads[name].p99_ms.append(p99)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(
        f"Tablet pages: gunicorn gthread {WORKERS} workers x {THREADS} threads, wrk {CONNECTIONS} connections, "
        f"{rounds} rounds x {seconds:g} s",
        (
            (name, f"{load.per_second:,.0f}", " / ".join(f"{p:.1f}" for p in load.p99_ms))
            for name, load in loads.items()
        ),
        ("page", "requests/s", "p99 ms per round"),
    )
    ratios = [
        at_least(
            "tablet question page / bare form page (req/s)",
            loads["epro GET /tablet/question/1"].per_second / loads["bare GET /question"].per_second,
            0.8,
        ),
        at_least(
            "tablet answer POST / bare form POST (req/s)",
            loads["epro POST /tablet/question/1"].per_second / loads["bare POST /question"].per_second,
            0.5,
        ),
        at_most(
            "tablet question page p99 at 16 connections",
            max(loads["epro GET /tablet/question/1"].p99_ms),
            25,
            "ms",
        ),
        at_most(
            "tablet answer POST p99 at 16 connections",
            max(loads["epro POST /tablet/question/1"].p99_ms),
            25,
            "ms",
        ),
    ]
    print_ratios("Tablet pages: ratios measured side by side", ratios)
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    save(run(args.seconds, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
