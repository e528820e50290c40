"""Log a guidance visit: household → topics (several) → done or follow up on a date → saved."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_date
from bot.messages import Reply
from bot.models import Conversation, Household
from bot.services.parsers import parse_day
from bot.services.records import MAX_FOLLOW_UP_DAYS, TOPICS
from bot.textnorm import fold, parse_int, split_words
from handlers import household_step
from handlers.base import Ctx, Turn, opt, stay
from handlers.menu import cancel_row, next_actions
from handlers.progress_text import hamlet_progress_text

NAME = "vis"
_TOPIC_CODES = list(TOPICS)
_DONE_WORDS = {"xong", "done", "da xong", "ok", "luu", "save"}
_FOLLOW_WORDS = {"hen", "hen lai", "quay lai", "follow up", "followup", "later", "sau"}


class VisitFlow(household_step.HouseholdFlow):
    """The visit flow; its data holds household id, chosen topics and what it corrects."""

    name = NAME
    first_step = "topics"

    def intro(self, state: Conversation) -> str:
        return _("Log a guidance visit.")

    def initial_data(self) -> dict[str, Any]:
        return {"topics": []}

    async def step_prompt(self, ctx: Ctx, state: Conversation,
                          household: Household) -> list[Reply]:
        head = f"{household.head_name} ({household.code})"
        if state.step == "topics":
            chosen = state.data["topics"]
            rows = []
            for number, code in enumerate(_TOPIC_CODES, start=1):
                mark = "☑" if code in chosen else "☐"
                rows.append([opt(f"{mark} {number}. {_(TOPICS[code])}", NAME, "topics", code)])
            rows.append([opt(_("Done, all guided"), NAME, "topics", "=done"),
                         opt(_("Follow up later"), NAME, "topics", "=follow")])
            text = _("{household}: what did you guide? Choose every topic (or type their numbers, "
                     "e.g. 1 3), then tell how it ended.").format(household=head)
            return [Reply(text, rows + [cancel_row()])]
        assert ctx.member is not None
        today = ctx.services.records.today(ctx.member)
        choices = [(_("Tomorrow"), 1), (_("In 3 days"), 3), (_("In a week"), 7)]
        row = [opt(f"{label} ({fmt_date(today + timedelta(days=n))})", NAME, "date",
                   (today + timedelta(days=n)).isoformat()) for label, n in choices]
        text = _("{household}: when should someone come back? Choose a day, or type one: a date "
                 "like {example}, a weekday, “tomorrow” or “next week”.").format(
                     household=head, example=_example_day(today))
        return [Reply(text, [row[:2], row[2:], cancel_row()])]

    async def step_handle(self, ctx: Ctx, state: Conversation, household: Household,
                          value: str) -> Turn:
        if state.step == "topics":
            return await self._topics(ctx, state, household, value)
        return await self._date(ctx, state, household, value)

    async def _topics(self, ctx: Ctx, state: Conversation, household: Household,
                      value: str) -> Turn:
        chosen: list[str] = state.data["topics"]
        if value in TOPICS:
            if value in chosen:
                chosen.remove(value)
            else:
                chosen.append(value)
            return stay(await self.step_prompt(ctx, state, household), state)
        word = fold(ctx.text)
        numbers = [parse_int(w) for w in split_words(word)]
        if numbers and all(n is not None and 1 <= n <= len(_TOPIC_CODES) for n in numbers):
            for n in numbers:
                assert n is not None
                code = _TOPIC_CODES[n - 1]
                if code not in chosen:
                    chosen.append(code)
            return stay(await self.step_prompt(ctx, state, household), state)
        if value == "=done" or word in _DONE_WORDS:
            if not chosen:
                return await self.reprompt(ctx, state, _("Choose at least one topic."))
            return await self._save(ctx, state, household, None)
        if value == "=follow" or word in _FOLLOW_WORDS:
            if not chosen:
                return await self.reprompt(ctx, state, _("Choose at least one topic."))
            state.step = "date"
            return stay(await self.step_prompt(ctx, state, household), state)
        assert ctx.member is not None
        if chosen and ctx.text and parse_day(ctx.text, ctx.services.records.today(
                ctx.member), ahead=MAX_FOLLOW_UP_DAYS) is not None:  # "hẹn thứ 6"
            state.step = "date"
            return await self._date(ctx, state, household, "")
        return await self.reprompt(ctx, state, _(
            "Choose the topics you guided, or type their numbers (1 to {n}).").format(
                n=len(_TOPIC_CODES)))

    async def _date(self, ctx: Ctx, state: Conversation, household: Household,
                    value: str) -> Turn:
        assert ctx.member is not None
        today = ctx.services.records.today(ctx.member)
        day = parse_day(value or ctx.text, today, ahead=MAX_FOLLOW_UP_DAYS)
        if day is None:
            return await self.reprompt(ctx, state, _(
                "I could not read that date. Type it as day/month, for example {example}.")
                .format(example=_example_day(today)))
        try:
            ctx.services.records.check_follow_up(ctx.member, day)
        except Refusal as refusal:
            return await self.reprompt(ctx, state, str(refusal))
        return await self._save(ctx, state, household, day)

    async def _save(self, ctx: Ctx, state: Conversation, household: Household,
                    follow_up: date | None) -> Turn:
        assert ctx.member is not None
        try:
            await ctx.services.records.log_visit(
                ctx.member, household, topics=state.data["topics"], follow_up_on=follow_up,
                replaces=state.data.get("replaces"))
        except Refusal as refusal:
            return Turn([Reply(str(refusal))], None)
        topics = ", ".join(_(TOPICS[c]) for c in _TOPIC_CODES if c in state.data["topics"])
        text = _("✅ Visit saved: {household} — {topics}.").format(
            household=household.head_name, topics=topics)
        if follow_up:
            text += "\n" + _("Follow-up on {date}; I will remind you that day.").format(
                date=fmt_date(follow_up))
        progress = await hamlet_progress_text(ctx, household.hamlet_code)
        return Turn([Reply(text + "\n\n" + progress, next_actions())], None)


def _example_day(today: date) -> str:
    """A day/month a few days ahead, as an example of what to type."""
    return (today + timedelta(days=3)).strftime("%d/%m")
