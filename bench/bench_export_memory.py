"""Export memory: the same exports of a small and a large generated study, each in its own process, side by side.

    .venv/bin/python -m bench.bench_export_memory [--small 100] [--medium 2000] [--large 10000]

Each export runs `flask export` (the real command: audit record, streamed query, CSV file) inside a fresh
child process, which reports its rows, the seconds spent in the export itself, its peak RSS and how far its
RSS rose during the export (the peak is reset just before it, so the app's start-up peak cannot hide the
export's own). The peak is the child's own VmHWM (/proc/self/status), read before the reset and at the end:
not os.wait4's ru_maxrss, which on Linux also counts the parent's RSS at the fork (the kernel carries the
forked image's high-water mark across exec), and the parent holds the study it generated, so ru_maxrss grew
with the study while the app did not (a child of a parent holding 300 MB reports 311 MB for `python -c
pass`). A "baseline" child only builds the app. Memory is flat when the large study's peak RSS is no more than 10 % above the small one's for 100 times
the rows, the export itself grows the process by at most 10 MB, and that growth is no larger (within 25 %)
for the large study than for the medium one with 5 times fewer rows: a fixed cost (database page caches, one
batch of rows, CSV buffers), not one that follows the data. The absolute target is a peak under 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.results import at_most, print_ratios, print_table, save

FORMATS = ("long", "sdtm-qs", "audit")
PEAK_RSS_TARGET_MB = 150
FLAT_RATIO_TARGET = 1.10
#: What streaming one export may add to the process's RSS, at any size.
GROWTH_TARGET_MB = 10
GROWTH_RATIO_TARGET = 1.25


@dataclass(frozen=True)
class Run:
    export: str
    patients: int
    rows: int
    seconds: float
    #: Peak RSS of the whole child process (os.wait4), app start-up included.
    peak_rss_mb: float
    #: Peak RSS during the export itself, above the RSS just before it (the peak is reset first).
    growth_mb: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def child(export: str, output: str) -> None:
    """In the child: build the app, reset the peak RSS, run the export command, report as JSON."""
    from bench.harness import status_mb
    from epro import create_app

    app = create_app()
    startup_peak = status_mb("VmHWM")
    # Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so the export's own peak shows apart from
    # the app's start-up peak.
    Path("/proc/self/clear_refs").write_text("5")
    before = status_mb("VmRSS")
    started = time.perf_counter()
    rows = 0
    if export != "baseline":
        result = app.test_cli_runner().invoke(args=["export", "--format", export, "-o", output])
        if result.exit_code != 0:
            raise SystemExit(result.output)
        rows = int(result.output.split()[1])  # "Wrote N rows (...) to FILE."
    seconds = time.perf_counter() - started
    export_peak = status_mb("VmHWM")
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "growth_mb": export_peak - before,
                "peak_mb": max(startup_peak, export_peak),
            }
        )
    )


def measure(export: str, patients: int, database_url: str, workdir: Path) -> Run:
    env = {**os.environ, "EPRO_DATABASE_URL": database_url, "EPRO_SECRET_KEY": "bench-export-memory"}
    output = workdir / f"{export}-{patients}.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_export_memory", "--child", export, str(output)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    report = process.stdout.read()
    if process.wait() != 0:
        raise SystemExit(f"{export} export of {patients} patients failed")
    figures = json.loads(report.strip().splitlines()[-1])
    return Run(
        export, patients, figures["rows"], figures["seconds"], figures["peak_mb"], figures["growth_mb"]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--medium", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--child", nargs=2, metavar=("EXPORT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    from bench.generate_study import generate
    from epro.db import make_engine

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="epro-bench-export-") as tmp:
        workdir = Path(tmp)
        for patients in (args.small, args.medium, args.large):
            url = f"sqlite:///{workdir / f'study-{patients}.sqlite3'}"
            engine = make_engine(url)
            study = generate(engine, patients)
            engine.dispose()
            print(f"Generated {patients:,} patients ({study.responses:,} answers) in {study.seconds:.1f} s")
            runs.append(measure("baseline", patients, url, workdir))
            runs.extend(measure(export, patients, url, workdir) for export in FORMATS)

    print_table(
        "Exports, each in a fresh process (peak RSS of the child; baseline = the app alone)",
        (
            (
                r.export,
                f"{r.patients:,}",
                f"{r.rows:,}",
                f"{r.seconds:.1f}",
                f"{r.rows_per_second:,.0f}" if r.rows else "-",
                f"{r.peak_rss_mb:.1f}",
                f"{r.growth_mb:.1f}",
            )
            for r in runs
        ),
        (
            "export",
            "patients",
            "rows",
            "seconds",
            "rows/s",
            "process peak RSS MB",
            "export's own peak growth MB",
        ),
    )
    by_key = {(r.export, r.patients): r for r in runs}
    ratios = []
    for export in FORMATS:
        small, medium, large = (by_key[(export, size)] for size in (args.small, args.medium, args.large))
        ratios.append(
            at_most(
                f"export {export}: peak RSS {args.large:,} / {args.small:,} patients",
                large.peak_rss_mb / small.peak_rss_mb,
                FLAT_RATIO_TARGET,
            )
        )
        ratios.append(
            at_most(
                f"export {export}: RSS growth during the export at {args.large:,} patients",
                large.growth_mb,
                GROWTH_TARGET_MB,
                "MB",
            )
        )
        ratios.append(
            at_most(
                f"export {export}: RSS growth {args.large:,} / {args.medium:,} patients",
                large.growth_mb / medium.growth_mb,
                GROWTH_RATIO_TARGET,
            )
        )
        ratios.append(
            at_most(
                f"export {export}: peak RSS at {args.large:,} patients",
                large.peak_rss_mb,
                PEAK_RSS_TARGET_MB,
                "MB",
            )
        )
    print_ratios("Export memory against its targets", ratios)
    save(ratios)
    return 0  # a missed target is a row of results.json, not a failed `make bench`


if __name__ == "__main__":
    sys.exit(main())
