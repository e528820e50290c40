"""Citizens send a phản ánh/kiến nghị (text, optionally a photo), get a reference, follow it."""

from __future__ import annotations

import re
from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_date, use_language
from bot.messages import Kind, Option, Reply
from bot.models import Conversation, Member
from bot.services.feedback import STATUS_LABELS, FeedbackService, parse_ref
from bot.textnorm import fold, parse_yes_no
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.menu import cancel_row
from storage.feedback import Petition

NAME = "pa"
# Typed words that open the flow (folded, whole words); "gop y" is how people say feedback.
_WORDS = re.compile(r"\b(?:phan anh|kien nghi|gop y|khieu nai|petition|feedback)\b")
_LOOKUP = re.compile(r"\b(?:tra cuu|tracuu|tinh trang|status)\b")
_SEND_WORDS = {"gui", "gui di", "send", "xong", "het", "dong y"}


def wants_feedback(text: str) -> bool:
    """True when a citizen's typed text is about sending or following a petition."""
    folded = fold(text)
    # A look-up word alone is not about petitions: "tra cứu hồ sơ" (a dossier) and "tình trạng
    # hôn nhân" (marital status) are the help desk's questions.
    return bool(_WORDS.search(folded) or parse_ref(text))


def status_label(petition: Petition, overdue: bool) -> str:
    """Where a petition stands, in words a citizen understands."""
    label = _(STATUS_LABELS[petition.status])
    return label + (" " + _("(past its time limit)") if overdue else "")


def citizen_view(petition: Petition, service: FeedbackService) -> str:
    """A petition as its sender sees it when asking for its status."""
    overdue = service.is_overdue(petition)
    lines = [_("Petition no. {ref}, sent on {day}:").format(
                 ref=petition.ref, day=fmt_date(service.received_on(petition))),
             f"“{_short(petition.text, 300)}”",
             _("Status: {status}.").format(status=status_label(petition, overdue))]
    if petition.is_open:
        lines.append(_("To be handled by {day}.").format(day=fmt_date(petition.due_on)))
    if petition.answer:
        lines.append(_("The commune's answer: {answer}").format(answer=petition.answer))
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class FeedbackFlow:
    """write → (hamlet) → confirm → sent; and status look-ups by the sender only."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        state = Conversation(NAME, "write", {"text": "", "photo": ""})
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        if state.step == "hamlet":
            return [self._hamlet_question(ctx, state)]
        if state.step == "confirm":
            return [self._confirmation(ctx, state)]
        if state.data.get("photo") and not state.data.get("text"):
            return [Reply(_("I have the photo. Please also write a few lines: what happened, "
                            "and where."), [cancel_row()])]
        return [Reply(_(
            "Please write what Anh/Chị wants to report or propose to the commune (phản ánh, "
            "kiến nghị): what happened, where, since when. Anh/Chị may add one photo.\n"
            "Do not write ID numbers, passcodes or OTP codes."),
            [[opt(_("My petitions"), NAME, "mine")], cancel_row()])]

    async def handle(self, ctx: Ctx, state: Conversation | None) -> Turn:
        """Input inside the flow, or a citizen's typed words/buttons about petitions."""
        _flow, step, value = parse_option(ctx.option)
        if step == "mine":
            return Turn([await self._mine(ctx)], state)
        if step == "show":
            return Turn([await self._status(ctx, value)], state)
        if step == "new" or state is None and ctx.msg.kind is Kind.OPTION:
            return await self.begin(ctx, {})
        if state is None:
            return await self._typed(ctx)
        if state.step == "hamlet":
            return await self._hamlet(ctx, state, step, value)
        if state.step == "confirm":
            said = parse_yes_no(ctx.text) if ctx.text else None
            if step == "send" or said or fold(ctx.text) in _SEND_WORDS:
                return await self._submit(ctx, state)
            if step == "again":
                return await self.begin(ctx, {})
            if said is False:
                return stay(with_reason(await self.prompt(ctx, state), _(
                    "Nothing has been sent yet.")), state)
        return await self._content(ctx, state)

    async def _typed(self, ctx: Ctx) -> Turn:
        """Text typed outside the flow: a status question, or the start of a petition."""
        ref = parse_ref(ctx.text)
        if ref is not None:
            return Turn([await self._status(ctx, ref)], None)
        folded = fold(ctx.text)
        if _LOOKUP.search(folded):
            return Turn([await self._mine(ctx)], None)
        turn = await self.begin(ctx, {})
        # "Tôi xin phản ánh: đường vào xóm bị ngập" already holds the content.
        rest = _WORDS.sub(" ", folded)
        if len(rest.split()) >= 4 and turn.state is not None:
            return await self._content(ctx, turn.state)
        return turn

    async def _content(self, ctx: Ctx, state: Conversation) -> Turn:
        """Text (fragments are joined) and a photo (the latest one counts) of the petition."""
        if ctx.msg.photo_id:
            state.data["photo"] = ctx.msg.photo_id
        text = ctx.msg.text.strip() if ctx.msg.kind in (Kind.TEXT, Kind.OTHER) else ""
        if text:
            joined = f"{state.data.get('text', '')}\n{text}".strip()
            state.data["text"] = joined
        if not text and not ctx.msg.photo_id:
            return stay(with_reason(await self.prompt(ctx, state), _(
                "I can read text and photos here.")), state)
        if not state.data.get("text"):
            return stay(await self.prompt(ctx, state), state)
        if state.step == "write":
            home = await ctx.services.feedback.home_of(ctx.msg.channel, ctx.msg.user_id)
            hamlets = self._hamlets(ctx, state)
            if home is None and len(hamlets) == 1:
                home = next(iter(hamlets))
            state.data["hamlet"] = home
            state.step = "confirm" if home else "hamlet"
        return stay(await self.prompt(ctx, state), state)

    def _confirmation(self, ctx: Ctx, state: Conversation) -> Reply:
        lines = [_("Please check your petition:"), f"“{_short(state.data['text'], 1500)}”"]
        if state.data.get("photo"):
            lines.append(_("With 1 photo."))
        found = ctx.services.settings.hamlet(state.data["hamlet"])
        if found is not None:
            lines.append(_("Place: {hamlet}, {commune}.").format(hamlet=found[1].name,
                                                                 commune=found[0].name))
        lines.append(_("Choose Send to send it to the commune. To add something, just type it "
                       "or send a photo."))
        return Reply("\n".join(lines), [[opt(_("Send"), NAME, "send")],
                                        [opt(_("Write again"), NAME, "again")], cancel_row()])

    async def _submit(self, ctx: Ctx, state: Conversation) -> Turn:
        service = ctx.services.feedback
        try:
            submitted = await service.submit(
                channel=ctx.msg.channel, external_id=ctx.msg.user_id, chat_id=ctx.msg.chat_id,
                text=state.data.get("text", ""), photo_file_id=state.data.get("photo") or None,
                hamlet_code=state.data.get("hamlet"))
        except Refusal as refusal:
            state.step = "write"
            return stay(with_reason(await self.prompt(ctx, state), str(refusal)), state)
        petition = submitted.petition
        receipt = Reply(_(
            "✅ The commune has received your petition. Its number is {ref}.\n"
            "It will be handled within {days} working days, by {day}. The answer will come "
            "here.\nTo see how it stands, type: tra cứu {ref}").format(
                ref=petition.ref, days=ctx.services.settings.bot.petition_working_days,
                day=fmt_date(petition.due_on)), replace=False)
        place = self._place(ctx, petition)
        return Turn([receipt, *[r for m in submitted.recipients
                                for r in new_petition_notice(m, petition, place)]], None)

    async def _status(self, ctx: Ctx, ref: str) -> Reply:
        service = ctx.services.feedback
        petition = await service.own(ctx.msg.channel, ctx.msg.user_id, parse_ref(ref) or "")
        if petition is None:
            # The same answer whether the number does not exist or belongs to someone else.
            return Reply(_("I found no petition with the number {ref} among those sent from "
                           "this account.").format(ref=parse_ref(ref) or ref),
                         [[opt(_("My petitions"), NAME, "mine")]], replace=False)
        return Reply(citizen_view(petition, service), replace=False)

    async def _mine(self, ctx: Ctx) -> Reply:
        service = ctx.services.feedback
        petitions = await service.mine(ctx.msg.channel, ctx.msg.user_id)
        new = [opt(_("Send a new petition"), NAME, "new")]
        if not petitions:
            return Reply(_("Anh/Chị has not sent any petition from this account yet."), [new])
        rows = [[opt(f"{p.ref} · {status_label(p, service.is_overdue(p))}", NAME, "show",
                     p.ref)] for p in petitions]
        return Reply(_("Petitions sent from this account (newest first). Choose one to see it:"),
                     [*rows, new], replace=False)

    async def _hamlet(self, ctx: Ctx, state: Conversation, step: str, value: str) -> Turn:
        hamlets = self._hamlets(ctx, state)
        if step == "commune" and value in {c.code for c in ctx.services.settings.communes}:
            state.data["commune"] = value
            return stay(await self.prompt(ctx, state), state)
        chosen = value if step == "hamlet" and value in hamlets else None
        if chosen is None and ctx.text:
            typed = fold(ctx.text)
            matches = [code for code, name in hamlets.items()
                       if typed == code.lower() or typed in fold(name)]
            chosen = matches[0] if len(matches) == 1 else None
        if chosen is None:
            return stay(with_reason(await self.prompt(ctx, state), _(
                "Please choose the hamlet where Anh/Chị lives.")), state)
        state.data["hamlet"], state.step = chosen, "confirm"
        return stay(await self.prompt(ctx, state), state)

    def _hamlets(self, ctx: Ctx, state: Conversation) -> dict[str, str]:
        communes = ctx.services.settings.communes
        chosen = state.data.get("commune") or (communes[0].code if len(communes) == 1 else None)
        return {h.code: h.name for c in communes if c.code == chosen for h in c.hamlets}

    def _hamlet_question(self, ctx: Ctx, state: Conversation) -> Reply:
        communes = ctx.services.settings.communes
        if not self._hamlets(ctx, state):
            # A province has too many hamlets for one keyboard: the commune comes first.
            rows = [[opt(c.name, NAME, "commune", c.code)] for c in communes]
            return Reply(_("Which commune does Anh/Chị live in?"), [*rows, cancel_row()])
        buttons = [opt(name, NAME, "hamlet", code)
                   for code, name in self._hamlets(ctx, state).items()]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        return Reply(_("Which hamlet does Anh/Chị live in? So the petition reaches the right "
                       "people."), [*rows, cancel_row()])

    def _place(self, ctx: Ctx, petition: Petition) -> str:
        found = ctx.services.settings.hamlet(petition.hamlet_code or "")
        return found[1].name if found else ctx.services.settings.commune(
            petition.commune_code).name


def new_petition_notice(member: Member, petition: Petition, place: str) -> list[Reply]:
    """What an officer receives when a petition arrives: the text, the photo, a button."""
    with use_language(member.language):
        body = _("New petition {ref} from a citizen ({place}), to be handled by {day}:\n"
                 "“{text}”").format(ref=petition.ref, place=place,
                                    day=fmt_date(petition.due_on),
                                    text=_short(petition.text, 1500))
        replies = [Reply(body, [[Option(_("Open"), f"pad:pick:{petition.id}")]],
                         to=(member.channel, member.external_id), replace=False)]
        if petition.photo_file_id:
            replies.append(Reply(_("Photo of petition {ref}").format(ref=petition.ref),
                                 photo_id=petition.photo_file_id,
                                 to=(member.channel, member.external_id), replace=False))
    return replies
