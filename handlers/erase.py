"""/xoadulieu: anyone (member or citizen) asks for their data to be erased, after confirming."""

from __future__ import annotations

from typing import Any

from bot.i18n import _
from bot.messages import Reply
from bot.models import Conversation
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.menu import cancel_row, commands_for

NAME = "del"


class EraseFlow:
    """Say what is erased and what is kept, then erase on a second, explicit yes."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        state = Conversation(NAME, "confirm", {})
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        if ctx.member is not None:
            text = _("Erase your data? Your name, your chat account, where your conversations "
                     "stand and your language choice will be erased, and you leave the team. "
                     "The activations and visits you logged stay in the commune's figures, which "
                     "must be reported, but no longer carry your name.")
        else:
            text = _("Erase Anh/Chị's data? The questions Anh/Chị sent, the answers to them, "
                     "the hamlet Anh/Chị chose and the language choice will be erased. Ratings "
                     "stay in the commune's satisfaction figure without any link to Anh/Chị.")
        return [Reply(text, [[opt(_("Yes, erase my data"), NAME, "confirm", "yes")],
                             cancel_row()])]

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        _flow, step, value = parse_option(ctx.option)
        if step != "confirm" or value != "yes":
            return stay(with_reason(await self.prompt(ctx, state),
                                    _("Please tap “Yes, erase my data”, or Cancel.")), state)
        await ctx.services.privacy.erase(ctx.msg.channel, ctx.msg.user_id)
        return Turn([Reply(_("✅ Your data has been erased. If you write again, I will treat "
                             "you as someone new."), commands=commands_for(None))], None)
