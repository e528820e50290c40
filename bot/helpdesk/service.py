"""Help desk rules: answer from the knowledge base, hand over to people, relay, rate, throttle."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from bot.clock import Clock
from bot.errors import Refusal
from bot.helpdesk.classifier import Labelled, learned_model, read_labelled
from bot.helpdesk.ensemble import LearnedMatcher
from bot.helpdesk.knowledge import Entry, KnowledgeBase, load_knowledge
from bot.helpdesk.matcher import Matcher
from bot.helpdesk.privacy import redact_ids
from bot.helpdesk.reader import MAX_QUESTION_CHARS, Reader, Reading
from bot.helpdesk.vocabulary import VOCABULARY_FILE, Vocabulary, load_vocabulary
from bot.i18n import _
from bot.live_settings import LiveSettings, ReadsLiveSettings
from bot.models import Member, Role
from bot.textnorm import parse_int
from storage.helpdesk import CitizenQuestion
from storage.repositories import Repositories

log = logging.getLogger(__name__)
KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge"


@cache
def knowledge(path: Path = KNOWLEDGE_DIR, vocabulary_file: Path = VOCABULARY_FILE) -> Reader:
    """The knowledge base, the vocabulary and the matcher, loaded and checked once per process."""
    return build_reader(load_knowledge(path), load_vocabulary(vocabulary_file))


def build_reader(kb: KnowledgeBase, vocabulary: Vocabulary,
                 labelled: Sequence[Labelled] | None = None, cache_dir: Path | None = None) -> Reader:
    """The reader citizens get: the word matcher and the model learned from labelled questions
    (the repository's labelled sets unless `labelled` is given)."""
    matcher = Matcher(kb, vocabulary=vocabulary)
    try:
        model = learned_model(kb, vocabulary, read_labelled() if labelled is None else labelled, cache_dir)
    except ImportError:
        # Fitting needs scikit-learn; without it (and no weights cached) the desk still answers,
        # less often right, and says why once.
        log.warning("help desk: scikit-learn is missing and no fitted weights are cached; "
                    "answering with the word matcher alone (pip install scikit-learn)")
        return Reader(kb, matcher, vocabulary)
    return Reader(kb, LearnedMatcher(kb, matcher, model, vocabulary), vocabulary)


class RatingResult(StrEnum):
    SAVED = "saved"
    ALREADY = "already"  # rated before: the first rating stands
    INVALID = "invalid"  # not help this citizen was given (forged or unknown button)


@dataclass(frozen=True)
class Handover:
    question: CitizenQuestion
    recipients: list[Member]


# At most this many messages a minute per citizen. Elderly people send a question in many short
# pieces, and those must never be dropped; only a real flood is slowed down.
FLOOD_LIMIT = 30


class HelpdeskService(ReadsLiveSettings):
    """Citizens' questions: matched answers, hand-over to volunteers and officers, ratings."""

    def __init__(self, repos: Repositories, settings: LiveSettings, clock: Clock,
                 knowledge_dir: Path = KNOWLEDGE_DIR) -> None:
        self.repos = repos
        self.store = repos.helpdesk
        self.live = settings
        self.clock = clock
        self.reader = knowledge(knowledge_dir)
        self.kb = self.reader.kb
        self.pacing = repos.pacing

    async def allow_message(self, channel: str, external_id: str) -> bool:
        """Count one message from a citizen; False when they are over FLOOD_LIMIT this minute.

        Counted in the database (in the update's transaction), so every worker sees the same
        count; minutes are whole clock minutes, which is exact enough to slow a flood down.
        """
        minute = int(self.clock().timestamp() // 60)
        return await self.pacing.count_message(channel, external_id, minute) <= FLOOD_LIMIT

    def read(self, message: str, language: str | None = None, fallback: str = "vi") -> Reading:
        """What to do with a citizen's message; `language` is their own choice, if they made one."""
        return self.reader.read(message, language, fallback)

    async def chosen_language(self, channel: str, external_id: str) -> str | None:
        """The language a citizen picked with /lang, or None when they never did."""
        return await self.repos.members.user_language(channel, external_id)

    def entry(self, entry_id: str) -> Entry | None:
        try:
            return self.kb.get(entry_id)
        except KeyError:
            return None

    def place_of(self, hamlet_code: str | None) -> tuple[str, str | None]:
        """(commune, hamlet) a question belongs to; the first commune when the hamlet is unknown."""
        found = self.settings.hamlet(hamlet_code) if hamlet_code else None
        if found is not None:
            return found[0].code, found[1].code
        return self.settings.communes[0].code, None

    async def set_home(self, channel: str, external_id: str, hamlet_code: str) -> None:
        """Remember where a citizen lives, so later questions reach the right people."""
        async with self.repos.db.transaction():
            await self.store.set_citizen_hamlet(channel, external_id, hamlet_code)

    async def hand_over(self, *, channel: str, external_id: str, chat_id: str, text: str,
                        hamlet_code: str | None) -> Handover:
        """Store a question for people to answer; the hamlet's volunteers and the commune's
        officers receive it, on whichever channel they use."""
        commune_code, hamlet = self.place_of(hamlet_code)
        async with self.repos.db.transaction():
            question = await self.store.add_question(
                channel=channel, external_id=external_id, chat_id=chat_id,
                commune_code=commune_code, hamlet_code=hamlet,
                text=redact_ids(text).text[:MAX_QUESTION_CHARS],
                at=self.clock())
        recipients = await self.repos.members.matching(commune_code=commune_code, role=Role.OFFICER)
        if hamlet is not None:
            recipients = await self.repos.members.matching(hamlet_code=hamlet,
                                                  role=Role.VOLUNTEER) + recipients
        return Handover(question, recipients)

    async def question_for(self, member: Member, question_id: int) -> CitizenQuestion | None:
        """A question only if this member may read it: an officer's commune, a volunteer's
        hamlet (or a question whose hamlet is unknown, in their commune); never otherwise."""
        if member.role is Role.PROVINCE or member.commune_code is None:
            return None
        question = await self.store.question(question_id)
        if question is None or question.commune_code != member.commune_code:
            return None
        if member.role is Role.VOLUNTEER and question.hamlet_code not in (None,
                                                                          member.hamlet_code):
            return None
        return question

    async def answer(self, member: Member, question_id: int, text: str) -> CitizenQuestion:
        """Record a member's answer to an open question they may see."""
        question = await self.question_for(member, question_id)
        if question is None:
            raise Refusal(_("That question is not for your hamlet or commune."))
        if question.status != "open":
            raise Refusal(_("Someone has already answered this question."))
        text = text.strip()
        if not text:
            raise Refusal(_("Please type the answer as text."))
        now = self.clock()
        async with self.repos.db.transaction():
            if not await self.store.answer_question(question_id, member.id, text, now):
                raise Refusal(_("Someone has already answered this question."))
            await self.repos.audit(member_id=member.id, action="answer", entity="question",
                                   entity_id=question_id, details={}, at=now)
        return question

    async def open_questions(self, member: Member) -> list[CitizenQuestion]:
        """Questions still waiting for a person, in the member's commune (or hamlet)."""
        if member.commune_code is None:
            return []
        hamlet = member.hamlet_code if member.role is Role.VOLUNTEER else None
        return await self.store.open_questions(member.commune_code, hamlet)

    async def rate(self, *, channel: str, external_id: str, subject: str,
                   helpful: bool) -> RatingResult:
        """Store whether the help was useful, for the satisfaction rate of the reports.

        Only help this citizen was given counts, and only once: an answer of the knowledge
        base, or a person's answer to their own question.
        """
        kind, _sep, key = subject.partition(":")
        if kind == "q":
            number = parse_int(key)
            question = await self.store.question(number) if number is not None else None
            if question is None or question.status != "answered" or \
                    (question.channel, question.external_id) != (channel, external_id):
                return RatingResult.INVALID
            commune: str | None = question.commune_code
            subject = f"q:{question.id}"
        elif kind == "kb" and self.entry(key) is not None:
            hamlet = await self.store.citizen_hamlet(channel, external_id)
            commune = self.place_of(hamlet)[0] if hamlet else None
        else:
            return RatingResult.INVALID
        async with self.repos.db.transaction():
            saved = await self.store.rate(channel=channel, external_id=external_id,
                                          subject=subject, helpful=helpful,
                                          commune_code=commune, at=self.clock())
        return RatingResult.SAVED if saved else RatingResult.ALREADY
