"""PDF summary: a Korean per-patient summary through the whole path (queries, report data, charts,
template, WeasyPrint) against a minimal one-line WeasyPrint document in the same process; then the bulk
summaries of many patients in a process pool, 1 process against 2.

    .venv/bin/python -m bench.bench_pdf [--bulk-patients 1000] [--repeats 7]

The study is generated (bench/generate_study.py) in a temporary SQLite file. The single summary is the
patient with the most answers (nine completed visits: the fullest charts). Both documents are rendered
twice to warm up, then alternately `--repeats` times; the medians are compared. For the bulk run each pool
process builds the app and renders one summary before the clock starts (a barrier holds the clock until
every process is warm), then the pool renders every patient's Korean summary, in chunks.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from threading import Barrier

from bench.results import at_least, at_most, median, print_ratios, print_table, save

CHUNK = 10
PANEL_SECTION = re.compile(r'<section class="panel">.*?</section>', re.S)
#: The nurse `tests.gunicorn_harness.prepare_clinic` adds, with the suite's password.
BENCH_NURSE = "loadnurse0"
_worker: dict[str, object] = {}


def make_app(database_url: str):  # type: ignore[no-untyped-def]
    from epro import create_app

    return create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench-pdf"})


def summary_pdf(patient_id: int) -> bytes:
    """The whole path of one Korean summary, as `flask summary` runs it (needs an app context): the
    certified report (document identifier, signature block, the embedded CSV), PDF/A-3b."""
    from sqlmodel import Session

    from epro import db
    from epro.reports import certified_report
    from epro.reports.render import render_pdf

    with Session(db.engine()) as reader:
        report, certification = certified_report(reader, patient_id, "bench", "ko")
    return render_pdf(report, "ko", certification)


def floor_pdf(patient_id: int) -> bytes:
    """The floor under the summary: the same certified summary through the same path without the Figure-5
    panel section (its 15 charts, captions and legends), i.e. only the text and tables the issues require."""
    from sqlmodel import Session

    from epro import db
    from epro.reports import certified_report
    from epro.reports.render import html_to_pdf, render_html

    with Session(db.engine()) as reader:
        report, certification = certified_report(reader, patient_id, "bench", "ko")
    html = PANEL_SECTION.sub("", render_html(report, "ko", certification))
    assert 'class="charts"' not in html, "the panel section was not found"
    return html_to_pdf(html, certification)


def minimal_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>epro</p>").write_pdf()  # type: ignore[no-any-return]


def _timed(make: Callable[[], bytes]) -> tuple[float, bytes]:
    started = time.perf_counter()
    pdf = make()
    return time.perf_counter() - started, pdf


def fullest_patient(database_url: str) -> int:
    from sqlalchemy import create_engine, func
    from sqlmodel import Session, col, select

    from epro.models import Response, Visit

    engine = create_engine(database_url)
    try:
        with Session(engine) as db:
            query = (
                select(Visit.patient_id, func.count(col(Response.id)))
                .join(Response, col(Response.visit_id) == Visit.id)
                .group_by(col(Visit.patient_id))
                .order_by(func.count(col(Response.id)).desc(), col(Visit.patient_id))
                .limit(1)
            )
            return db.exec(query).first()[0]  # type: ignore[index]
    finally:
        engine.dispose()


def single(database_url: str, patient_id: int, repeats: int) -> tuple[float, float, float, int]:
    """(summary median s, floor median s, minimal median s, summary bytes)."""
    app = make_app(database_url)
    with app.app_context():
        for _ in range(2):
            summary_pdf(patient_id), floor_pdf(patient_id), minimal_pdf()
        summaries, floors, minimals = [], [], []
        for _ in range(repeats):
            took, pdf = _timed(lambda: summary_pdf(patient_id))
            summaries.append(took)
            floors.append(_timed(lambda: floor_pdf(patient_id))[0])
            minimals.append(_timed(minimal_pdf)[0])
    app.extensions["epro_engine"].dispose()
    return median(summaries), median(floors), median(minimals), len(pdf)


def worker_rss(
    database_url: str,
    patient_ids: list[int],
    summaries: int,
    log_dir: Path,
    budget: float = math.inf,
    early: int = 10,
) -> tuple[float, float, int]:
    """(peak RSS MB after ``early`` summaries, after the last, how many were rendered: ``summaries``, or
    fewer when ``budget`` seconds ran out first) of a real gunicorn worker (one sync
    worker, the app preloaded as in production): a signed-in nurse downloads Korean summaries one after
    another over HTTP (cycling over the patients), and the worker's VmHWM is read from /proc. The peak is
    printed every 100 summaries as the run goes, so a long run shows its curve."""
    from bench.harness import status_mb
    from tests.conftest import PASSWORD, csrf_of
    from tests.gunicorn_harness import Browser, GunicornServer, app_env

    early_mb = 0.0
    with GunicornServer(app_env(database_url), log_dir, workers=1, timeout=300) as server:
        (worker,) = server.worker_pids()
        nurse = Browser(server.port, timeout=300)
        login = nurse.get("/staff/login")
        nurse.post("/staff/login", username=BENCH_NURSE, password=PASSWORD, csrf_token=csrf_of(login.text))
        token = ""
        deadline = time.monotonic() + budget
        for number in range(1, summaries + 1):
            if number % 100 == 1:  # a fresh form token now and then, as a page view would give
                token = csrf_of(nurse.get("/staff/").text)
            patient = patient_ids[(number - 1) % len(patient_ids)]
            download = nurse.post(f"/reports/patients/{patient}/summary", lang="ko", csrf_token=token)
            assert download.status == 200 and download.text.startswith("%PDF"), download.status
            if number == min(early, summaries):
                early_mb = status_mb("VmHWM", worker)
            if number == early or number % 100 == 0:
                print(
                    f"worker peak RSS after {number} summaries: {status_mb('VmHWM', worker):.1f} MB",
                    flush=True,
                )
            if number > early and time.monotonic() > deadline:
                break
        late_mb = status_mb("VmHWM", worker)
        nurse.close()
        assert server.worker_pids() == [worker], "the worker was replaced during the run"
    return early_mb, late_mb, number


def _warm_worker(database_url: str, patient_id: int, ready: Barrier) -> None:
    app = make_app(database_url)
    context = app.app_context()
    context.push()
    _worker["context"] = context
    summary_pdf(patient_id)
    ready.wait()


def _render_chunk(patient_ids: list[int]) -> int:
    return sum(len(summary_pdf(patient_id)) for patient_id in patient_ids)


def bulk(database_url: str, patient_ids: list[int], processes: int) -> float:
    """Seconds for `processes` warm processes to render every patient's summary."""
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(processes + 1)
    chunks = [patient_ids[i : i + CHUNK] for i in range(0, len(patient_ids), CHUNK)]
    with spawn.Pool(processes, _warm_worker, (database_url, patient_ids[0], ready)) as pool:
        ready.wait(timeout=300)
        started = time.perf_counter()
        written = sum(pool.imap_unordered(_render_chunk, chunks))
        took = time.perf_counter() - started
    assert written > 0
    return took


def run(bulk_patients: int, repeats: int, rss_summaries: int = 0, rss_budget: float = math.inf) -> list:
    from bench.generate_study import generate
    from epro.db import make_engine
    from tests.gunicorn_harness import prepare_clinic

    workdir = Path(tempfile.mkdtemp(prefix="epro-bench-pdf-"))
    try:
        database_url = f"sqlite:///{workdir / 'pdf.sqlite3'}"
        if rss_summaries:  # `flask init-db` and a nurse who signs in to download summaries
            prepare_clinic(database_url, patients=0, nurses=1, prefix="PD")
        engine = make_engine(database_url)
        generate(engine, bulk_patients, clinical=True)
        engine.dispose()
        patient_id = fullest_patient(database_url)
        summary_s, floor_s, minimal_s, size = single(database_url, patient_id, repeats)
        print_table(
            f"PDF summary (Korean, whole path) vs a one-line WeasyPrint document, median of {repeats}",
            [
                ("summary, whole path", f"{summary_s * 1000:.0f} ms", f"{size / 1024:.0f} KiB"),
                ("the same without the panel section (the floor)", f"{floor_s * 1000:.0f} ms", ""),
                ("one-line document", f"{minimal_s * 1000:.0f} ms", ""),
            ],
            ("document", "median time", "size"),
        )
        from sqlalchemy import create_engine
        from sqlmodel import Session

        from epro.reports import enrolled_patient_ids

        reader = create_engine(database_url)
        with Session(reader) as db:
            patient_ids = enrolled_patient_ids(db)
        reader.dispose()
        if rss_summaries:
            early_mb, late_mb, rendered = worker_rss(
                database_url, patient_ids, rss_summaries, workdir / "logs", rss_budget
            )
            print_table(
                f"gunicorn worker peak RSS (VmHWM), {rendered} summaries downloaded one after another",
                [
                    ("after 10", f"{early_mb:.0f} MB"),
                    (f"after {rendered}", f"{late_mb:.0f} MB"),
                ],
                ("summaries", "peak RSS"),
            )
        one = bulk(database_url, patient_ids, 1)
        two = bulk(database_url, patient_ids, 2)
        print_table(
            f"Bulk summaries: {len(patient_ids)} patients in a process pool",
            [
                ("1 process", f"{one:.1f} s", f"{len(patient_ids) / one:.1f}"),
                ("2 processes", f"{two:.1f} s", f"{len(patient_ids) / two:.1f}"),
            ],
            ("pool", "wall time", "summaries/s"),
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratios = [
        at_most("PDF summary time / one-line WeasyPrint document", summary_s / minimal_s, 10),
        at_most(
            "PDF floor: the summary without the panel (text and tables only) / one-line document",
            floor_s / minimal_s,
            10,
        ),
        at_most("PDF summary size", size / 1024, 150, "KB"),
        at_least("bulk summaries speed-up, 2 processes / 1", one / two, 1.8),
    ]
    if rss_summaries:
        ratios.append(
            at_most(
                "PDF worker peak RSS, after --rss-summaries summaries / after 10"
                if rendered == rss_summaries
                else f"PDF worker peak RSS, after {rendered} summaries (--rss-budget reached) / after 10",
                late_mb / early_mb,
                1.1,
            )
        )
    print_ratios("PDF summary: ratios measured side by side", ratios)
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulk-patients", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--rss-summaries",
        type=int,
        default=0,
        help="also: a worker's peak RSS after this many summaries / after 10",
    )
    parser.add_argument(
        "--rss-budget",
        type=float,
        default=math.inf,
        help="seconds: stop the worker-memory run early (and report how many it rendered)",
    )
    args = parser.parse_args()
    save(run(args.bulk_patients, args.repeats, args.rss_summaries, args.rss_budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())
