"""Read one citizen message: the language to answer in, ID numbers cut out, the intent, the entry.

Pure rules over the knowledge base (no database, no chat library), so the chat, `python -m bot
ask` and the benchmark all get exactly the same reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Protocol

from bot.helpdesk.classifier import REFUSE
from bot.helpdesk.intents import LONG_MESSAGE_WORDS, Intent, address_of, classify, focus, only_greets
from bot.helpdesk.knowledge import KnowledgeBase
from bot.helpdesk.language import SUPPORTED, VIETNAMESE, detect_language
from bot.helpdesk.matcher import MatchResult
from bot.helpdesk.privacy import redact_ids
from bot.helpdesk.vocabulary import Vocabulary

MAX_QUESTION_CHARS = 1000
# The knowledge group of scam and fake-app advice.
_SAFETY_GROUP = "safety"


class Outcome(StrEnum):
    """What the help desk does with a message."""

    ANSWER = "answer"  # a knowledge entry answers it
    GREET = "greet"  # greeting or small talk: ask what they want to know
    THANKS = "thanks"
    ASK_TOPIC = "ask_topic"  # wants a person: ask what it is about first
    PERSON = "person"  # a person must answer (asked for, or only a person can do it)
    UNSURE = "unsure"  # no entry fits well enough: a person answers
    REFUSE = "refuse"  # nobody may give this out


_OUTCOMES = {Intent.GREETING: Outcome.GREET, Intent.THANKS: Outcome.THANKS,
             Intent.ASK_TOPIC: Outcome.ASK_TOPIC, Intent.PERSON: Outcome.PERSON}


class Scorer(Protocol):
    """Anything that ranks knowledge entries for a question (our matcher, or a baseline)."""

    def match(self, question: str, lang: str = "vi") -> MatchResult: ...


@dataclass(frozen=True)
class Reading:
    """Everything the desk needs to reply to one message."""

    outcome: Outcome
    language: str  # the language to answer in ("vi" or "en")
    written_in: str | None  # what the message was written in ("vi", "en", "other"; None: no telling)
    text: str  # the message with ID-like numbers cut out: the only form kept or forwarded
    had_id: bool
    entry_id: str | None = None
    match: MatchResult | None = None
    address: str | None = None  # "Bà", "Chú"… when the citizen named themselves so
    scam: bool = False  # a refusal that also gets the scam warning


class Reader:
    """Reads messages against one knowledge base with one scorer."""

    def __init__(self, kb: KnowledgeBase, scorer: Scorer, vocabulary: Vocabulary) -> None:
        self.kb = kb
        self.scorer = scorer
        self.vocabulary = vocabulary
        self._handoff = kb.handoff_ids()
        self._safety = frozenset(entry.id for entry in kb.in_group(_SAFETY_GROUP))

    def read(self, message: str, language: str | None = None, fallback: str = VIETNAMESE) -> Reading:
        """Read a message. `language`: the citizen's own choice, None to follow the message (and
        `fallback`, the language of the conversation so far, when the message does not tell)."""
        redacted = redact_ids(message[:MAX_QUESTION_CHARS])
        text = redacted.text
        written_in = detect_language(text)
        reply_language = language or (written_in if written_in in SUPPORTED else None) or fallback
        reading = partial(Reading, language=reply_language, written_in=written_in, text=text,
                          had_id=redacted.found, address=address_of(text))
        intent = classify(text, self.vocabulary)
        if intent.intent is Intent.REFUSE:
            return reading(Outcome.REFUSE, scam=intent.scam)
        if intent.intent is not Intent.QUESTION:
            return reading(_OUTCOMES[intent.intent])
        if not any(ch.isalpha() for ch in text):
            return reading(Outcome.GREET)  # only numbers (or nothing left): ask what they want
        result = self._match(text, reply_language)
        # The model's own verdict is for short messages: a long story is the writer's own case,
        # however much it sounds like the requests it learned to refuse.
        if result.verdict is not None and not result.wants_human and len(text.split()) <= LONG_MESSAGE_WORDS:
            return reading(Outcome.REFUSE, scam=intent.scam) if result.verdict == REFUSE else reading(Outcome.GREET)
        entry_id = result.answer_id
        if entry_id is None and intent.scam and result.top in self._safety and not result.wants_human:
            # Someone telling of a code or password being asked for, when the safety advice ranks
            # first: the advice now is worth more than a person's answer later, and never harms.
            entry_id = result.top
        if entry_id is not None and entry_id not in self._handoff:
            return reading(Outcome.ANSWER, entry_id=entry_id, match=result)
        if not result.wants_human and only_greets(text, self.vocabulary):
            return reading(Outcome.GREET)
        return reading(Outcome.PERSON if result.wants_human else Outcome.UNSURE, match=result)

    def _match(self, text: str, language: str) -> MatchResult:
        """Match the whole message; for a long story, the question at its end when that is surer."""
        whole = self.scorer.match(text, language)
        tail = focus(text, self.vocabulary)
        if tail is None or (whole.confident and not whole.wants_human):
            return whole
        focused = self.scorer.match(tail, language)
        # The end alone can lose what the story said ("… level 2 … I am 70, where do I go" is
        # not about the ID card at 60): it may only confirm the whole story's best guess.
        if focused.confident and not focused.wants_human and focused.top == whole.top:
            return focused
        return whole
