"""Officers create one-time invites in the chat: role → hamlet → code."""

from __future__ import annotations

from typing import Any

from bot.i18n import _, fmt_date
from bot.messages import Reply
from bot.models import Conversation, Role
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.menu import cancel_row

NAME = "inv"


class InviteFlow:
    """Create an invite for a volunteer (of a hamlet) or an officer (of the commune)."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        if ctx.member is None or ctx.member.role is not Role.OFFICER:
            return Turn([Reply(_("Only commune officers can invite people."))], None)
        state = Conversation(NAME, "role", {})
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        assert ctx.member is not None
        if state.step == "role":
            return [Reply(_("Who are you inviting?"), [
                [opt(_("A hamlet volunteer"), NAME, "role", "volunteer"),
                 opt(_("A commune officer"), NAME, "role", "officer")], cancel_row()])]
        commune = ctx.services.settings.commune(ctx.member.commune_code)
        buttons = [opt(h.name, NAME, "hamlet", h.code) for h in commune.hamlets]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        return [Reply(_("Which hamlet will the volunteer work in?"), rows + [cancel_row()])]

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None
        _flow, step, value = parse_option(ctx.option)
        if state.step == "role" and step == "role" and value in ("volunteer", "officer"):
            if value == "officer":
                return await self._create(ctx, Role.OFFICER, None)
            state.step = "hamlet"
            return stay(await self.prompt(ctx, state), state)
        commune = ctx.services.settings.commune(ctx.member.commune_code)
        if state.step == "hamlet" and step == "hamlet" and value in {
                h.code for h in commune.hamlets}:
            return await self._create(ctx, Role.VOLUNTEER, value)
        return stay(with_reason(await self.prompt(ctx, state),
                                _("Please choose one of the options.")), state)

    async def _create(self, ctx: Ctx, role: Role, hamlet_code: str | None) -> Turn:
        assert ctx.member is not None
        invite = await ctx.services.members.create_invite(
            role, hamlet_code=hamlet_code, commune_code=ctx.member.commune_code,
            created_by=ctx.member)
        tz = ctx.services.settings.commune(ctx.member.commune_code).tz
        lines = [
            _("One-time invite code: {code}").format(code=invite.code),
            _("The person opens this bot and sends: /start {code}").format(code=invite.code),
        ]
        if ctx.msg.deep_link:
            lines.append(_("Or they open this link: {link}").format(
                link=ctx.msg.deep_link + invite.code))
        lines.append(_("The code works once and expires on {date}.").format(
            date=fmt_date(invite.expires_at.astimezone(tz))))
        return Turn([Reply("\n".join(lines))], None)
