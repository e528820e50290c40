"""Citizen help desk benchmark: our matcher against a title-only fuzzy baseline on the eval set.

Run `python -m benchmarks.helpdesk_bench [--out FILE]`; `--misses tune` lists wrong answers and
`--calibrate` finds the confidence threshold. Rows whose position (0-based) leaves remainder 2
when divided by 3 are the held-out third: tune on the rest only, report both.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.helpdesk import (
    KnowledgeBase,
    Matcher,
    MatchResult,
    asks_for_person,
    baseline_match,
    load_knowledge,
)
from bot.helpdesk.matcher import CONFIDENCE_THRESHOLD
from bot.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent
HUMAN = "HUMAN"


@dataclass(frozen=True)
class Row:
    """One eval question, its expected entry id (or HUMAN) and whether it is held out."""

    question: str
    expected: str
    holdout: bool


@dataclass(frozen=True)
class Outcome:
    """What a system did with one row, and how long it took."""

    row: Row
    result: MatchResult
    seconds: float


def read_eval(path: Path) -> list[Row]:
    """Rows of the tab-separated eval file (header `question<TAB>expected`)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Row(r["question"], r["expected"], i % 3 == 2) for i, r in enumerate(reader)]


def run(system: Callable[[str], MatchResult], rows: list[Row]) -> list[Outcome]:
    """Ask every question once, timing each call."""
    system(rows[0].question)  # warm-up, so the first timing is not an outlier
    outcomes = []
    for row in rows:
        start = time.perf_counter()
        result = system(row.question)
        outcomes.append(Outcome(row, result, time.perf_counter() - start))
    return outcomes


def figures(outcomes: list[Outcome]) -> dict[str, float | int]:
    """Accuracy, hand-off and timing figures for one system."""
    answerable = [o for o in outcomes if o.row.expected != HUMAN]
    human = [o for o in outcomes if o.row.expected == HUMAN]
    times = sorted(o.seconds * 1000 for o in outcomes)
    return {
        "answerable": len(answerable),
        "human_questions": len(human),
        "top1_accuracy": _share(answerable, lambda o: o.result.top == o.row.expected),
        "answered_correctly": _share(answerable, lambda o: o.result.answer_id == o.row.expected),
        "human_sent_to_human": _share(human, lambda o: o.result.to_human),
        "answerable_sent_to_human": _share(answerable, lambda o: o.result.to_human),
        "mean_ms": round(statistics.fmean(times), 3),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3),
    }


def _share(outcomes: list[Outcome], good: Callable[[Outcome], bool]) -> float:
    """Share of outcomes that are good, rounded for reports."""
    return round(sum(map(good, outcomes)) / len(outcomes), 4) if outcomes else 0.0


def misses(outcomes: list[Outcome], include_holdout: bool) -> list[str]:
    """Lines describing wrong answers, for tuning (held-out rows hidden unless asked)."""
    lines = []
    for o in outcomes:
        if o.row.holdout and not include_holdout:
            continue
        expected_human = o.row.expected == HUMAN
        wrong = o.result.to_human != expected_human or (not expected_human and o.result.top != o.row.expected)
        if wrong:
            top = ", ".join(f"{c.entry_id}:{c.score:.2f}" for c in o.result.candidates[:3])
            flags = f"conf={o.result.confident} human={o.result.wants_human}"
            lines.append(f"{o.row.expected:22} | {o.row.question} | {top} | {flags}")
    return lines


def benchmark(kb: KnowledgeBase, rows: list[Row]) -> tuple[dict[str, object], list[Outcome]]:
    """Run ours, the baseline and ours on diacritic-free text; figures plus our outcomes."""
    start = time.perf_counter()
    matcher = Matcher(kb)
    build_ms = (time.perf_counter() - start) * 1000
    ours = run(matcher.match, rows)
    base = run(lambda q: baseline_match(kb, q), rows)
    plain = run(lambda q: matcher.match(fold(q)), rows)
    report: dict[str, object] = {
        "entries": len(kb),
        "questions": len(rows),
        "confidence_threshold": CONFIDENCE_THRESHOLD,
        "matcher_build_ms": round(build_ms, 1),
        "matcher": figures(ours),
        "baseline": figures(base),
        "matcher_without_diacritics": figures(plain),
        "matcher_tune_split": figures([o for o in ours if not o.row.holdout]),
        "matcher_holdout_split": figures([o for o in ours if o.row.holdout]),
    }
    return report, ours


def calibrate(kb: KnowledgeBase, rows: list[Row]) -> tuple[float, float, float]:
    """The range of confidence thresholds with the best balanced accuracy on the tuning split."""
    matcher = Matcher(kb, threshold=0.0)
    handoff = kb.handoff_ids()
    tune = [
        (row, matcher.match(row.question), asks_for_person(row.question)) for row in rows if not row.holdout
    ]
    scores: dict[float, float] = {}
    for step in range(10, 71):
        threshold = step / 100
        human, answerable = [], []
        for row, result, asks in tune:
            confident = bool(result.candidates) and result.candidates[0].score >= threshold
            to_human = asks or not confident or result.top in handoff
            if row.expected == HUMAN:
                human.append(to_human)
            else:
                answerable.append(not to_human and result.top == row.expected)
        scores[threshold] = (sum(human) / len(human) + sum(answerable) / len(answerable)) / 2
    best = max(scores.values())
    plateau = [t for t, score in scores.items() if score == best]
    return min(plateau), max(plateau), round(best, 4)


def print_table(report: dict[str, object]) -> None:
    """Side-by-side figures: our matcher, the baseline, our matcher on diacritic-free text."""
    columns = ("matcher", "baseline", "matcher_without_diacritics")
    tables = [report[name] for name in columns]
    assert all(isinstance(table, dict) for table in tables)
    print(f"{report['questions']} questions, {report['entries']} entries")
    print(f"{'figure':26} {'matcher':>10} {'baseline':>10} {'matcher, diacritics removed':>28}")
    for key in ("top1_accuracy", "answered_correctly", "human_sent_to_human", "answerable_sent_to_human",
                "mean_ms", "p95_ms"):
        ours, base, plain = (table[key] for table in tables)  # type: ignore[index]
        print(f"{key:26} {ours:>10} {base:>10} {plain:>28}")
    for split in ("matcher_tune_split", "matcher_holdout_split"):
        figs = report[split]
        assert isinstance(figs, dict)
        print(f"{split:28} top1={figs['top1_accuracy']} human={figs['human_sent_to_human']} "
              f"false_handoff={figs['answerable_sent_to_human']}")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "helpdesk.json")
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--eval", type=Path, default=ROOT / "benchmarks" / "helpdesk_eval.tsv")
    parser.add_argument("--misses", choices=("none", "tune", "all"), default="none",
                        help="list wrong answers (tune split only, or all rows)")
    parser.add_argument("--calibrate", action="store_true",
                        help="print the confidence threshold that works best on the tuning split")
    args = parser.parse_args(argv)
    if args.calibrate:
        low, high, balanced = calibrate(load_knowledge(args.knowledge), read_eval(args.eval))
        print(f"best thresholds on the tuning split: {low}–{high} (balanced accuracy {balanced})")
        return
    report, outcomes = benchmark(load_knowledge(args.knowledge), read_eval(args.eval))
    print_table(report)
    if args.misses != "none":
        print("\n".join(misses(outcomes, include_holdout=args.misses == "all")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"figures written to {shown}")


if __name__ == "__main__":
    main()
