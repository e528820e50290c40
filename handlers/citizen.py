"""The citizen help desk: topics, typed questions, hand-over to a person, ratings."""

from __future__ import annotations

from typing import Any

from bot.helpdesk.knowledge import Entry
from bot.helpdesk.language import OTHER
from bot.helpdesk.reader import Outcome, Reading
from bot.helpdesk.service import HelpdeskService, RatingResult
from bot.i18n import _, current_language, use_language
from bot.messages import Option, Reply
from bot.models import Conversation, Member
from bot.textnorm import fold
from handlers.base import Ctx, Turn, opt, parse_option, stay

NAME = "cit"
SUGGESTIONS = 3


def rating_row(subject: str) -> list[Option]:
    """"Was this helpful?" buttons for an answer or a person's reply."""
    return [opt(_("Helpful"), NAME, "rate", f"{subject}:1"),
            opt(_("Not helpful"), NAME, "rate", f"{subject}:0")]


def answer_reply(entry: Entry, service: HelpdeskService) -> Reply:
    """A knowledge answer with rating buttons, related questions and a way to a person."""
    language = current_language()
    rows = [rating_row(f"kb:{entry.id}")]
    for related in entry.next[:2]:
        other = service.entry(related)
        if other is not None:
            rows.append([opt(other.title(language), NAME, "kb", other.id)])
    rows.append([opt(_("Talk to a person"), NAME, "human"), opt(_("Topics"), NAME, "menu")])
    return Reply(entry.answer(language), rows)


def welcome(service: HelpdeskService, intro: str | None = None) -> Reply:
    """The citizens' menu: topic groups, a person, the language."""
    language = current_language()
    text = intro or _(
        "Hello! I am the assistant of the commune's community digital technology team. "
        "I can help Anh/Chị with the VNeID app and online public services.\n"
        "Type your question (diacritics are not needed) or choose a topic:")
    rows = [[opt(g.title_vi if language == "vi" else g.title_en, NAME, "grp", g.id)]
            for g in service.kb.groups]
    # Petitions live in handlers/feedback.py; this button is the desk's way in.
    rows.append([opt(_("Send feedback or a petition"), "pa", "new")])
    rows.append([Option("Tiếng Việt / English", "nav:go:lang")])
    return Reply(text, rows)


def unsure_text() -> str:
    """What the bot says when it is not sure and passes the question on."""
    return _("I am not sure I understood, so I am passing the question to a person from the "
             "commune's team. They will answer here.")


def id_warning() -> str:
    """Said before the answer when an ID-like number was cut out of the message."""
    return _("⚠️ I removed a number that looked like a citizen ID from your message and did not "
             "keep it. Never share ID numbers, passcodes or OTP codes in chats.")


def refusal_text(scam: bool) -> str:
    """Why the help desk will not give out someone's data, an officer's number or a code."""
    text = _("Sorry, I cannot give out other people's personal information, officers' private "
             "phone numbers or OTP codes: they belong only to their owner. To reach the "
             "commune's team, choose “Talk to a person”.")
    if scam:
        text += "\n\n" + _("⚠️ The police and commune officers never ask anyone for OTP codes, "
                            "passwords or passcodes. Whoever asks for them, even in the police's "
                            "name, is most likely a scammer: do not give them.")
    return text


def other_language_note() -> str:
    """Added in English for a message written in a language the help desk does not speak."""
    with use_language("en"):
        return _("This help desk answers in Vietnamese and English; send /lang to choose English.")


def polite(text: str, address: str | None) -> str:
    """Address the citizen as they named themselves ("Bà", "Chú"…) instead of "Anh/Chị"."""
    return text.replace("Anh/Chị", address) if address else text


def render_answer(service: HelpdeskService, question: str, language: str | None = None) -> str:
    """The text a citizen gets for a typed question (what `python -m bot ask` prints);
    `language` forces the reply language, otherwise it follows the question."""
    reading = service.read(question, language, service.settings.bot.default_language)
    with use_language(reading.language):
        parts = [id_warning()] if reading.had_id else []
        entry = service.entry(reading.entry_id) if reading.entry_id else None
        simple = {Outcome.GREET: greeting_text, Outcome.THANKS: thanks_text,
                  Outcome.ASK_TOPIC: ask_topic_text, Outcome.UNSURE: unsure_text,
                  Outcome.PERSON: person_text}
        if entry is not None:
            parts.append(entry.answer(reading.language))
        elif reading.outcome is Outcome.REFUSE:
            parts.append(refusal_text(reading.scam))
        else:
            parts.append(simple[reading.outcome]())
        if reading.written_in == OTHER:
            parts.append(other_language_note())
        return polite("\n\n".join(parts), reading.address)


def greeting_text() -> str:
    """Said to a greeting or small talk: what would they like to ask."""
    return _("Hello! What would you like to ask? Type the question or choose a topic.")


def thanks_text() -> str:
    """Said to thanks."""
    return _("You are welcome! If you need anything else, just type it here.")


def ask_topic_text() -> str:
    """Said when someone asks for a person without saying what about."""
    return _("Of course. What is it about? Type it here and I will pass it to the commune's "
             "team.")


def person_text() -> str:
    """Said when the question goes to a person."""
    return _("I will pass your question to a person from the commune's team. They will answer "
             "here.")


class CitizenDesk:
    """Answers at once; keeps a state for the conversation's language and address, and while
    asking where the citizen lives (questions typed meanwhile are kept for afterwards)."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        return Turn([welcome(ctx.services.helpdesk)], None)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        return [self._hamlet_question(ctx, state)]

    async def handle(self, ctx: Ctx, state: Conversation | None) -> Turn:
        service = ctx.services.helpdesk
        chosen = await service.chosen_language(ctx.msg.channel, ctx.msg.user_id)
        data = state.data if state is not None else {}
        # Someone who never chose a language is answered in the language they write in; the
        # conversation keeps it for the buttons they tap next.
        language = chosen or data.get("lang") or current_language()
        reading = service.read(ctx.text, chosen, language) if ctx.text else None
        if reading is not None:
            language = reading.language
        address = (reading.address if reading else None) or data.get("address")
        with use_language(language):
            turn = await self._handle(ctx, state, reading)
            if not chosen:
                turn = _remember(turn, {"lang": language, "address": address})
            for reply in turn.replies:
                if reply.to is None:
                    reply.text = polite(reply.text, address)
            return turn

    async def _handle(self, ctx: Ctx, state: Conversation | None, reading: Reading | None) -> Turn:
        service = ctx.services.helpdesk
        if not await service.allow_message(ctx.msg.channel, ctx.msg.user_id):
            return Turn([Reply(_("Anh/Chị is sending messages very fast. Please wait a minute, "
                                 "then send the question again."))], state)
        flow, step, value = parse_option(ctx.option)
        if ctx.option and flow == NAME:
            return await self._option(ctx, state, step, value)
        if state is not None and state.step == "hamlet":
            return await self._typed_hamlet(ctx, state, reading)
        if reading is None:
            return Turn([welcome(service, _("I can read text only. Please type the question, "
                                            "or choose a topic:"))], state)
        if state is not None and state.step == "ask" and reading.outcome not in (
                Outcome.GREET, Outcome.THANKS, Outcome.REFUSE):
            # They asked for a person first: this text is the question to pass on.
            return _warned(reading, await self._hand_over(ctx, reading.text, None))
        return await self._question(ctx, reading)

    async def _question(self, ctx: Ctx, reading: Reading) -> Turn:
        service = ctx.services.helpdesk
        entry = service.entry(reading.entry_id) if reading.entry_id else None
        idle = Conversation(NAME, "idle", {})
        if entry is not None and not entry.handoff:
            idle.data["last"] = reading.text
            turn = Turn([answer_reply(entry, service)], idle)
        elif reading.outcome is Outcome.REFUSE:
            rows = [[opt(_("Talk to a person"), NAME, "human"), opt(_("Topics"), NAME, "menu")]]
            turn = Turn([Reply(refusal_text(reading.scam), rows)], idle)
        elif reading.outcome in (Outcome.GREET, Outcome.THANKS):
            text = greeting_text() if reading.outcome is Outcome.GREET else thanks_text()
            turn = Turn([welcome(service, text)], idle)
        elif reading.outcome is Outcome.ASK_TOPIC:
            turn = Turn([Reply(ask_topic_text())], Conversation(NAME, "ask", {}))
        else:
            turn = await self._hand_over(ctx, reading.text, reading)
        if reading.written_in == OTHER:
            turn.replies.append(Reply(other_language_note()))
        return _warned(reading, turn)

    async def _hand_over(self, ctx: Ctx, text: str, reading: Reading | None) -> Turn:
        service = ctx.services.helpdesk
        hamlet = await service.store.citizen_hamlet(ctx.msg.channel, ctx.msg.user_id)
        if hamlet is None and len(self._hamlets(ctx, None)) > 1:
            state = Conversation(NAME, "hamlet", {"question": text})
            intro = unsure_text() if reading and reading.outcome is Outcome.UNSURE else _(
                "I will pass your question to a person from the commune's team.")
            return Turn([Reply(intro), self._hamlet_question(ctx, state)], state)
        return await self._send(ctx, text, hamlet, reading)

    async def _send(self, ctx: Ctx, text: str, hamlet: str | None,
                    reading: Reading | None) -> Turn:
        service = ctx.services.helpdesk
        handover = await service.hand_over(channel=ctx.msg.channel, external_id=ctx.msg.user_id,
                                           chat_id=ctx.msg.chat_id, text=text,
                                           hamlet_code=hamlet)
        replies = [Reply(_("Your question has been passed to the commune's team (number "
                           "{id}). Someone will answer here; please keep this chat open.")
                         .format(id=handover.question.id))]
        if reading is not None and reading.outcome is Outcome.UNSURE and reading.match:
            suggestions = [service.entry(c.entry_id) for c in reading.match.candidates[:SUGGESTIONS]]
            rows = [[opt(e.title(current_language()), NAME, "kb", e.id)]
                    for e in suggestions if e is not None and not e.handoff]
            if rows:
                replies.append(Reply(_("Meanwhile, one of these may help:"), rows))
        # Volunteers and officers know their hamlets by name, not by the configuration's code.
        settings = ctx.services.settings
        found = settings.hamlet(handover.question.hamlet_code or "")
        place = found[1].name if found else settings.commune(handover.question.commune_code).name
        for member in handover.recipients:
            replies.append(forwarded_question(member, handover.question.id, place,
                                              handover.question.text))
        return Turn(replies, None)

    async def _option(self, ctx: Ctx, state: Conversation | None, step: str,
                      value: str) -> Turn:
        service = ctx.services.helpdesk
        language = current_language()
        if step == "grp":
            entries = service.kb.in_group(value)
            rows = [[opt(e.title(language), NAME, "kb", e.id)] for e in entries if not e.handoff]
            rows.append([opt(_("Talk to a person"), NAME, "human"),
                         opt(_("Topics"), NAME, "menu")])
            return Turn([Reply(_("Choose a question:"), rows)], state)
        if step == "kb" and (entry := service.entry(value)) is not None:
            if entry.handoff:
                return await self._option(ctx, state, "human", "")
            return Turn([answer_reply(entry, service)], state)
        if step == "rate" and value.count(":") >= 2 and value[-1] in "01":
            subject, helpful = value[:-2], value.endswith("1")
            rated = await service.rate(channel=ctx.msg.channel, external_id=ctx.msg.user_id,
                                       subject=subject, helpful=helpful)
            if rated is RatingResult.INVALID:
                return Turn([welcome(service)], None)
            if rated is RatingResult.ALREADY:
                return Turn([Reply(_("Anh/Chị has already rated this answer. Thank you!"),
                                   replace=False)], state)
            text = _("Thank you for your feedback!") if helpful else _(
                "Thank you. If Anh/Chị still needs help, choose “Talk to a person” or type the "
                "question in other words.")
            rows = [] if helpful else [[opt(_("Talk to a person"), NAME, "human")]]
            return Turn([Reply(text, rows, replace=False)], state)
        if step == "human":
            last = state.data.get("last") if state is not None else None
            if last:
                return await self._hand_over(ctx, last, None)
            return Turn([Reply(_("Please type your question and I will pass it to the "
                                 "commune's team."))], Conversation(NAME, "ask", {}))
        if state is not None and state.step == "hamlet":
            if step == "commune" and value in {c.code for c in ctx.services.settings.communes}:
                state.data["commune"] = value
            elif step == "hamlet" and value in self._hamlets(ctx, state):
                return await self._chosen_hamlet(ctx, state, value)
            return stay([self._hamlet_question(ctx, state)], state)
        return Turn([welcome(service)], None)

    async def _typed_hamlet(self, ctx: Ctx, state: Conversation, reading: Reading | None) -> Turn:
        typed = fold(ctx.text)
        hamlets = self._hamlets(ctx, state)
        matches = [code for code, name in hamlets.items()
                   if typed and (typed == code.lower() or typed in fold(name))]
        if len(matches) == 1:
            return await self._chosen_hamlet(ctx, state, matches[0])
        if reading is not None and reading.outcome not in (Outcome.GREET, Outcome.THANKS):
            # A question typed while we wait for the hamlet is kept and handled right after.
            state.data.setdefault("later", []).append(reading.text)
            kept = Reply(_("I have noted this question and will answer it as soon as you have "
                           "chosen the hamlet."))
            return _warned(reading, stay([kept, self._hamlet_question(ctx, state)], state))
        return stay([Reply(_("Please choose the hamlet where Anh/Chị lives.")),
                     self._hamlet_question(ctx, state)], state)

    async def _chosen_hamlet(self, ctx: Ctx, state: Conversation, hamlet: str) -> Turn:
        service = ctx.services.helpdesk
        await service.set_home(ctx.msg.channel, ctx.msg.user_id, hamlet)
        turn = await self._send(ctx, state.data.get("question", ""), hamlet, None)
        chosen = await service.chosen_language(ctx.msg.channel, ctx.msg.user_id)
        for text in state.data.get("later", []):
            later = await self._question(ctx, service.read(text, chosen, current_language()))
            turn = Turn(turn.replies + later.replies, later.state)
        return turn

    def _hamlets(self, ctx: Ctx, state: Conversation | None) -> dict[str, str]:
        """Hamlets to choose from: of the chosen commune, or of all when there is one commune."""
        communes = ctx.services.settings.communes
        chosen = state.data.get("commune") if state is not None else None
        if chosen is None and len(communes) == 1:
            chosen = communes[0].code
        return {h.code: h.name for c in communes if chosen in (None, c.code) for h in c.hamlets}

    def _hamlet_question(self, ctx: Ctx, state: Conversation | None) -> Reply:
        communes = ctx.services.settings.communes
        if len(communes) > 1 and (state is None or "commune" not in state.data):
            # A province has too many hamlets for one keyboard: the commune comes first.
            rows = [[opt(c.name, NAME, "commune", c.code)] for c in communes]
            return Reply(_("Which commune does Anh/Chị live in?"), rows)
        buttons = [opt(name, NAME, "hamlet", code)
                   for code, name in self._hamlets(ctx, state).items()]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        return Reply(_("Which hamlet does Anh/Chị live in? So the right person answers."), rows)


def _warned(reading: Reading, turn: Turn) -> Turn:
    """Put the ID warning first when a number was cut out of the message."""
    if reading.had_id:
        turn.replies.insert(0, Reply(id_warning()))
    return turn


def _remember(turn: Turn, data: dict[str, Any]) -> Turn:
    """Keep the conversation's language and address in the state the turn leaves."""
    kept = {key: value for key, value in data.items() if value}
    if not kept:
        return turn
    state = turn.state or Conversation(NAME, "idle", {})
    state.data.update(kept)
    return Turn(turn.replies, state, turn.then)


def forwarded_question(member: Member, question_id: int, place: str, text: str) -> Reply:
    """The question as a volunteer or officer receives it, in their own language."""
    with use_language(member.language):
        body = _("Question no. {id} from a citizen ({place}):\n“{text}”\nChoose Answer to reply; "
                 "your answer goes back to them.").format(id=question_id, place=place, text=text)
        return Reply(body, [[Option(_("Answer"), f"ans:pick:{question_id}")]],
                     to=(member.channel, member.external_id), replace=False)
