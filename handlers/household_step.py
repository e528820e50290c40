"""The step both logging flows start with: find a household of one's hamlet, or add it."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _
from bot.messages import Option, Reply
from bot.models import Conversation, Household
from bot.services.households import check_head_name
from bot.services.names import has_diacritics
from bot.services.parsers import Stop, stop_intent
from bot.textnorm import parse_int, parse_yes_no
from handlers.base import Ctx, Turn, opt, parse_option, with_reason
from handlers.menu import cancel_row

STEP = "household"
NEW = "household-new"  # confirming a household that is not on the list yet
MAX_RECENT = 4
MAX_TWINS = 6


def household_label(household: Household) -> str:
    """How a household appears on a button."""
    return f"{household.head_name} · {household.code}"


async def prompt(ctx: Ctx, state: Conversation, intro: str) -> list[Reply]:
    """Ask for the household, offering the ones this volunteer logged lately."""
    assert ctx.member is not None
    if state.step == NEW and state.data.get("new_name"):
        return await confirm_new_prompt(ctx, state)
    rows: list[list[Option]] = []
    seen: set[int] = set()
    for entry in await ctx.services.records.recent(ctx.member, limit=12):
        if entry.household_id not in seen and len(seen) < MAX_RECENT:
            seen.add(entry.household_id)
            rows.append([opt(f"{entry.head_name} · {entry.household_code}", state.flow, STEP,
                             entry.household_id)])
    text = intro + "\n" + _("Type part of the household head's name or the household code.")
    return [Reply(text, rows + [cancel_row()])]


async def handle(ctx: Ctx, state: Conversation, intro: str) -> Household | Turn:
    """Resolve the input at the household step: a chosen household, or a turn that stays."""
    assert ctx.member is not None
    _flow, step, value = parse_option(ctx.option)
    number = parse_int(value) if ctx.option and step == STEP else None
    if number is not None:
        household = await ctx.services.households.get_visible(ctx.member, number)
        if household is not None:
            return household
        return Turn([Reply(_("That household is not in your hamlet.")),
                     *await prompt(ctx, state, intro)], state)
    if ctx.option and step == NEW and state.data.get("new_name"):
        if value == "add":
            return await _add_new(ctx, state, intro)
        if value == "ask":
            state.step = NEW
            return Turn(await confirm_new_prompt(ctx, state), state)
        state.step = STEP
        state.data.pop("new_name", None)
        return Turn(await prompt(ctx, state, intro), state)
    if state.step == NEW and ctx.text and parse_yes_no(ctx.text) is True:
        return await _add_new(ctx, state, intro)
    if ctx.text:
        return await search(ctx, state, intro, ctx.text)
    return Turn([Reply(_("Please type a name or a household code, or choose a household.")),
                 *await prompt(ctx, state, intro)], state)


async def search(ctx: Ctx, state: Conversation, intro: str, query: str) -> Household | Turn:
    """Find the household a volunteer typed; offer to add it when it is not on the list."""
    assert ctx.member is not None
    query = query.strip()[:80]
    state.step = STEP
    state.data.pop("new_name", None)
    found, exact = await ctx.services.households.search(ctx.member, query)
    maybe_stop = stop_intent(query) is Stop.MAYBE  # "huy": Mr Huy, or "hủy" typed plainly?
    if len(found) == 1 and exact and not maybe_stop:
        return found[0]
    # Only volunteers add households on the spot: an officer has no hamlet to add them to.
    add_rows: list[list[Option]] = []
    notes: list[str] = []
    if ctx.member.hamlet_code:
        try:
            name = check_head_name(query)
        except Refusal as refusal:
            notes.append(_("I cannot add that as a new household: {reason}.").format(
                reason=refusal))
        else:
            state.data["new_name"] = name
            add_rows.append([opt(_("Add new household: {name}").format(name=name), state.flow,
                                 NEW, "ask")])
    if maybe_stop:
        notes.append(_("If you meant to stop, choose Cancel."))
    if not found:
        text = _("No household in your hamlet matches “{query}”.").format(query=query) + "\n" + (
            _("Type another name or code, or add it as a new household.") if add_rows
            else _("Type part of the household head's name or the household code."))
    else:
        text = _("Which household? Choose one, or type more of the name.")
    rows = [[opt(household_label(h), state.flow, STEP, h.id)] for h in found]
    return Turn([Reply("\n".join([text, *notes]), [*rows, *add_rows, cancel_row()])], state)


async def confirm_new_prompt(ctx: Ctx, state: Conversation) -> list[Reply]:
    """Ask before adding a household: the name as it will be saved, and who may be the same."""
    assert ctx.member is not None and ctx.member.hamlet_code is not None
    name = state.data["new_name"]
    found = ctx.services.settings.hamlet(ctx.member.hamlet_code)
    hamlet = found[1].name if found else ctx.member.hamlet_code
    lines = [_("Add a new household to {hamlet}, head of household “{name}”?").format(
        hamlet=hamlet, name=name)]
    if len(name.split()) == 1:
        lines.append(_("If you can, type the head's full name (for example Nguyễn Văn Long), "
                       "so the household is easy to find later."))
    elif not has_diacritics(name):
        lines.append(_("The name has no diacritics. If you can, type it again with them "
                       "(for example Nguyễn Văn Tư), so it is not mixed up with someone else."))
    twins = await ctx.services.households.likely_duplicates(ctx.member.hamlet_code, name)
    rows = [[opt(household_label(h), state.flow, STEP, h.id)] for h in twins[:MAX_TWINS]]
    if twins:
        lines.append(_("Already on the list with a similar name; choose one if it is the same "
                       "household:"))
    rows += [[opt(_("Yes, add “{name}”").format(name=name), state.flow, NEW, "add")],
             [opt(_("Type the name again"), state.flow, NEW, "again")], cancel_row()]
    return [Reply("\n".join(lines), rows)]


async def _add_new(ctx: Ctx, state: Conversation, intro: str) -> Household | Turn:
    assert ctx.member is not None
    name = state.data.pop("new_name", None)
    hamlet = ctx.member.hamlet_code
    state.step = STEP
    if not name or not hamlet:
        return Turn(await prompt(ctx, state, intro), state)
    try:
        household = await ctx.services.households.add(ctx.member, hamlet, name)
    except Refusal as refusal:
        return Turn([Reply(str(refusal)), *await prompt(ctx, state, intro)], state)
    # Remembered so that /cancel can take it off the list again.
    state.data["added"] = household.id
    return household


class HouseholdFlow:
    """A logging flow that starts by finding a household, then runs its own steps."""

    name = ""
    first_step = ""

    def intro(self, state: Conversation) -> str:
        """The line that says what is being logged (and what was said already)."""
        raise NotImplementedError

    def initial_data(self) -> dict[str, Any]:
        return {}

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        state = Conversation(self.name, STEP, {**self.initial_data(), **data})
        query = state.data.pop("query", None)
        if "household" in data:
            state.step = self.first_step
        elif query:  # the household was named in a sentence: look it up at once
            found = await search(ctx, state, self.intro(state), query)
            if isinstance(found, Household):
                return await self.picked(ctx, state, found)
            return Turn(with_reason(found.replies, self.intro(state)), state)
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        household = None if state.step in (STEP, NEW) else await self.household(ctx, state)
        if household is None:
            if state.step != NEW:
                state.step = STEP
            return await prompt(ctx, state, self.intro(state))
        return await self.step_prompt(ctx, state, household)

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        if state.step in (STEP, NEW):
            query = self.understand(state, ctx.text) if ctx.text else None
            if query == "":  # a sentence with counts but no household: ask for it
                return Turn(await self.prompt(ctx, state), state)
            picked = await (search(ctx, state, self.intro(state), query) if query
                            else handle(ctx, state, self.intro(state)))
            if isinstance(picked, Turn):
                return picked
            return await self.picked(ctx, state, picked)
        household = await self.household(ctx, state)
        if household is None:
            return await self.begin(ctx, {})
        _flow, step, value = parse_option(ctx.option)
        if ctx.option and step != state.step:
            return await self.reprompt(ctx, state, _("That button belongs to an earlier "
                                                     "question. Please answer this one:"))
        return await self.step_handle(ctx, state, household, value)

    async def picked(self, ctx: Ctx, state: Conversation, household: Household) -> Turn:
        """Go on with the chosen household; a household just added gets its own receipt."""
        replies: list[Reply] = []
        if state.data.get("added") == household.id:
            replies.append(Reply(_("✅ New household added: {name} ({code}).").format(
                name=household.head_name, code=household.code)))
        state.data["household"] = household.id
        state.step = self.first_step
        turn = await self.first_question(ctx, state, household)
        return Turn(replies + turn.replies, turn.state)

    def understand(self, state: Conversation, text: str) -> str | None:
        """Read a sentence typed at the household step, keeping what it says in the state:
        the household to look up ("" when none is named), or None to search the text as is."""
        return None

    async def first_question(self, ctx: Ctx, state: Conversation, household: Household) -> Turn:
        """What to ask once the household is known (a flow may skip what was already said)."""
        return Turn(await self.step_prompt(ctx, state, household), state)

    async def stopped(self, ctx: Ctx, state: Conversation) -> str | None:
        """Take a household added in this flow off the list again, unless something uses it."""
        assert ctx.member is not None
        lines = []
        if state.data.get("added") is not None:
            household, removed = await ctx.services.households.remove_added(
                ctx.member, int(state.data["added"]))
            if household is not None and removed:
                lines.append(_("Stopped. Nothing was saved: the household “{name}” added just "
                               "now is off the list again.").format(name=household.head_name))
            elif household is not None:
                lines.append(_("Stopped. The household “{name}” ({code}) added just now stays "
                               "on the list because an entry uses it; nothing else was saved.")
                             .format(name=household.head_name, code=household.code))
        if state.data.get("replaces") is not None:
            lines = lines or [_("Stopped. Nothing was saved.")]
            lines.append(_("Your earlier entry is unchanged."))
        return "\n".join(lines) or None

    async def step_prompt(self, ctx: Ctx, state: Conversation,
                          household: Household) -> list[Reply]:
        """The question of the current step (after the household is known)."""
        raise NotImplementedError

    async def step_handle(self, ctx: Ctx, state: Conversation, household: Household,
                          value: str) -> Turn:
        """Handle input at the current step; `value` is a pressed button's value."""
        raise NotImplementedError

    async def reprompt(self, ctx: Ctx, state: Conversation, reason: str) -> Turn:
        """Ask the current step again, saying why."""
        return Turn(with_reason(await self.prompt(ctx, state), reason), state)

    async def household(self, ctx: Ctx, state: Conversation) -> Household | None:
        """The chosen household, if the member may still see it."""
        assert ctx.member is not None
        household_id = state.data.get("household")
        if household_id is None:
            return None
        return await ctx.services.households.get_visible(ctx.member, int(household_id))
