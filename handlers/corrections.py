"""Correct or undo one of one's own recent entries."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_date, fmt_datetime, fmt_int
from bot.messages import Reply
from bot.models import Conversation, Entry
from bot.services.records import TOPICS
from bot.textnorm import parse_int, parse_yes_no
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.menu import cancel_row

NAME = "fix"


def _entry_label(entry: Entry) -> str:
    """Short, for a button: kind and household."""
    kind = _("Activation") if entry.kind == "activation" else _("Visit")
    return f"{kind} · {entry.head_name}"


def _entry_details(ctx: Ctx, entry: Entry) -> str:
    """Everything the entry recorded, so the right one is changed."""
    assert ctx.member is not None
    tz = ctx.services.settings.commune(ctx.member.commune_code).tz
    if entry.kind == "activation":
        what = _("level 2: {level2}, activated: {activated}, {capable}").format(
            level2=fmt_int(entry.level2_registered), activated=fmt_int(entry.activated),
            capable=_("can use it") if entry.household_capable else _("cannot use it yet"))
    else:
        what = ", ".join(_(TOPICS[t]) for t in entry.topics if t in TOPICS)
        if entry.follow_up_on is not None:
            what += "; " + _("follow-up on {date}").format(date=fmt_date(entry.follow_up_on))
    return (f"{_entry_label(entry)} ({entry.household_code}) · {what} · "
            f"{fmt_datetime(entry.recorded_at.astimezone(tz))}")


class CorrectionFlow:
    """Pick a recent entry, then correct it (re-enter it) or undo it."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        state = Conversation(NAME, "pick", {})
        replies = await self.prompt(ctx, state)
        return Turn(replies, state if replies[0].options else None)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        assert ctx.member is not None
        if state.step == "pick":
            entries = await ctx.services.records.recent(ctx.member)
            if not entries:
                return [Reply(_("You have no entries from the last {n} days to correct.").format(
                    n=ctx.services.settings.bot.correction_window_days))]
            lines = [_("Which entry do you want to correct or undo? Choose it or type its number.")]
            lines += [f"{n}. {_entry_details(ctx, e)}" for n, e in enumerate(entries, start=1)]
            rows = [[opt(f"{n}. {_entry_label(e)}", NAME, "pick", f"{e.kind[0]}{e.id}")]
                    for n, e in enumerate(entries, start=1)]
            return [Reply("\n".join(lines), rows + [cancel_row()])]
        entry = await self._entry(ctx, state)
        if entry is None:
            state.step = "pick"
            return await self.prompt(ctx, state)
        if state.step == "undo":
            rows = [[opt(_("Yes, remove it"), NAME, "undo", "yes"),
                     opt(_("No, keep it"), NAME, "undo", "no")], cancel_row()]
            return [Reply(_("Remove this entry? It will no longer count.\n{entry}").format(
                entry=_entry_details(ctx, entry)), rows)]
        rows = [[opt(_("Correct it"), NAME, "act", "edit"),
                 opt(_("Undo it"), NAME, "act", "undo")], cancel_row()]
        return [Reply(_("{entry}\nCorrect it (enter it again) or undo it?").format(
            entry=_entry_details(ctx, entry)), rows)]

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None
        _flow, step, value = parse_option(ctx.option)
        if state.step == "pick":
            typed = parse_int(ctx.text) if ctx.text else None
            if typed is not None:  # the entry's number, typed
                entries = await ctx.services.records.recent(ctx.member)
                if 1 <= typed <= len(entries):
                    chosen = entries[typed - 1]
                    step, value = "pick", f"{chosen.kind[0]}{chosen.id}"
            number = parse_int(value[1:]) if step == "pick" else None
            if value[:1] in ("a", "v") and number is not None:
                state.data = {"kind": "activation" if value[0] == "a" else "visit",
                              "id": number}
                if await self._entry(ctx, state) is not None:
                    state.step = "act"
                    return stay(await self.prompt(ctx, state), state)
                state.data = {}
            return await self._reprompt(ctx, state, _("Please choose one of your entries."))
        entry = await self._entry(ctx, state)
        if state.step == "undo" and entry is not None:
            answer = {"yes": True, "no": False}.get(value) if step == "undo" else \
                parse_yes_no(ctx.text)
            if answer is None:
                return await self._reprompt(ctx, state, _("Please choose one of the options."))
            if not answer:
                return Turn([Reply(_("Nothing changed; the entry stays."))], None)
            try:
                await ctx.services.records.undo(ctx.member, entry.kind, entry.id)
            except Refusal as refusal:
                return Turn([Reply(str(refusal))], None)
            return Turn([Reply(_("✅ Removed: {entry}.").format(
                entry=_entry_details(ctx, entry)))], None)
        if entry is None or step != "act":
            state.step = "pick" if entry is None else state.step
            return await self._reprompt(ctx, state, _("Please choose one of the options."))
        if value == "undo":
            state.step = "undo"
            return stay(await self.prompt(ctx, state), state)
        target = "act" if entry.kind == "activation" else "vis"
        return Turn([], None, then=(target, {"household": entry.household_id,
                                             "replaces": entry.id}))

    async def _reprompt(self, ctx: Ctx, state: Conversation, reason: str) -> Turn:
        return stay(with_reason(await self.prompt(ctx, state), reason), state)

    async def _entry(self, ctx: Ctx, state: Conversation) -> Entry | None:
        assert ctx.member is not None
        if "kind" not in state.data:
            return None
        return await ctx.services.records.find_recent(ctx.member, state.data["kind"],
                                                      int(state.data["id"]))
