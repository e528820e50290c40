"""Officers send a short announcement (optionally with a picture) to the commune's citizens,
its volunteers, or one hamlet, after seeing how many people it will reach."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_int, ngettext, use_language
from bot.messages import Kind, Option, Reply
from bot.models import Conversation, Role
from bot.services.announcements import MAX_TEXT_CHARS, Audience
from bot.textnorm import fold, parse_yes_no
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.menu import cancel_row

NAME = "ann"


def audience_label(ctx: Ctx, audience: str, hamlet_code: str | None) -> str:
    """Who an announcement goes to, in words."""
    if audience == Audience.CITIZENS:
        return _("citizens who have written to the bot")
    if audience == Audience.VOLUNTEERS:
        return _("the commune's volunteers")
    found = ctx.services.settings.hamlet(hamlet_code or "")
    return _("{hamlet}: its volunteers and citizens").format(
        hamlet=found[1].name if found else hamlet_code)


def people(n: int) -> str:
    return ngettext("{n} person", "{n} people", n).format(n=fmt_int(n))


class AnnounceFlow:
    """audience → (hamlet) → write → confirm (with the count) → queued."""

    name = NAME
    takes_photos = True

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        member = ctx.member
        if member is None or member.role is not Role.OFFICER:
            return Turn([Reply(_("Only commune officers can send announcements."))], None)
        state = Conversation(NAME, "audience", {})
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        assert ctx.member is not None and ctx.member.commune_code is not None
        commune = ctx.services.settings.commune(ctx.member.commune_code)
        service = ctx.services.announcements
        if state.step == "audience":
            rows = []
            for audience in (Audience.CITIZENS, Audience.VOLUNTEERS):
                n = len(await service.recipients(commune.code, audience))
                label = audience_label(ctx, audience, None)
                rows.append([opt(f"{label[:1].upper()}{label[1:]} ({fmt_int(n)})",
                                 NAME, "to", audience.value)])
            rows.append([opt(_("One hamlet"), NAME, "to", Audience.HAMLET.value)])
            return [Reply(_("Who should receive the announcement?"), [*rows, cancel_row()])]
        if state.step == "hamlet":
            buttons = [opt(h.name, NAME, "hamlet", h.code) for h in commune.hamlets]
            rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
            return [Reply(_("Which hamlet?"), [*rows, cancel_row()])]
        target = audience_label(ctx, state.data["audience"], state.data.get("hamlet"))
        if state.step == "write":
            return [Reply(_("Type the announcement for {target} (at most {n} characters). You "
                            "may send a picture with it as its caption.").format(
                                target=target, n=MAX_TEXT_CHARS), [cancel_row()])]
        count = len(await service.recipients(commune.code, Audience(state.data["audience"]),
                                             state.data.get("hamlet")))
        lines = [_("To: {target}: {people}.").format(target=target, people=people(count)),
                 f"“{state.data['text']}”"]
        if state.data.get("photo"):
            lines.append(_("With 1 picture."))
        if count == 0:
            lines.append(_("Nobody can receive it yet."))
            return [Reply("\n".join(lines), [[opt(_("Choose others"), NAME, "again")],
                                             cancel_row()])]
        send = ngettext("Send to {n} person", "Send to {n} people", count).format(
            n=fmt_int(count))
        return [Reply("\n".join(lines), [[opt(send, NAME, "send", count)],
                                         [opt(_("Write again"), NAME, "edit")], cancel_row()])]

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None
        _flow, step, value = parse_option(ctx.option)
        if state.step == "audience":
            if step == "to" and value in {a.value for a in Audience}:
                state.data["audience"] = value
                state.step = "hamlet" if value == Audience.HAMLET else "write"
                return stay(await self.prompt(ctx, state), state)
            return stay(with_reason(await self.prompt(ctx, state),
                                    _("Please choose one of the options.")), state)
        if state.step == "hamlet":
            return await self._hamlet(ctx, state, step, value)
        if state.step == "confirm":
            if step == "again":
                return await self.begin(ctx, {})
            if step == "edit":
                state.step, state.data = "write", {k: v for k, v in state.data.items()
                                                   if k in ("audience", "hamlet")}
                return stay(await self.prompt(ctx, state), state)
            if step == "send" or (ctx.text and parse_yes_no(ctx.text)):
                return await self._send(ctx, state)
            return stay(with_reason(await self.prompt(ctx, state), _(
                "Nothing has been sent yet. Choose Send, or Write again.")), state)
        text = ctx.msg.text.strip() if ctx.msg.kind in (Kind.TEXT, Kind.OTHER) else ""
        if ctx.msg.photo_id:
            state.data["photo"] = [ctx.msg.channel, ctx.msg.photo_id]
        if not text:
            reason = (_("I have the picture. Now type the announcement.") if ctx.msg.photo_id
                      else _("Please type the announcement."))
            return stay(with_reason(await self.prompt(ctx, state), reason), state)
        if len(text) > MAX_TEXT_CHARS:
            return stay(with_reason(await self.prompt(ctx, state), _(
                "Please keep the announcement under {n} characters; it has {m}.").format(
                    n=MAX_TEXT_CHARS, m=len(text))), state)
        state.data["text"], state.step = text, "confirm"
        return stay(await self.prompt(ctx, state), state)

    async def _hamlet(self, ctx: Ctx, state: Conversation, step: str, value: str) -> Turn:
        assert ctx.member is not None
        commune = ctx.services.settings.commune(ctx.member.commune_code)
        names = {h.code: h.name for h in commune.hamlets}
        chosen = value if step == "hamlet" and value in names else None
        if chosen is None and ctx.text:
            typed = fold(ctx.text)
            found = [c for c, n in names.items() if typed == c.lower() or typed in fold(n)]
            chosen = found[0] if len(found) == 1 else None
        if chosen is None:
            return stay(with_reason(await self.prompt(ctx, state),
                                    _("Please choose one of the options.")), state)
        state.data["hamlet"], state.step = chosen, "write"
        return stay(await self.prompt(ctx, state), state)

    async def _send(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None
        photo = state.data.get("photo")
        try:
            announcement, recipients = await ctx.services.announcements.create(
                ctx.member, Audience(state.data["audience"]), state.data.get("hamlet"),
                state.data["text"], (photo[0], photo[1]) if photo else None)
        except Refusal as refusal:
            return stay(with_reason(await self.prompt(ctx, state), str(refusal)), state)
        done = Reply(_("✅ Announcement no. {id} is on its way to {people}. I will tell you how "
                       "many it reached and why any were not.").format(
                           id=announcement.id, people=people(announcement.recipients)),
                     [[Option(_("Main menu"), "nav:go:menu")]])
        commune = ctx.services.settings.commune(announcement.commune_code).name
        messages = []
        for person in recipients:
            language = await ctx.services.members.language_of(person.channel,
                                                              person.external_id)
            with use_language(language):
                text = _("📢 Announcement from {commune}:").format(commune=commune)
            # A picture's file id is only valid on the channel it was sent from.
            same = announcement.photo_channel == person.channel
            messages.append(Reply(f"{text}\n{announcement.text}",
                                  photo_id=announcement.photo_file_id if same else None,
                                  to=(person.channel, person.external_id),
                                  topic=announcement.topic, replace=False))
        return Turn([done, *messages], None)
