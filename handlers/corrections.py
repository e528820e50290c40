"""Correct or undo one of one's own recent entries."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_datetime
from bot.messages import Reply
from bot.models import Conversation, Entry
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.menu import cancel_row

NAME = "fix"


def _entry_label(ctx: Ctx, entry: Entry) -> str:
    assert ctx.member is not None
    tz = ctx.services.settings.commune(ctx.member.commune_code).tz
    kind = _("Activation") if entry.kind == "activation" else _("Visit")
    return f"{kind} · {entry.head_name} · {fmt_datetime(entry.recorded_at.astimezone(tz))}"


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
            rows = [[opt(_entry_label(ctx, e), NAME, "pick", f"{e.kind[0]}{e.id}")]
                    for e in entries]
            return [Reply(_("Which entry do you want to correct or undo?"),
                          rows + [cancel_row()])]
        entry = await self._entry(ctx, state)
        if entry is None:
            state.step = "pick"
            return await self.prompt(ctx, state)
        rows = [[opt(_("Correct it"), NAME, "act", "edit"),
                 opt(_("Undo it"), NAME, "act", "undo")], cancel_row()]
        return [Reply(_("{entry}\nCorrect it (enter it again) or undo it?").format(
            entry=_entry_label(ctx, entry)), rows)]

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None
        _flow, step, value = parse_option(ctx.option)
        if state.step == "pick":
            if step == "pick" and value[:1] in ("a", "v") and value[1:].isdigit():
                state.data = {"kind": "activation" if value[0] == "a" else "visit",
                              "id": int(value[1:])}
                if await self._entry(ctx, state) is not None:
                    state.step = "act"
                    return stay(await self.prompt(ctx, state), state)
                state.data = {}
            return await self._reprompt(ctx, state, _("Please tap one of your entries."))
        entry = await self._entry(ctx, state)
        if entry is None or step != "act":
            state.step = "pick"
            return await self._reprompt(ctx, state, _("Please tap one of the buttons."))
        if value == "undo":
            try:
                await ctx.services.records.undo(ctx.member, entry.kind, entry.id)
            except Refusal as refusal:
                return Turn([Reply(str(refusal))], None)
            return Turn([Reply(_("✅ Removed: {entry}.").format(
                entry=_entry_label(ctx, entry)))], None)
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
