"""The help desk's scorer: the word matcher and the learned model together, and the rule that
decides when an answer is sure enough to give without a person.

The word matcher knows the base's words and the vocabulary; the model knows how citizens really
ask (labelled questions). An answer is given when the model is sure, or fairly sure and the word
matcher ranks the same entry near the top, or when the word matcher is sure and the model does not
disagree. When no entry is chosen and the model is sure the message is a request to refuse or
small talk, it says so (phrasings the intent rules do not know). The thresholds were chosen on
leave-one-round-out figures (fitted on every other labelled set, measured on the one left out),
not on questions the model had learned. A calibrated model over the same evidence (logistic
regression or gradient boosting on out-of-fold probabilities, margins, word scores, coverage,
agreement and length, itself measured leave-one-round-out) did no better than these two
thresholds at the same share of confident-wrong answers, so the rule stays.
"""

from __future__ import annotations

from bot.helpdesk.classifier import GREET, NOT_ENTRIES, REFUSE, Model
from bot.helpdesk.knowledge import KnowledgeBase
from bot.helpdesk.matcher import Candidate, Matcher, MatchResult, about_other_service, content_words
from bot.helpdesk.vocabulary import Vocabulary

# The model alone. Its probabilities are sharp (weak regularisation): a guess from letters and word
# pairs ("chú" read as the "trú" of residence in "cháu chào cô chú trong tổ hỗ trợ") can pass 0.6.
_SURE = 0.7
_FAIR = 0.35  # the model, with the word matcher's agreement
_NEAR = 3  # "agreement": among the word matcher's first three
_MODEL_SHARE = 0.5  # ranking: the model's probability and the word score, half each
_MAX_CANDIDATES = 5
# The model alone may refuse, or take a message for small talk, when this sure of it. On
# leave-one-round-out predictions of rounds 1-5, 0.4 refused 1 question in 717 in error.
_VERDICT = 0.4


class LearnedMatcher:
    """Ranks entries with the word matcher and the learned model; build once, `match` many times."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher, model: Model, vocabulary: Vocabulary) -> None:
        self._matcher = matcher
        self._model = model
        self._expand = vocabulary.expand
        self._handoff = kb.handoff_ids()

    def match(self, question: str, lang: str = "vi") -> MatchResult:
        """Rank entries for `question` and say whether the first can be answered alone."""
        words = self._matcher.match(question, lang)
        if len(self._model.classes) < 2:
            return words  # a model with nothing to tell apart has no opinion
        expanded = self._expand(question)
        probability = self._model.probabilities(content_words(expanded))
        best = max(probability, key=probability.__getitem__)
        near = {candidate.entry_id for candidate in words.candidates[:_NEAR]}
        chosen: str | None = None
        if best not in NOT_ENTRIES and (probability[best] >= _SURE or (probability[best] >= _FAIR and best in near)):
            chosen = best
        elif words.confident and words.top is not None and probability.get(words.top, 0.0) >= _FAIR:
            chosen = words.top
        if about_other_service(expanded):
            chosen = None  # "Zalo bị khoá": our words, another service
        verdict = best if best in (REFUSE, GREET) and probability[best] >= _VERDICT and chosen is None else None
        return MatchResult(self._ranked(words, probability, chosen), chosen is not None,
                           words.wants_human or chosen in self._handoff, words.contains_citizen_id, verdict)

    @staticmethod
    def _ranked(words: MatchResult, probability: dict[str, float], chosen: str | None) -> tuple[Candidate, ...]:
        """Entries by the blend of both scores, the chosen one first (suggestions when unsure)."""
        word_score = {candidate.entry_id: candidate.score for candidate in words.candidates}
        blend = {entry_id: _MODEL_SHARE * probability.get(entry_id, 0.0) + (1 - _MODEL_SHARE) * score
                 for entry_id, score in word_score.items()}
        for entry_id, share in probability.items():
            if entry_id not in NOT_ENTRIES and entry_id not in blend:
                blend[entry_id] = _MODEL_SHARE * share
        order = sorted(blend, key=lambda entry_id: (entry_id != chosen, -blend[entry_id]))
        return tuple(Candidate(entry_id, round(float(blend[entry_id]), 4))
                     for entry_id in order[:_MAX_CANDIDATES] if blend[entry_id] > 0)
