"""BM25 over each entry's titles, keywords and example questions: the established-retrieval baseline
the help desk's matcher is measured against (rank_bm25's Okapi BM25, threshold fitted on dev)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rank_bm25 import BM25Okapi

from bot.helpdesk import Candidate, KnowledgeBase, MatchResult
from bot.textnorm import contains_citizen_id, fold

Tokenizer = Callable[[str], Sequence[str]]


def plain_tokens(text: str) -> list[str]:
    """Folded words, nothing else: what BM25 gets without our understanding of chat text."""
    return fold("".join(ch if ch.isalnum() else " " for ch in text)).split()


class Bm25Scorer:
    """Ranks entries with BM25; the top is confident when its share of the top two clears a bar."""

    def __init__(self, kb: KnowledgeBase, tokens: Tokenizer = plain_tokens, threshold: float = 0.0) -> None:
        self._ids = [entry.id for entry in kb.entries]
        self._handoff = kb.handoff_ids()
        self._tokens = tokens
        self.threshold = threshold
        documents = [
            [t for text in (e.title_vi, e.title_en, *e.keywords_vi, *e.keywords_en, *e.examples)
             for t in tokens(text)]
            for e in kb.entries
        ]
        self._bm25 = BM25Okapi(documents)

    def match(self, question: str, lang: str = "vi") -> MatchResult:
        """Rank every entry; scores are divided by the best so they lie in 0..1."""
        scores = self._bm25.get_scores(list(self._tokens(question)))
        ranked = sorted(zip(self._ids, scores, strict=True), key=lambda pair: pair[1], reverse=True)
        best = ranked[0][1] if ranked else 0.0
        candidates = tuple(Candidate(i, round(s / best, 4)) for i, s in ranked[:5] if s > 0) if best > 0 else ()
        confident = bool(candidates) and best >= self.threshold
        wants_human = confident and candidates[0].entry_id in self._handoff
        return MatchResult(candidates, confident, wants_human, contains_citizen_id(question))

    def raw_top(self, question: str) -> float:
        """The best raw BM25 score, for fitting the threshold."""
        scores = self._bm25.get_scores(list(self._tokens(question)))
        return float(max(scores)) if len(scores) else 0.0
