"""Citizen help desk benchmark: the help desk against a BM25 baseline and the previous matcher.

`python -m benchmarks.helpdesk_bench` runs every system in its own process over the development
and held-out question sets (same questions, same order, same knowledge) and prints, per split and
per style: right, top-1, correct hand-overs, confident-wrong, wrong-language, ID warnings and
latency. Only aggregates are printed for the held-out split; `--misses` lists development rows only.
The help desk's model learns from the development set and rounds 1–6 and 6dev–8dev, so its figures on
those are training figures; the held-out split (when present) is the honest one.

`--cross-rounds` measures generalisation while developing: for each of rounds 1–6 and 6dev–8dev, the model
is fitted on everything else (the development set always included) and measured on that round, each
fold in its own process. These rounds were seen during development (the word matcher was tuned on
them), so the figures are not held-out figures.

Systems:
- helpdesk: what citizens get (reading: language, ID numbers, intent; then the word matcher and
  the learned model);
- words: the same reading with the word matcher alone (the help desk before the learned model);
- bm25_reading: the same reading with BM25 instead of our matcher;
- bm25: BM25 over folded words alone (no reading), threshold fitted on the development split;
- previous: the matcher as it was before this work (its source read from git), with its
  greeting list and its ID rule (the warning replaced the answer); it always answered in the
  configured language, Vietnamese.
"""

from __future__ import annotations

import argparse
import ast
import csv
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.helpdesk_bm25 import Bm25Scorer, Tokenizer, plain_tokens
from bot.helpdesk import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "benchmarks" / "helpdesk_dev.tsv"
# Earlier held-out sets: each measured once (figures in results/helpdesk_round<n>.json), then used
# for development like DEV; a fresh held-out set was written before each new round of tuning.
ROUNDS = {f"round{n}": ROOT / "benchmarks" / f"helpdesk_round{n}.tsv" for n in (1, 2, 3, 4, 5, 6)}
# Development questions written by someone who had not seen the help desk's misses: in the
# cross-round mode, the closest thing to a held-out figure while tuning.
ROUNDS["round6dev"] = ROOT / "benchmarks" / "helpdesk_round6dev.tsv"
ROUNDS["round7dev"] = ROOT / "benchmarks" / "helpdesk_round7dev.tsv"
ROUNDS["round8dev"] = ROOT / "benchmarks" / "helpdesk_round8dev.tsv"
# The current held-out set, written apart and measured once; the benchmark runs without it until
# it is added.
HELDOUT = ROOT / "benchmarks" / "helpdesk_heldout.tsv"
SPLITS = {"dev": DEV, **ROUNDS, **({"heldout": HELDOUT} if HELDOUT.exists() else {})}
SYSTEMS = ("helpdesk", "words", "bm25_reading", "bm25", "previous")
CROSS_SYSTEMS = ("helpdesk", "words", "bm25_reading")
# The last commit before this work: the previous matcher and greeting list are read from it.
PREVIOUS_COMMIT = "7d22843"
HUMAN, REFUSE, GREET = "HUMAN", "REFUSE", "GREET"
_PERSON_OUTCOMES = {"person", "unsure", "ask_topic"}


@dataclass(frozen=True)
class Row:
    """One labelled question."""

    question: str
    expected: str  # an entry id, HUMAN, REFUSE or GREET
    style: str
    lang: str
    warn: bool  # holds a citizen ID number: expect the warning
    split: str


@dataclass(frozen=True)
class Result:
    """What one system did with one row."""

    outcome: str  # answer, person, unsure, ask_topic, refuse, greet, thanks, warned_only
    entry_id: str | None
    top: str | None
    language: str
    warned: bool
    echoed_id: bool  # the kept text still held the ID number
    ms: float


def read_rows(path: Path, split: str) -> list[Row]:
    """Rows of a tab-separated set (question, expected, style, lang, warn)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Row(r["question"], r["expected"], r["style"], r["lang"], r["warn"] == "1", split)
                for r in reader]


# --- systems (each runs in its own process) -------------------------------------------------------


def _helpdesk_system(scorer_name: str, leave_out: str | None = None) -> Callable[[str], Result]:
    from bot.helpdesk import load_knowledge
    from bot.helpdesk.classifier import LABELLED_SETS, read_labelled
    from bot.helpdesk.matcher import Matcher
    from bot.helpdesk.reader import Reader
    from bot.helpdesk.service import build_reader
    from bot.helpdesk.vocabulary import default_vocabulary

    kb = load_knowledge(ROOT / "knowledge")
    vocabulary = default_vocabulary()
    if scorer_name == "learned":
        left = SPLITS[leave_out] if leave_out else None
        reader = build_reader(kb, vocabulary, read_labelled(p for p in LABELLED_SETS if p != left))
    else:
        scorer = (Matcher(kb, vocabulary=vocabulary) if scorer_name == "words"
                  else _fitted_bm25(kb, vocabulary.expand))
        reader = Reader(kb, scorer, vocabulary)

    def ask(question: str) -> Result:
        start = time.perf_counter()
        reading = reader.read(question)
        ms = (time.perf_counter() - start) * 1000
        top = reading.match.top if reading.match else None
        return Result(str(reading.outcome), reading.entry_id, top, reading.language, reading.had_id,
                      _holds_id(reading.text), ms)

    return ask


def _fitted_bm25(kb: KnowledgeBase, tokens: Tokenizer) -> Bm25Scorer:
    """A BM25 scorer whose confidence bar gives the most right outcomes on the development split."""
    scorer = Bm25Scorer(kb, tokens)
    dev = [row for split, path in SPLITS.items() if split != "heldout" for row in read_rows(path, split)]
    tops = [(row, scorer.match(row.question), scorer.raw_top(row.question)) for row in dev]
    best_bar, best_right = 0.0, -1
    for bar in sorted({round(raw, 2) for _, _, raw in tops}):
        right = sum(
            (raw >= bar and result.top == row.expected) or (raw < bar and row.expected in (HUMAN, REFUSE, GREET))
            for row, result, raw in tops)
        if right > best_right:
            best_bar, best_right = bar, right
    scorer.threshold = best_bar
    return scorer


def _bm25_system() -> Callable[[str], Result]:
    from bot.helpdesk import load_knowledge

    kb = load_knowledge(ROOT / "knowledge")
    scorer = _fitted_bm25(kb, plain_tokens)
    handoff = kb.handoff_ids()

    def ask(question: str) -> Result:
        start = time.perf_counter()
        result = scorer.match(question)
        ms = (time.perf_counter() - start) * 1000
        answer = result.answer_id if result.answer_id not in handoff else None
        outcome = "answer" if answer else "unsure"
        return Result(outcome, answer, result.top, "vi", False, _holds_id(question), ms)

    return ask


def _previous_system() -> Callable[[str], Result]:
    from bot.helpdesk import load_knowledge
    from bot.textnorm import contains_citizen_id, fold

    source = _git_show("bot/helpdesk/matcher.py")
    service = _git_show("bot/helpdesk/service.py")
    greetings = _assigned_set(service, "GREETINGS")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "previous_matcher.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("previous_matcher", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    kb = load_knowledge(ROOT / "knowledge")
    matcher = module.Matcher(kb)
    handoff = kb.handoff_ids()

    def ask(question: str) -> Result:
        start = time.perf_counter()
        if contains_citizen_id(question):
            return Result("warned_only", None, None, "vi", True, False, (time.perf_counter() - start) * 1000)
        if fold(question) in greetings:
            return Result("greet", None, None, "vi", False, False, (time.perf_counter() - start) * 1000)
        result = matcher.match(question, "vi")
        ms = (time.perf_counter() - start) * 1000
        answer = result.answer_id if result.answer_id not in handoff else None
        outcome = "answer" if answer else ("person" if result.wants_human else "unsure")
        return Result(outcome, answer, result.top, "vi", False, False, ms)

    return ask


def _git_show(path: str) -> str:
    return subprocess.run(["git", "show", f"{PREVIOUS_COMMIT}:{path}"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def _assigned_set(source: str, name: str) -> set[str]:
    """The literal set assigned to `name` in a module's source."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise KeyError(name)


def _holds_id(text: str) -> bool:
    from bot.helpdesk.privacy import redact_ids

    return redact_ids(text).found


def run_system(name: str, rows: list[Row], leave_out: str | None = None) -> list[Result]:
    """Ask every question once (after one warm-up question), timing each; `leave_out`: the
    labelled set the model must not learn from."""
    factories: dict[str, Callable[[], Callable[[str], Result]]] = {
        "helpdesk": lambda: _helpdesk_system("learned", leave_out),
        "words": lambda: _helpdesk_system("words"),
        "bm25_reading": lambda: _helpdesk_system("bm25"),
        "bm25": _bm25_system,
        "previous": _previous_system,
    }
    ask = factories[name]()
    ask(rows[0].question)
    return [ask(row.question) for row in rows]


# --- figures --------------------------------------------------------------------------------------


def is_right(row: Row, result: Result) -> bool:
    """The outcome a citizen should get: the expected answer, a person, a refusal, a greeting."""
    if row.expected == HUMAN:
        return result.outcome in _PERSON_OUTCOMES
    if row.expected == REFUSE:
        return result.outcome == "refuse"
    if row.expected == GREET:
        return result.outcome in ("greet", "thanks")
    return result.outcome == "answer" and result.entry_id == row.expected


def figures(pairs: list[tuple[Row, Result]]) -> dict[str, float | int]:
    """The figures of one system on some rows."""
    answerable = [(r, x) for r, x in pairs if r.expected not in (HUMAN, REFUSE, GREET)]
    not_answerable = [(r, x) for r, x in pairs if r.expected in (HUMAN, REFUSE)]
    english = [(r, x) for r, x in pairs if r.lang == "en"]
    refusals = [(r, x) for r, x in pairs if r.expected == REFUSE]
    with_id = [(r, x) for r, x in pairs if r.warn]
    without_id = [(r, x) for r, x in pairs if not r.warn and any(ch.isdigit() for ch in r.question)]
    times = sorted(x.ms for _, x in pairs)
    return {
        "questions": len(pairs),
        "right": _share(pairs, lambda r, x: is_right(r, x)),
        "top1": _share(answerable, lambda r, x: x.top == r.expected),
        "correct_handovers": _share(not_answerable, lambda r, x: x.outcome != "answer"),
        "confident_wrong": _share(pairs, lambda r, x: x.outcome == "answer" and x.entry_id != r.expected),
        "wrong_language": _share(english, lambda r, x: x.language != "en"),
        "refusals_answered_with_a_procedure": sum(x.outcome == "answer" for _, x in refusals),
        "id_warned": _share(with_id, lambda r, x: x.warned),
        "id_answered_too": _share(with_id, lambda r, x: is_right(r, x)),
        "id_echoed": sum(x.echoed_id for _, x in pairs),
        "false_id_warnings": sum(x.warned for _, x in without_id),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3) if times else 0.0,
        "mean_ms": round(statistics.fmean(times), 3) if times else 0.0,
    }


def _share(pairs: list[tuple[Row, Result]], good: Callable[[Row, Result], bool]) -> float:
    return round(sum(good(r, x) for r, x in pairs) / len(pairs), 4) if pairs else 0.0


def report(rows: list[Row], results: dict[str, list[Result]], *, pooled: str | None = None) -> dict[str, object]:
    """Figures per system, per split, and per style within each split; `pooled`: also all the
    rows together under that name."""
    splits = [s for s in SPLITS if any(r.split == s for r in rows)]
    out: dict[str, object] = {"questions": {s: sum(r.split == s for r in rows) for s in splits}}
    if pooled:
        out["questions"][pooled] = len(rows)  # type: ignore[index]
    for name, res in results.items():
        pairs = list(zip(rows, res, strict=True))
        per = {split: _with_styles([(r, x) for r, x in pairs if r.split == split]) for split in splits}
        out[name] = {pooled: _with_styles(pairs), **per} if pooled else per
    return out


def _with_styles(pairs: list[tuple[Row, Result]]) -> dict[str, object]:
    styles = sorted({r.style for r, _ in pairs})
    return {"all": figures(pairs), "by_style": {s: figures([(r, x) for r, x in pairs if r.style == s]) for s in styles}}


_SHOWN = ("right", "top1", "correct_handovers", "confident_wrong", "wrong_language",
          "refusals_answered_with_a_procedure", "id_warned", "id_answered_too", "id_echoed",
          "false_id_warnings", "p95_ms", "mean_ms")


def print_report(data: dict[str, object], systems: tuple[str, ...]) -> None:
    """Side-by-side tables: all figures per split, then 'right' and 'confident_wrong' per style."""
    for split in ("rounds", *reversed(SPLITS)):
        if split not in data["questions"]:  # type: ignore[operator]
            continue
        print(f"\n== {split} ({data['questions'][split]} questions) ==")  # type: ignore[index]
        print(f"{'figure':36}" + "".join(f"{s:>14}" for s in systems))
        for key in _SHOWN:
            print(f"{key:36}" + "".join(f"{data[s][split]['all'][key]:>14}" for s in systems))  # type: ignore[index]
        styles = data[systems[0]][split]["by_style"]  # type: ignore[index]
        print(f"\n{'style (n): right / confident-wrong':36}" + "".join(f"{s:>14}" for s in systems))
        for style in styles:
            n = styles[style]["questions"]
            cells = "".join(
                f"{data[s][split]['by_style'][style]['right']:>7}/{data[s][split]['by_style'][style]['confident_wrong']:<6}"  # type: ignore[index]
                for s in systems)
            print(f"{f'{style} ({n})':36}{cells}")


def misses(rows: list[Row], results: list[Result]) -> list[str]:
    """Development and earlier rounds' rows the help desk got wrong (held-out rows never listed)."""
    return [f"{row.expected:22} | {row.style:12} | {row.question} | {x.outcome} {x.entry_id or ''} "
            f"(top {x.top}) {x.language}"
            for row, x in zip(rows, results, strict=True) if row.split != "heldout" and not is_right(row, x)]


def _run_children(systems: tuple[str, ...], splits: str, leave_out: str | None = None) -> dict[str, list[Result]]:
    """Each system in its own process over the given splits."""
    results: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in systems:
            dump = Path(folder) / f"{name}.json"
            command = [sys.executable, "-m", "benchmarks.helpdesk_bench", "--system", name,
                       "--splits", splits, "--dump", str(dump)]
            subprocess.run(command + (["--leave-out", leave_out] if leave_out else []), cwd=ROOT, check=True)
            results[name] = [Result(**r) for r in json.loads(dump.read_text(encoding="utf-8"))]
    return results


def cross_rounds(systems: tuple[str, ...]) -> tuple[list[Row], dict[str, list[Result]], dict[str, object]]:
    """Leave-one-round-out: each round measured with a model fitted on everything else."""
    rows: list[Row] = []
    results: dict[str, list[Result]] = {name: [] for name in systems}
    for split in ROUNDS:
        rows += read_rows(SPLITS[split], split)
        for name, found in _run_children(systems, split, leave_out=split).items():
            results[name] += found
    return rows, results, report(rows, results, pooled="rounds")


def main(argv: list[str] | None = None) -> None:
    """Run every system in a child process and report; `--system` is the child's entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="default: results/helpdesk.json "
                        "(results/helpdesk_cross_rounds.json with --cross-rounds)")
    parser.add_argument("--systems", help=f"default: {','.join(SYSTEMS)} "
                        f"({','.join(CROSS_SYSTEMS)} with --cross-rounds)")
    parser.add_argument("--misses", action="store_true",
                        help="list development (and earlier rounds') rows the help desk got wrong")
    parser.add_argument("--splits", default=",".join(SPLITS),
                        help="dev while tuning; the held-out split is for the final figures")
    parser.add_argument("--cross-rounds", action="store_true",
                        help="fit on all but one round, measure on that round, for each of rounds 1-6 and 6dev-8dev")
    parser.add_argument("--system", help=argparse.SUPPRESS)
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--leave-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.system:
        rows = [row for split in args.splits.split(",") for row in read_rows(SPLITS[split], split)]
        mine = run_system(args.system, rows, args.leave_out)
        args.dump.write_text(json.dumps([asdict(r) for r in mine]), encoding="utf-8")
        return
    results_dir = ROOT / "benchmarks" / "results"
    if args.cross_rounds:
        systems = tuple((args.systems or ",".join(CROSS_SYSTEMS)).split(","))
        rows, results, data = cross_rounds(systems)
        out = args.out or results_dir / "helpdesk_cross_rounds.json"
        print("Leave-one-round-out: rounds seen during development, not held-out figures.")
    else:
        systems = tuple((args.systems or ",".join(SYSTEMS)).split(","))
        rows = [row for split in args.splits.split(",") for row in read_rows(SPLITS[split], split)]
        results = _run_children(systems, args.splits)
        data = report(rows, results)
        out = args.out or results_dir / "helpdesk.json"
        print("The help desk's model learned from dev and rounds 1-6 and 6dev-8dev: only held-out figures are unseen.")
    print_report(data, systems)
    if args.misses and "helpdesk" in results:
        print("\n" + "\n".join(misses(rows, results["helpdesk"])))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"\nfigures written to {shown}")


if __name__ == "__main__":
    main()
