"""The one entry point for every channel: an incoming message in, neutral replies out."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.choices import offered, resolve
from bot.errors import Refusal
from bot.i18n import _, use_language
from bot.messages import Incoming, Kind, Option, Reply
from bot.models import Conversation, Member, OpenedUpdate, Role
from bot.reports.jobs import digest_files, digest_replies
from bot.reports.outbox import Undelivered, to_payload
from bot.reports.periods import PeriodKind
from bot.reports.text import render_detail
from bot.services import Services
from bot.services.feedback import parse_ref
from bot.services.members import JoinStatus
from bot.services.parsers import Stop, stop_intent
from bot.textnorm import contains_citizen_id, fold
from handlers.activation import ActivationFlow, sentence_data
from handlers.announce import AnnounceFlow
from handlers.answers import AnswerFlow
from handlers.base import Ctx, Flow, Stoppable, Turn, parse_option, with_reason
from handlers.citizen import CitizenDesk, welcome
from handlers.corrections import CorrectionFlow
from handlers.erase import EraseFlow
from handlers.feedback import FeedbackFlow, wants_feedback
from handlers.household_step import STEP as HOUSEHOLD_STEP
from handlers.invite import InviteFlow
from handlers.menu import commands_for, help_text, main_menu
from handlers.office import OfficeFlow
from handlers.petitions import PetitionDesk
from handlers.progress_text import my_week_text
from handlers.visit import VisitFlow

log = logging.getLogger(__name__)
# How long a button stays usable: long enough for "Answer" under last week's question.
OFFER_LIFETIME = timedelta(days=30)

# Typed words (folded) that open a menu item when no flow is in progress; whole words only,
# so "huyện" does not read as "hủy".
_MENU_WORDS = tuple((target, re.compile(rf"\b(?:{pattern})\b")) for target, pattern in (
    ("act", r"kich ?hoat|activat\w*|dang ky muc 2"),
    ("vis", r"huong dan|tham ho|visit"),
    ("fix", r"sua|huy|fix|undo|correct"),
    ("me", r"tien do|progress|cua toi"),
    ("pa", r"phan anh|kien nghi|petitions?"),
    ("ann", r"thong bao|announce\w*"),
))
_COMMAND_ALIASES = {"activate": "act", "visit": "vis", "fix": "fix", "undo": "fix",
                    "invite": "inv", "me": "me", "menu": "menu", "help": "help",
                    "lang": "lang", "cancel": "cancel", "start": "start", "digest": "digest",
                    "office": "off", "questions": "ans", "phananh": "pa", "tracuu": "pa",
                    "huy": "cancel", "thoi": "cancel", "dung": "cancel", "dunglai": "cancel",
                    "thoat": "cancel", "link": "link", "lienket": "link", "kenh": "kenh",
                    "channel": "kenh", "announce": "ann", "thongbao": "ann",
                    "xoadulieu": "del", "erase": "del"}
_PROVINCE_TARGETS = {"me", "menu", "digest", "digest-full", "pa", "del"}
# "/digest full" (or "chi tiết") asks for the digest's full detail rather than the short one.
_DETAIL_WORDS = {"full", "chi tiet", "day du", "detail", "details"}
# How each channel is called when a member chooses where reminders and reports reach them.
_CHANNEL_NAMES = {"telegram": "Telegram", "zalo_bot": "Zalo", "zalo_oa": "Zalo OA",
                  "console": "Console"}
# Typed (folded) requests to erase one's data, for members and citizens alike.
_ERASE_WORDS = {"xoa du lieu", "xoa du lieu cua toi", "xoa thong tin cua toi", "erase my data",
                "delete my data"}


@dataclass
class _AfterCommit(Reply):
    """Replies that take long to make (a province digest): worked out once the update's
    transaction has committed, so the database stays free for everyone else meanwhile."""

    work: Callable[[], Awaitable[list[Reply]]] | None = None


def _citizen_id_warning(member: Member | None) -> str:
    # Two texts because Vietnamese addresses citizens as "Anh/Chị" and team members as "bạn".
    if member is None:
        return _("⚠️ Your message looked like a citizen ID number, so I did not keep it. "
                 "Never share ID numbers, passcodes or OTP codes in chats.")
    return _("⚠️ That looked like a citizen ID number, so I did not keep it. Never share ID "
             "numbers, passcodes or OTP codes in chats, and remind the people you help.")


class Router:
    """Runs each update as one unit of work: deduplicated, in the sender's language, atomic."""

    def __init__(self, services: Services, *,
                 reply_windows: dict[str, timedelta] | None = None) -> None:
        self.services = services
        # Channels that only let the bot write to someone for a while after they last wrote
        # (Zalo OA: 7 days); a message outside it is not queued and the sender is told.
        self.reply_windows = reply_windows or {}
        # Called after a commit that queued messages for other people (the outbox's kick).
        self.after_commit: list[Callable[[], None]] = []
        self.flows: dict[str, Flow] = {
            f.name: f for f in (ActivationFlow(), VisitFlow(), CorrectionFlow(), InviteFlow(),
                                OfficeFlow(), AnswerFlow(), PetitionDesk(), AnnounceFlow(),
                                EraseFlow())}
        self.desk = CitizenDesk()
        self.feedback = FeedbackFlow()

    async def handle(self, msg: Incoming) -> list[Reply]:
        """Process one update; a duplicate gets no reply and changes nothing."""
        repos = self.services.repos
        now = self.services.clock()
        try:
            async with self.services.db.transaction():
                # Several workers may serve one chat: its updates take turns, one whole
                # transaction each (PostgreSQL: an advisory lock released at commit).
                await self.services.db.lock_chat(msg.channel, msg.chat_id)
                pressed = msg.option if msg.kind is Kind.OPTION else None
                sender = await repos.open_update(msg.channel, msg.user_id, msg.update_id, now,
                                                 button=pressed)
                if not sender.claimed:
                    log.info("duplicate update %s/%s ignored", msg.channel, msg.update_id)
                    return []
                # Another process may have imported places since this worker read them.
                await self.services.follow_places(sender.places_version)
                await repos.channels.touch_contact(msg.channel, msg.user_id, now)
                language = self.services.members.language_from(sender.member,
                                                               sender.chosen_language)
                with use_language(language):
                    msg = _typed_choice(msg, sender.offered)
                    if msg.kind is Kind.OPTION and not await self._offered(msg, sender):
                        dispatched = await self._unknown_button(msg, sender)
                    else:
                        dispatched = await self._dispatch(msg, sender.member,
                                                          sender.conversation)
                    replies, queued = await self._queue_others(dispatched)
                    await repos.channels.set_offered_options(msg.channel, msg.user_id,
                                                             offered(replies), now)
                    await self._remember_options(msg.channel, msg.user_id, replies, now)
            if queued:
                for callback in self.after_commit:
                    callback()
            if not any(isinstance(r, _AfterCommit) for r in replies):
                return replies
            with use_language(language):
                done: list[Reply] = []
                for reply in replies:
                    if isinstance(reply, _AfterCommit) and reply.work is not None:
                        done += await reply.work()
                    else:
                        done.append(reply)
            async with self.services.db.transaction():
                await repos.channels.set_offered_options(msg.channel, msg.user_id,
                                                         offered(done), now)
                await self._remember_options(msg.channel, msg.user_id, done, now)
            return done
        except Exception as exc:
            # The transaction rolled back: nothing of this update was kept, so a retry is safe.
            log.exception("update %s/%s failed", msg.channel, msg.update_id)
            try:
                language = await self.services.members.language_of(msg.channel, msg.user_id)
            except Exception:  # the database itself may be what failed
                language = self.services.settings.bot.default_language
            with use_language(language):
                if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
                    return [Reply(_("The server has no space left, so nothing was saved. "
                                    "Please tell your commune officer and try again later."))]
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    return [Reply(_("The system is busy, so nothing was saved. Please try "
                                    "again in a minute."))]
                return [Reply(_("Sorry, something went wrong and nothing was saved. "
                                "Please try again, or send /cancel to start over."))]

    async def _queue_others(self, replies: list[Reply]) -> tuple[list[Reply], bool]:
        """Write replies meant for other people to the outbox (same transaction); keep the
        sender's. A member's message goes to the channel they prefer."""
        store = self.services.repos.channels
        outbox = self.services.repos.outbox
        now = self.services.clock()
        own: list[Reply] = []
        queued = False
        for reply in replies:
            if reply.to is None:
                own.append(reply)
                continue
            channel, chat_id = await self.services.accounts.reach(*reply.to)
            window = self.reply_windows.get(channel)
            last = await store.last_inbound(channel, chat_id) if window else None
            if window and (last is None or now - last > window):
                if reply.topic is not None:
                    # Counted with its topic (an announcement tells its officer), not attempted.
                    await outbox.queue_message(channel, chat_id, to_payload(reply), now,
                                               topic=reply.topic,
                                               not_sent=Undelivered.OUTSIDE_WINDOW)
                    queued = True  # the outbox run reports the topic's outcome
                    continue
                own.append(Reply(_("⚠️ This person last wrote to us more than {days} days ago, "
                                   "so the messenger does not let the bot write to them now. "
                                   "Please reach them another way (a call or a visit).")
                                 .format(days=window.days)))
                continue
            await outbox.queue_message(channel, chat_id, to_payload(reply), now,
                                       topic=reply.topic)
            if reply.options:
                # Their next typed number picks from this message's options.
                await store.set_offered_options(channel, chat_id,
                                                offered([replace(reply, to=None)]), now)
                await self._remember_options(channel, chat_id, [reply], now)
            queued = True
        return own, queued

    async def _offered(self, msg: Incoming, sender: OpenedUpdate) -> bool:
        """Button data is acted on only when the bot offered that value to this person.

        Navigation values (nav:…) do exactly what the typed commands do, which anyone may
        type, so they need no offer; everything else (question ids, households, ratings,
        entries) must have been on a button sent to this very person. The update's first
        reads looked up the pressed button and the options last shown; anything else (an
        offer older than those) is looked up now.
        """
        if msg.option.startswith("nav:") or msg.option in sender.offered_values:
            return True
        if sender.button_pressed == msg.option:
            return False
        return await self.services.repos.conversations.was_offered(msg.channel, msg.user_id, msg.option)

    async def _unknown_button(self, msg: Incoming, sender: OpenedUpdate) -> list[Reply]:
        """A button never offered to this person (forged or long expired): ask again."""
        log.warning("button data not offered to %s/%s refused", msg.channel, msg.user_id)
        member, state = sender.member, sender.conversation
        ctx = Ctx(self.services, msg, member)
        reason = _("That button is no longer valid. Please answer this one:")
        if member is not None and state is not None and state.flow in self.flows:
            return with_reason(await self.flows[state.flow].prompt(ctx, state), reason)
        if member is not None:
            return [main_menu(member, _("That button is no longer valid. "
                                        "What would you like to do?"))]
        if state is not None and state.step == "hamlet":
            return with_reason(await self.desk.prompt(ctx, state), reason)
        return [welcome(self.services.helpdesk, _(
            "That button is no longer valid. Type your question or choose a topic:"))]

    async def _remember_options(self, channel: str, person: str, replies: list[Reply],
                                now: datetime) -> None:
        """Note every button value sent to this person (on the channel it goes out on), at
        the moment the options shown are stored: a typed choice then finds its offer among
        those of the options last shown."""
        values = [v for reply in replies for v in reply.option_values()
                  if not v.startswith("nav:")]
        if values:
            await self.services.repos.conversations.remember_options(
                channel, person, values, now, now - OFFER_LIFETIME)

    async def _dispatch(self, msg: Incoming, member: Member | None,
                        state: Conversation | None) -> list[Reply]:
        ctx = Ctx(self.services, msg, member)

        # Citizens writing to the help desk go on: it cuts the number out, warns and still
        # answers the rest (a dossier code or a phone number is not taken for an ID there).
        to_desk = (member is None and msg.kind is Kind.TEXT and not msg.text.startswith("/")
                   and (state is None or state.flow == self.desk.name)
                   and not self._is_feedback(msg, state, ""))
        if msg.kind is not Kind.OPTION and not to_desk and contains_citizen_id(msg.text):
            replies = [Reply(_citizen_id_warning(member))]
            if state is not None and member is not None and state.flow in self.flows:
                replies += await self.flows[state.flow].prompt(ctx, state)
            elif member is None and state is not None and state.flow == self.feedback.name:
                replies += await self.feedback.prompt(ctx, state)
            return replies

        if msg.kind is Kind.TEXT and msg.text.startswith("/"):
            return await self._command(ctx, state)

        flow_name, step, value = parse_option(ctx.option)
        if msg.kind is Kind.OPTION and flow_name == "nav":
            return await self._nav(ctx, state, step, value)

        if msg.kind is Kind.TEXT and fold(msg.text).strip(" .!?") in _ERASE_WORDS:
            return await self._begin(ctx, "del")
        if state is not None and state.flow == "del":
            # The only flow citizens share with members.
            return await self._finish(ctx, await self.flows["del"].handle(ctx, state))

        if member is None:
            if self._is_feedback(msg, state, flow_name):
                own = state if state is not None and state.flow == self.feedback.name else None
                return await self._finish(ctx, await self.feedback.handle(ctx, own))
            desk_state = state if state is not None and state.flow == self.desk.name else None
            return await self._finish(ctx, await self.desk.handle(ctx, desk_state))

        if msg.kind is Kind.OPTION and flow_name == "ans" and step == "pick":
            # "Answer" under a forwarded question works whatever the member was doing.
            return await self._begin(ctx, "ans", {"question": value})
        if msg.kind is Kind.OPTION and flow_name == "pad" and step == "pick" and (
                state is None or state.flow != "pad"):
            # "Open" under a petition notice works whatever the member was doing.
            return await self._begin(ctx, "pad", {"id": value})

        if state is not None and state.flow in self.flows:
            if msg.kind is Kind.TEXT and await self._wants_to_stop(ctx, state):
                return await self._cancel(ctx, state)
            # A photo reaches only a flow that takes pictures (an announcement's).
            if msg.kind is Kind.OTHER and not (
                    msg.photo_id and getattr(self.flows[state.flow], "takes_photos", False)):
                return with_reason(await self.flows[state.flow].prompt(ctx, state),
                                   _("I can only read text messages for now."))
            if msg.kind is Kind.OPTION and flow_name != state.flow:
                return with_reason(await self.flows[state.flow].prompt(ctx, state),
                                   _("That button belongs to an earlier question. "
                                     "Please answer this one:"))
            turn = await self.flows[state.flow].handle(ctx, state)
            return await self._finish(ctx, turn)

        if msg.kind is Kind.OPTION:
            closed = main_menu(member, _("That button belongs to a question that is already "
                                         "closed. What would you like to do?"))
            # A second tap on "Save" lands on the receipt the first tap made: keep it.
            closed.replace = False
            return [closed]
        if msg.kind is Kind.OTHER:
            return [main_menu(member, _("I can only read text messages for now. "
                                        "What would you like to do?"))]
        if (ref := parse_ref(msg.text)) is not None:
            return await self._begin(ctx, "pad", {"ref": ref})
        folded = fold(msg.text)
        for target, pattern in _MENU_WORDS:
            if pattern.search(folded):
                # "Hộ bà Lan … kích hoạt được 2 người": the household and counts are kept.
                return await self._go(ctx, target,
                                      sentence_data(msg.text) if target == "act" else None)
        return [main_menu(member)]

    async def _petition_lookup(self, ctx: Ctx, argument: str) -> list[Reply]:
        """`/tracuu PA-2026-000123`: a citizen's own petition, or one a member may see."""
        ref = parse_ref(argument)
        if ctx.member is not None:
            return await self._begin(ctx, "pad", {"ref": ref} if ref else {})
        typed = Ctx(ctx.services, replace(ctx.msg, text=ref or "tra cuu"), None)
        return await self._finish(typed, await self.feedback.handle(typed, None))

    def _is_feedback(self, msg: Incoming, state: Conversation | None, flow_name: str) -> bool:
        """A citizen's message for the petitions flow: its buttons, input while in it (unless
        a help-desk button), or typed words about petitions."""
        if msg.kind is Kind.OPTION:
            return flow_name == self.feedback.name
        if state is not None and state.flow == self.feedback.name:
            return True
        return bool(msg.text) and wants_feedback(msg.text)

    async def _wants_to_stop(self, ctx: Ctx, state: Conversation) -> bool:
        """ "thôi", "hủy", "dừng lại" typed inside a flow stop it; "huy" or "dung" (also given
        names) are searched instead when a household step finds someone by that name."""
        intent = stop_intent(ctx.text)
        if intent is Stop.MAYBE and state.step == HOUSEHOLD_STEP and ctx.member is not None:
            found, _exact = await self.services.households.search(ctx.member, ctx.text)
            return not found
        return intent is not None

    async def _save_state(self, ctx: Ctx, state: Conversation | None) -> None:
        """Keep where this person is in a flow (None: in none), with the update's writes."""
        await self.services.repos.conversations.save(ctx.msg.channel, ctx.msg.user_id, state,
                                                     self.services.clock())

    async def _finish(self, ctx: Ctx, turn: Turn) -> list[Reply]:
        """Store where the user is now; follow a hand-over to another flow."""
        replies = list(turn.replies)
        state = turn.state
        if turn.then is not None:
            name, data = turn.then
            started = await self.flows[name].begin(ctx, data)
            replies += started.replies
            state = started.state
        await self._save_state(ctx, state)
        return replies

    async def _begin(self, ctx: Ctx, name: str, data: dict[str, Any] | None = None
                     ) -> list[Reply]:
        turn = await self.flows[name].begin(ctx, data or {})
        return await self._finish(ctx, turn)

    async def _go(self, ctx: Ctx, target: str, data: dict[str, Any] | None = None
                  ) -> list[Reply]:
        """Open a menu item; starting a flow replaces whatever flow was in progress."""
        member = ctx.member
        if target == "help":
            return [Reply(help_text(member))]
        if target == "lang":
            return [_language_choice()]
        if target == "del":
            return await self._begin(ctx, "del")
        if member is None:
            if target == "pa":
                return await self._finish(ctx, await self.feedback.begin(ctx, {}))
            return await self._finish(ctx, await self.desk.begin(ctx, {}))
        if target == "pa":
            return await self._begin(ctx, "pad")
        if member.role is Role.PROVINCE and target not in _PROVINCE_TARGETS:
            return [main_menu(member, _("Province officers follow the reports; logging is done "
                                        "by each commune's team."))]
        if target == "me":
            return [Reply(await my_week_text(ctx, member))]
        if target == "menu":
            return [main_menu(member)]
        if target in ("digest", "digest-full"):
            return await self._digest(ctx, member, full=target == "digest-full")
        if target in self.flows:
            return await self._begin(ctx, target, data)
        return [main_menu(member)]

    async def _digest(self, ctx: Ctx, member: Member, *, full: bool = False) -> list[Reply]:
        """This week's report now, for an officer's commune or a province officer's communes:
        short with its chart and workbook, or the full detail as text."""
        if member.role is Role.VOLUNTEER:
            return [main_menu(member, _("Reports are for commune officers; /me shows your "
                                        "hamlet's progress."))]
        communes = None if member.role is Role.PROVINCE else [str(member.commune_code)]
        builds = self.services.report_builds

        async def build() -> list[Reply]:
            digest = await builds.build(PeriodKind.WEEK, communes)
            if full:
                # Under the short digest's button: a new message, the short one stays.
                return [Reply(render_detail(digest), replace=False)]
            # Drawing and the workbook take a while for a province: keep the event loop free.
            files = await asyncio.to_thread(digest_files, digest)
            return digest_replies(files, files.text.splitlines()[0])

        return [_AfterCommit(work=build)]

    async def _nav(self, ctx: Ctx, state: Conversation | None, step: str,
                   value: str) -> list[Reply]:
        if step == "cancel":
            return await self._cancel(ctx, state)
        if step == "lang" and value in ("vi", "en"):
            return await self._set_language(ctx, value)
        if step == "kenh":
            return await self._prefer(ctx, value)
        replies = await self._go(ctx, value)
        # Menu buttons sit under receipts ("✅ Saved: …"): what they open is a new message, so
        # the volunteer can scroll back to everything saved today.
        for reply in replies:
            reply.replace = False
        return replies

    async def _link(self, ctx: Ctx, code: str) -> list[Reply]:
        """/link: a code for the other app; /link CODE: this account joins that membership."""
        accounts = self.services.accounts
        if code:
            try:
                member = await accounts.link(ctx.msg.channel, ctx.msg.user_id, code)
            except Refusal as refusal:
                return [Reply(str(refusal))]
            return [main_menu(member, _("✅ Linked. This account and your other app now share "
                                        "one membership, {name}.").format(
                                            name=member.display_name)),
                    Reply(commands=commands_for(member))]
        if ctx.member is None:
            return [Reply(_("Only team members can link accounts. To join, send /start CODE "
                            "with the invite code from your commune officer."))]
        code = await accounts.new_link_code(ctx.member)
        return [Reply(_("To use the bot from your other app too, send this message there "
                        "within 30 minutes:\n/link {code}").format(code=code))]

    async def _prefer(self, ctx: Ctx, wanted: str) -> list[Reply]:
        """/kenh: choose the app that reminders and reports go to."""
        member = ctx.member
        if member is None:
            return [Reply(help_text(None))]
        channels = await self.services.accounts.channels_of(member)
        chosen = [c for c in channels if wanted and fold(wanted) in
                  (c, fold(_CHANNEL_NAMES.get(c, c)))]
        if chosen:
            await self.services.accounts.prefer(member, chosen[0])
            return [main_menu(member, _("✅ Reminders and reports will reach you on {app}.")
                              .format(app=_CHANNEL_NAMES.get(chosen[0], chosen[0])))]
        if len(channels) < 2:
            return [Reply(_("You use the bot from one app only. To add another one, send /link "
                            "here and follow the steps."))]
        rows = [[Option(_CHANNEL_NAMES.get(c, c), f"nav:kenh:{c}")] for c in channels]
        return [Reply(_("Where should reminders and reports reach you?"), rows)]

    async def _cancel(self, ctx: Ctx, state: Conversation | None) -> list[Reply]:
        flow = self.flows.get(state.flow) if state is not None else None
        # A flow may have saved something on the way (a new household, office figures): it
        # takes back what it can and says exactly what stays.
        kept = (await flow.stopped(ctx, state)
                if state is not None and isinstance(flow, Stoppable) else None)
        await self._save_state(ctx, None)
        text = kept or (_("Stopped. Nothing was saved.") if state
                        else _("There was nothing to stop."))
        if ctx.member is None:
            return [Reply(text)]
        return [main_menu(ctx.member, text + "\n" + _("What would you like to do?"))]

    async def _set_language(self, ctx: Ctx, language: str) -> list[Reply]:
        await self.services.members.set_language(ctx.msg.channel, ctx.msg.user_id, language)
        member = await self.services.repos.members.member(ctx.msg.channel, ctx.msg.user_id)
        with use_language(language):
            replies = [Reply(_("I will speak English with you."),
                             commands=commands_for(member), replace=False)]
            replies.append(main_menu(member) if member is not None
                           else welcome(self.services.helpdesk))
            return replies

    async def _command(self, ctx: Ctx, state: Conversation | None) -> list[Reply]:
        head, _sep, rest = ctx.msg.text.strip().partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        argument = rest.strip()
        target = _COMMAND_ALIASES.get(fold(name).replace(" ", ""))  # "/hủy" is /huy
        if target == "start":
            return await self._start(ctx, argument)
        if target == "cancel":
            return await self._cancel(ctx, state)
        if target == "digest" and fold(argument) in _DETAIL_WORDS:
            target = "digest-full"
        if target == "lang" and fold(argument) in ("vi", "en"):
            return await self._set_language(ctx, fold(argument))
        if target == "link":
            return await self._link(ctx, argument)
        if target == "kenh":
            return await self._prefer(ctx, argument)
        if target is None:
            reply = Reply(_("I do not know that command.") + "\n\n" + help_text(ctx.member))
            return [reply]
        if target == "pa" and (argument or name == "tracuu"):
            return await self._petition_lookup(ctx, argument)
        return await self._go(ctx, target)

    async def _start(self, ctx: Ctx, code: str) -> list[Reply]:
        if not code:
            if ctx.member is None:
                turn = await self.desk.begin(ctx, {})
                return [*await self._finish(ctx, turn), Reply(commands=commands_for(None))]
            await self._save_state(ctx, None)
            hello = (_("Hello, {name}!").format(name=ctx.member.display_name)
                     if ctx.member.display_name else _("Hello!"))
            return [main_menu(ctx.member, hello + "\n" + _("What would you like to do?")),
                    Reply(commands=commands_for(ctx.member))]
        result = await self.services.members.join(
            channel=ctx.msg.channel, external_id=ctx.msg.user_id,
            display_name=ctx.msg.display_name, typed_code=code)
        if result.status is JoinStatus.PAUSED:
            return [Reply(_("Too many wrong codes. Please wait {n} minutes and try again, "
                            "or ask your commune officer for a new code.").format(
                                n=result.wait_minutes))]
        if result.status is JoinStatus.UNKNOWN:
            return [Reply(_("That invite code is not valid. Check it and send /start CODE "
                            "again, or ask your commune officer for a new one."))]
        if result.status is JoinStatus.EXPIRED:
            return [Reply(_("That invite code has expired. Please ask your commune officer "
                            "for a new one."))]
        if result.status is JoinStatus.USED:
            return [Reply(_("That invite code has already been used. Each code works once; "
                            "please ask your commune officer for a new one."))]
        member = result.member
        assert member is not None
        if result.status is JoinStatus.ALREADY:
            return [main_menu(member, _(
                "You are already on the team ({place}), so I did not use this code: it still "
                "works for the person it was meant for.").format(place=_place(ctx, member))
                + "\n" + _("What would you like to do?"))]
        await self._save_state(ctx, None)
        return [main_menu(member, _welcome(ctx, member)),
                Reply(commands=commands_for(member))]


def _typed_choice(msg: Incoming, options: list[Option]) -> Incoming:
    """Text that picks one of the options last offered becomes that option, on any channel."""
    if msg.kind is not Kind.TEXT or msg.text.lstrip().startswith("/") \
            or contains_citizen_id(msg.text):
        return msg
    chosen = resolve(msg.text, options)
    return msg if chosen is None else replace(msg, kind=Kind.OPTION, option=chosen.value)


def _place(ctx: Ctx, member: Member) -> str:
    """Where a member works, by name: their hamlet, else their commune."""
    settings = ctx.services.settings
    found = settings.hamlet(member.hamlet_code or "")
    if found is not None:
        return f"{found[1].name}, {found[0].name}"
    if member.commune_code is None:
        return settings.province.name if settings.province else _("All communes")
    return settings.commune(member.commune_code).name


def _welcome(ctx: Ctx, member: Member) -> str:
    settings = ctx.services.settings
    if member.commune_code is None:
        area = settings.province.name if settings.province else _("All communes")
        return _("Welcome, {name}! You now follow the reports of every commune: {area}.")\
            .format(name=member.display_name, area=area) + "\n" + _("What would you like to do?")
    commune = settings.commune(member.commune_code)
    if member.hamlet_code:
        found = settings.hamlet(member.hamlet_code)
        place = found[1].name if found else member.hamlet_code
        text = _("Welcome, {name}! You are now a volunteer of {hamlet}, {commune}.").format(
            name=member.display_name, hamlet=place, commune=commune.name)
    else:
        text = _("Welcome, {name}! You are now an officer of {commune}.").format(
            name=member.display_name, commune=commune.name)
    return text + "\n" + _("What would you like to do?")


def _language_choice() -> Reply:
    return Reply(_("Choose your language:"), [[Option("Tiếng Việt", "nav:lang:vi"),
                                               Option("English", "nav:lang:en")]])
