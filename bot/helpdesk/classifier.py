"""A linear model learned from labelled citizens' questions: which entry (or a person) a question is
closest to, as probabilities.

Features are the folded, vocabulary-expanded words, word pairs and character 3-/4-grams (so typos
and unseen phrasings still land near the labelled examples), weighted TF-IDF; the model is
scikit-learn's multinomial LogisticRegression. Importing scikit-learn and fitting take a few
seconds, so the fitted weights are kept in a cache file named after everything they were learned
from: a start with the same knowledge, vocabulary and labelled sets loads them with numpy alone.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import logging
import math
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.helpdesk.knowledge import KnowledgeBase
from bot.helpdesk.matcher import content_words
from bot.helpdesk.vocabulary import Vocabulary

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent.parent
# The labelled sets the model learns from. The held-out set (benchmarks/helpdesk_heldout.tsv) is
# never among them: it measures the model.
LABELLED_SETS = tuple(ROOT / "benchmarks" / name for name in (
    "helpdesk_dev.tsv", "helpdesk_round1.tsv", "helpdesk_round2.tsv", "helpdesk_round3.tsv",
    "helpdesk_round4.tsv", "helpdesk_round5.tsv", "helpdesk_round6dev.tsv",
    "helpdesk_round7dev.tsv", "helpdesk_round8dev.tsv", "helpdesk_round6.tsv"))
# Classes that are not entries: questions only a person can answer (out of scope, a specific case),
# requests nobody may answer, and small talk. The intent rules catch most refusals and greetings
# before any matching; these classes catch the phrasings the rules do not know.
HUMAN, REFUSE, GREET = "HUMAN", "REFUSE", "GREET"
NOT_ENTRIES = frozenset({HUMAN, REFUSE, GREET})
# Bump when features or training change, so older cache files are not used.
_FORMAT = "3"
# Weak regularisation: labelled questions are few and mostly clean. Chosen on leave-one-round-out
# predictions of rounds 1-6 and 6dev-8dev (2,298 questions): C = 4, 10, 25, 50 gave 93.8%, 94.6%,
# 94.8%, 95.2% right at about 2% confident-wrong (each with its best answer thresholds).
_C = 50.0
_MAX_ITER = 2000
# Weight files kept in the cache folder (a few, so that switching between checkouts or labelled
# sets does not fit again each time).
_KEEP_FILES = 6


@dataclass(frozen=True)
class Labelled:
    """One training question and its label: an entry id, HUMAN or REFUSE."""

    question: str
    label: str


def read_labelled(paths: Iterable[Path] = LABELLED_SETS) -> list[Labelled]:
    """Questions of the labelled sets that exist (question and expected columns)."""
    rows: list[Labelled] = []
    for path in paths:
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            rows += [Labelled(row["question"], row["expected"])
                     for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return rows


def training_set(kb: KnowledgeBase, labelled: Sequence[Labelled]) -> list[Labelled]:
    """The entries' own titles, keywords and examples, then the labelled questions."""
    own = [Labelled(text, entry.id) for entry in kb.entries if not entry.handoff
           for text in (entry.title_vi, entry.title_en, *entry.keywords_vi, *entry.keywords_en,
                        *entry.examples)]
    known = {entry.id for entry in kb.entries} | NOT_ENTRIES
    # A label whose entry was removed from the base would teach a class nobody can answer with.
    return own + [row for row in labelled if row.label in known]


def features(words: Sequence[str]) -> Counter[str]:
    """Words, word pairs and character 3-/4-grams of each word padded with spaces."""
    found: Counter[str] = Counter(f"w {word}" for word in words)
    found.update(f"p {a} {b}" for a, b in zip(words, words[1:], strict=False))
    for word in words:
        padded = f" {word} "
        for size in (3, 4):
            found.update(f"c{padded[i:i + size]}" for i in range(len(padded) - size + 1))
    return found


@dataclass(frozen=True)
class Model:
    """Fitted weights: one row of coefficients per class over the feature columns."""

    classes: tuple[str, ...]
    columns: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # classes × features
    intercept: np.ndarray

    def probabilities(self, words: Sequence[str]) -> dict[str, float]:
        """Each class's probability for a question's content words."""
        cols, values = _tfidf(features(words), self.columns, self.idf)
        logits = self.intercept + (self.coef[:, cols] @ values if cols else 0.0)
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (exp / exp.sum()).tolist(), strict=True))

    def save(self, path: Path) -> None:
        """Write the weights as plain arrays (no pickles), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(self.columns, key=self.columns.__getitem__)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
            np.savez_compressed(handle, classes=np.array(self.classes), names=np.array(names),
                                idf=self.idf, coef=self.coef, intercept=self.intercept)
        os.replace(handle.name, path)

    @classmethod
    def load(cls, path: Path) -> Model:
        """Read weights written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            names = data["names"].tolist()
            return cls(tuple(data["classes"].tolist()), {name: i for i, name in enumerate(names)},
                       data["idf"], data["coef"], data["intercept"])


def _tfidf(found: Counter[str], columns: dict[str, int], idf: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Columns and unit-length TF-IDF values (sublinear counts) of the known features."""
    known = [name for name in found if name in columns]
    cols = [columns[name] for name in known]
    values = np.array([1 + math.log(found[name]) for name in known]) * idf[cols]
    norm = float(np.linalg.norm(values))
    return cols, values / norm if norm else values


def train(documents: Sequence[tuple[Sequence[str], str]]) -> Model:
    """Fit the model on (content words, label) pairs."""
    # Imported here: scikit-learn takes about a second to import, and only training needs it.
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    labels = sorted({label for _, label in documents})
    if len(labels) < 2:
        # Nothing to tell apart (a base of one entry and no labelled questions): a model without
        # features, which the ensemble leaves out.
        return Model(tuple(labels), {}, np.zeros(0), np.zeros((len(labels), 0)), np.zeros(len(labels)))
    found = [features(words) for words, _ in documents]
    frequency: Counter[str] = Counter(f for doc in found for f in doc)
    columns = {name: i for i, name in enumerate(sorted(frequency))}
    # scikit-learn's smoothed IDF.
    idf = np.array([math.log((1 + len(found)) / (1 + frequency[name])) + 1 for name in sorted(frequency)])
    rows, cols, values = [], [], []
    for i, doc in enumerate(found):
        doc_cols, doc_values = _tfidf(doc, columns, idf)
        rows += [i] * len(doc_cols)
        cols += doc_cols
        values += doc_values.tolist()
    matrix = csr_matrix((values, (rows, cols)), shape=(len(found), len(columns)))
    fitted = LogisticRegression(C=_C, max_iter=_MAX_ITER).fit(matrix, [label for _, label in documents])
    return Model(tuple(str(c) for c in fitted.classes_), columns, idf,
                 fitted.coef_.astype(np.float32), fitted.intercept_.astype(np.float32))


def default_cache_dir() -> Path:
    """Where fitted weights are kept: the user's cache folder (XDG_CACHE_HOME or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnscd-bot"


def learned_model(kb: KnowledgeBase, vocabulary: Vocabulary, labelled: Sequence[Labelled],
                  cache_dir: Path | None = None) -> Model:
    """The model for this base and these labelled questions: from the cache, or fitted and cached."""
    documents = [(content_words(vocabulary.expand(row.question)), row.label)
                 for row in training_set(kb, labelled)]
    digest = hashlib.sha256(_FORMAT.encode())
    for words, label in documents:
        digest.update(f"{label}\t{' '.join(words)}\n".encode())
    path = (cache_dir or default_cache_dir()) / f"helpdesk-{digest.hexdigest()[:24]}.npz"
    try:
        return Model.load(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # not fitted yet for these inputs (or an unreadable file): fit again
    log.info("help desk: fitting the model on %d questions (once per change of its inputs)", len(documents))
    model = train(documents)
    with contextlib.suppress(OSError):  # a read-only home only costs the fit at the next start
        model.save(path)
        _prune(path.parent)
    return model


def _prune(folder: Path) -> None:
    """Keep the newest weight files only: each change of the base leaves one behind."""
    files = sorted(folder.glob("helpdesk-*.npz"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in files[_KEEP_FILES:]:
        old.unlink(missing_ok=True)
