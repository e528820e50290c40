"""Officers enter the month's office-side figures: online dossiers, on-time rate and the rest."""

from __future__ import annotations

import re
from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_int, fmt_percent
from bot.messages import Option, Reply
from bot.models import Conversation, Role
from bot.reports.digest import OFFICE_INDICATORS
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.menu import cancel_row

NAME = "off"
_FRACTION = re.compile(r"^\s*(\d{1,9})\s*(?:/|trên|tren|of|tren tong|,|\s)\s*(\d{1,9})\s*$")


class OfficeFlow:
    """Pick an indicator, type done/total, repeat; figures are kept per month."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        if ctx.member is None or ctx.member.role is not Role.OFFICER:
            return Turn([Reply(_("Only commune officers can enter office indicators."))], None)
        state = Conversation(NAME, "pick", {})
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        assert ctx.member is not None and ctx.member.commune_code is not None
        month = ctx.services.digests.office_month(ctx.member.commune_code)
        if state.step == "pick":
            figures = await ctx.services.digests.reports.office_figures(
                ctx.member.commune_code, month)
            rows: list[list[Option]] = []
            for code, label in OFFICE_INDICATORS.items():
                fig = figures.get(code)
                value = (f"{fmt_int(fig.done)}/{fmt_int(fig.total)}" if fig else "—")
                rows.append([opt(f"{_(label)}: {value}", NAME, "pick", code)])
            rows.append([Option(_("Finished"), "nav:cancel:")])
            return [Reply(_("Office indicators for {month}. Choose one to enter or change it.")
                          .format(month=month), rows)]
        msgid = OFFICE_INDICATORS[state.data["indicator"]]
        label = _(msgid)
        return [Reply(_("{indicator} ({month}): type the count and the total, for example "
                        "45/60.").format(indicator=label, month=month), [cancel_row()])]

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None and ctx.member.commune_code is not None
        _flow, step, value = parse_option(ctx.option)
        if state.step == "pick":
            if step == "pick" and value in OFFICE_INDICATORS:
                state.step = "enter"
                state.data["indicator"] = value
                return stay(await self.prompt(ctx, state), state)
            return stay(with_reason(await self.prompt(ctx, state),
                                    _("Please choose an indicator.")), state)
        match = _FRACTION.match(ctx.text)
        if not match:
            return stay(with_reason(await self.prompt(ctx, state), _(
                "Please type two whole numbers: the count and the total, like 45/60.")), state)
        done, total = int(match.group(1)), int(match.group(2))
        indicator = state.data["indicator"]
        label_id = OFFICE_INDICATORS[indicator]
        try:
            await ctx.services.digests.set_office_figure(ctx.member, indicator, done, total)
        except Refusal as refusal:
            return stay(with_reason(await self.prompt(ctx, state), str(refusal)), state)
        state.step = "pick"
        del state.data["indicator"]
        # What this session saved, so that stopping can say so.
        state.data.setdefault("saved", {})[indicator] = [done, total]
        saved = _("✅ Saved: {indicator} {done}/{total} ({share}).").format(
            indicator=_(label_id), done=fmt_int(done), total=fmt_int(total),
            share=fmt_percent(done / total))
        # The receipt is its own message, so tapping the next indicator never edits it away.
        return stay([Reply(saved), *await self.prompt(ctx, state)], state)

    async def stopped(self, ctx: Ctx, state: Conversation) -> str | None:
        """Figures are saved one by one as they are typed: list the ones kept."""
        saved = state.data.get("saved") or {}
        if not saved:
            return None
        items = "; ".join(f"{_(OFFICE_INDICATORS[code])} {fmt_int(done)}/{fmt_int(total)}"
                          for code, (done, total) in saved.items())
        return _("Finished. Saved this time: {items}.").format(items=items)
