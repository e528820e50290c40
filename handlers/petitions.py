"""Officers (and the volunteers given one) follow citizens' petitions: list, assign, answer,
close. Province officers read only."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _, fmt_date, use_language
from bot.messages import Option, Reply
from bot.models import Conversation, Member
from bot.services.feedback import FeedbackService, parse_ref
from bot.textnorm import parse_int
from handlers.base import Ctx, Turn, opt, parse_option, stay, with_reason
from handlers.feedback import status_label
from handlers.menu import cancel_row
from storage.feedback import Petition

NAME = "pad"


def _place(ctx: Ctx, petition: Petition) -> str:
    found = ctx.services.settings.hamlet(petition.hamlet_code or "")
    return found[1].name if found else petition.commune_code


class PetitionDesk:
    """list → one petition → take / give / answer / close."""

    name = NAME

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        assert ctx.member is not None
        state = Conversation(NAME, "list", {})
        if "ref" in data or "id" in data:
            service = ctx.services.feedback
            try:
                petition = (await service.find_for(ctx.member, data["ref"]) if "ref" in data
                            else await service.get_for(ctx.member, int(data["id"])))
            except Refusal as refusal:
                return Turn(with_reason(await self.prompt(ctx, state), str(refusal)),
                            state)
            state = Conversation(NAME, "show", {"id": petition.id})
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        assert ctx.member is not None
        service = ctx.services.feedback
        if state.step == "list":
            return [await self._list(ctx, ctx.member, service)]
        petition = await service.get_for(ctx.member, int(state.data["id"]))
        if state.step == "give":
            people = await service.assignees(ctx.member, petition)
            rows = [[opt(f"{p.display_name or p.id} · " + (
                _("volunteer") if p.hamlet_code else _("officer")), NAME, "to", p.id)]
                for p in people]
            return [Reply(_("Who will handle petition {ref}?").format(ref=petition.ref),
                          [*rows, cancel_row()])]
        if state.step == "answer":
            return [Reply(_("Type the answer to petition {ref}. It goes to the citizen as "
                            "you write it.").format(ref=petition.ref), [cancel_row()])]
        return await self._show(ctx, ctx.member, petition)

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        assert ctx.member is not None
        member, service = ctx.member, ctx.services.feedback
        _flow, step, value = parse_option(ctx.option)
        ref = parse_ref(ctx.text) if ctx.text else None
        try:
            if step == "list":
                state = Conversation(NAME, "list", {})
            elif step == "pick" and parse_int(value) is not None or ref is not None:
                petition = (await service.find_for(member, ref) if ref is not None
                            else await service.get_for(member, int(parse_int(value) or 0)))
                state = Conversation(NAME, "show", {"id": petition.id})
            elif state.step == "answer" and ctx.text:
                return await self._answer(ctx, member, state)
            elif state.step == "list" or "id" not in state.data:
                return stay(with_reason(await self.prompt(ctx, state),
                                        _("Please choose one of the options.")), state)
            else:
                return await self._act(ctx, member, state, step, value)
        except Refusal as refusal:
            return Turn([Reply(str(refusal))], None)
        return stay(await self.prompt(ctx, state), state)

    async def _act(self, ctx: Ctx, member: Member, state: Conversation, step: str,
                   value: str) -> Turn:
        service = ctx.services.feedback
        petition_id = int(state.data["id"])
        if step == "take":
            petition, _who = await service.assign(member, petition_id, member.id)
            saved = _("✅ You are handling petition {ref}.").format(ref=petition.ref)
            return stay(with_reason(await self.prompt(ctx, state), saved), state)
        if step == "give":
            state.step = "give"
        elif step == "to" and (to := parse_int(value)) is not None and state.step == "give":
            petition, assignee = await service.assign(member, petition_id, to)
            state.step = "show"
            saved = _("✅ Petition {ref} is now with {name}.").format(
                ref=petition.ref, name=assignee.display_name)
            notice = assigned_notice(assignee, petition, _place(ctx, petition))
            return stay([*with_reason(await self.prompt(ctx, state), saved), *notice], state)
        elif step == "answer":
            state.step = "answer"
        elif step == "close":
            petition = await service.close(member, petition_id)
            relay = await _to_citizen(ctx, petition, closed=True)
            return Turn([Reply(_("✅ Petition {ref} is closed; the citizen has been told.")
                               .format(ref=petition.ref)), relay], None)
        else:
            return stay(with_reason(await self.prompt(ctx, state),
                                    _("Please choose one of the options.")), state)
        return stay(await self.prompt(ctx, state), state)

    async def _answer(self, ctx: Ctx, member: Member, state: Conversation) -> Turn:
        service = ctx.services.feedback
        petition = await service.answer(member, int(state.data["id"]), ctx.text)
        state.step = "show"
        sent = _("✅ Your answer to petition {ref} was sent to the citizen.").format(
            ref=petition.ref)
        replies = with_reason(await self.prompt(ctx, state), sent)
        return stay([*replies, await _to_citizen(ctx, petition, closed=False)], state)

    async def _list(self, ctx: Ctx, member: Member, service: FeedbackService) -> Reply:
        petitions = await service.visible(member)
        if not petitions:
            return Reply(_("No petition is waiting. Thank you!"))
        rows = []
        for p in petitions:
            late = " ⚠️" if service.is_overdue(p) else ""
            rows.append([opt(_("{ref} · {place} · by {day}").format(
                ref=p.ref, place=_place(ctx, p), day=fmt_date(p.due_on)) + late,
                NAME, "pick", p.id)])
        return Reply(_("Petitions not closed yet, most urgent first (⚠️ past the time limit):"),
                     [*rows, cancel_row()])

    async def _show(self, ctx: Ctx, member: Member, petition: Petition) -> list[Reply]:
        service = ctx.services.feedback
        lines = [_("Petition {ref} ({place}), received {day}:").format(
                     ref=petition.ref, place=_place(ctx, petition),
                     day=fmt_date(service.received_on(petition))),
                 f"“{petition.text}”",
                 _("Status: {status}.").format(
                     status=status_label(petition, service.is_overdue(petition))),
                 _("Time limit: {day}.").format(day=fmt_date(petition.due_on))]
        if petition.assignee_id is not None:
            assignee = await ctx.services.repos.members.member_by_id(petition.assignee_id)
            lines.append(_("Handled by: {name}.").format(
                name=assignee.display_name if assignee else petition.assignee_id))
        if petition.answer:
            lines.append(_("Answer sent: {answer}").format(answer=petition.answer))
        rows: list[list[Option]] = []
        if service.can_manage(member, petition) and petition.is_open:
            rows.append([opt(_("I will handle it"), NAME, "take"),
                         opt(_("Give to someone"), NAME, "give")])
        if service.can_answer(member, petition):
            rows.append([opt(_("Answer"), NAME, "answer")])
        if service.can_manage(member, petition) and petition.is_open:
            rows.append([opt(_("Close"), NAME, "close")])
        rows.append([opt(_("All petitions"), NAME, "list"), *cancel_row()])
        replies = []
        if petition.photo_file_id and petition.channel == ctx.msg.channel:
            replies.append(Reply(_("Photo of petition {ref}").format(ref=petition.ref),
                                 photo_id=petition.photo_file_id, replace=False))
        return [*replies, Reply("\n".join(lines), rows)]


def assigned_notice(member: Member, petition: Petition, place: str) -> list[Reply]:
    """What the person given a petition receives."""
    with use_language(member.language):
        return [Reply(_("You have been given petition {ref} ({place}) to handle by {day}:\n"
                        "“{text}”").format(ref=petition.ref, place=place,
                                          day=fmt_date(petition.due_on), text=petition.text),
                      [[Option(_("Open"), f"{NAME}:pick:{petition.id}")]],
                      to=(member.channel, member.external_id), replace=False)]


async def _to_citizen(ctx: Ctx, petition: Petition, *, closed: bool) -> Reply:
    """The answer (or the closing) relayed to the citizen who sent the petition."""
    language = await ctx.services.members.language_of(petition.channel, petition.external_id)
    with use_language(language):
        if closed:
            text = _("Your petition {ref} has been handled and is now closed. Thank you for "
                     "telling the commune.").format(ref=petition.ref)
        else:
            text = _("The commune answers your petition {ref}:\n{answer}").format(
                ref=petition.ref, answer=petition.answer)
    return Reply(text, to=(petition.channel, petition.chat_id), replace=False)
