"""Volunteers and officers answer citizens' questions; the answer is relayed to the citizen."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_datetime, use_language
from bot.messages import Reply
from bot.models import Conversation
from bot.textnorm import parse_int
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.citizen import rating_row
from handlers.menu import cancel_row

NAME = "ans"


class AnswerFlow:
    """List open questions, pick one, type the answer."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        if "question" in data:
            assert ctx.member is not None
            number = parse_int(str(data["question"]))
            # Checked before anything of the question is shown: only one's own area's.
            question = (await ctx.services.helpdesk.question_for(ctx.member, number)
                        if number is not None else None)
            if question is None:
                return Turn([Reply(_("That question is not for your hamlet or commune."))], None)
            if question.status != "open":
                return Turn([Reply(_("Someone has already answered this question."))], None)
            state = Conversation(NAME, "reply", {"question": question.id})
        else:
            state = Conversation(NAME, "pick", {})
        replies = await self.prompt(ctx, state)
        return Turn(replies, state if replies[0].options else None)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        assert ctx.member is not None
        helpdesk = ctx.services.helpdesk
        if state.step == "pick":
            questions = await helpdesk.open_questions(ctx.member)
            if not questions:
                return [Reply(_("No citizen is waiting for an answer. Thank you!"))]
            tz = ctx.services.settings.commune(str(ctx.member.commune_code)).tz
            rows = [[opt(f"#{q.id} · {fmt_datetime(q.created_at.astimezone(tz))} · "
                         f"{q.text[:40]}", NAME, "pick", q.id)] for q in questions]
            return [Reply(_("Citizens waiting for an answer (oldest first):"),
                          rows + [cancel_row()])]
        question = await helpdesk.question_for(ctx.member, int(state.data["question"]))
        text = question.text if question else ""
        return [Reply(_("Type your answer to question no. {id}:\n“{text}”").format(
            id=state.data["question"], text=text), [cancel_row()])]

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None
        _flow, step, value = parse_option(ctx.option)
        number = parse_int(value) if step == "pick" else None
        if number is not None:
            return await self.begin(ctx, {"question": number})
        if state.step == "pick" or not ctx.text:
            reason = (_("Please choose one of the options.") if state.step == "pick"
                      else _("Please type the answer as text."))
            return stay(with_reason(await self.prompt(ctx, state), reason), state)
        helpdesk = ctx.services.helpdesk
        try:
            question = await helpdesk.answer(ctx.member, int(state.data["question"]), ctx.text)
        except Refusal as refusal:
            return Turn([Reply(str(refusal))], None)
        language = await ctx.services.members.language_of(question.channel, question.external_id)
        with use_language(language):
            relay = Reply(_("A member of the commune's team answers your question:\n{answer}")
                          .format(answer=ctx.text.strip()) + "\n\n" + _("Was this helpful?"),
                          [rating_row(f"q:{question.id}")],
                          to=(question.channel, question.chat_id), replace=False)
        return Turn([Reply(_("✅ Your answer was sent to the citizen.")), relay], None)
