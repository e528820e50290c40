"""Shared helpers for benchmarks: timing, memory peaks and writing results."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Measure:
    seconds: float = 0.0
    peak_mib: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def measured(trace_memory: bool = True) -> Iterator[Measure]:
    """Wall time and, when asked, the Python heap peak (tracemalloc) of the block.

    Tracing slows allocation-heavy code several times over, so timings that matter are taken
    in a separate run with `trace_memory=False`.
    """
    result = Measure()
    if trace_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - start
        if trace_memory:
            result.peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    """Mean, p50 and p95 in milliseconds."""
    return {"mean_ms": statistics.fmean(values) * 1000, "p50_ms": percentile(values, 0.5) * 1000,
            "p95_ms": percentile(values, 0.95) * 1000}


def write(name: str, figures: dict[str, Any], out: Path | None = None) -> Path:
    """Write figures as JSON (with the machine's description) and return the path."""
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "python": platform.python_version(),
               "machine": platform.machine(), "figures": figures}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def child_figures(module: str, *args: str) -> dict[str, Any]:
    """Run one side of a comparison in its own Python process and read the JSON it prints."""
    out = subprocess.run([sys.executable, "-m", module, *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)
