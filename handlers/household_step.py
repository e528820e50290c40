"""The step both logging flows start with: find a household of one's hamlet, or add it."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _
from bot.messages import Option, Reply
from bot.models import Conversation, Household
from bot.services.households import tidy_name
from handlers.base import Ctx, Turn, opt, parse_option, with_reason
from handlers.menu import cancel_row

STEP = "household"
MAX_RECENT = 4


def household_label(household: Household) -> str:
    """How a household appears on a button."""
    return f"{household.head_name} · {household.code}"


async def prompt(ctx: Ctx, state: Conversation, intro: str) -> list[Reply]:
    """Ask for the household, offering the ones this volunteer logged lately."""
    assert ctx.member is not None
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
    flow, step, value = parse_option(ctx.option)
    if ctx.option and step == STEP and value.isdigit():
        household = await ctx.services.households.get_visible(ctx.member, int(value))
        if household is not None:
            return household
        return Turn([Reply(_("That household is not in your hamlet.")),
                     *await prompt(ctx, state, intro)], state)
    if ctx.option and step == STEP + "-new":
        return await _add_new(ctx, state, intro, force=value == "force")
    if ctx.text:
        return await _search(ctx, state, intro)
    return Turn([Reply(_("Please type a name or a household code, or tap a household.")),
                 *await prompt(ctx, state, intro)], state)


async def _search(ctx: Ctx, state: Conversation, intro: str) -> Household | Turn:
    assert ctx.member is not None
    query = ctx.text[:80]
    found, exact = await ctx.services.households.search(ctx.member, query)
    if len(found) == 1 and exact:
        return found[0]
    name = tidy_name(query)
    # Only volunteers add households on the spot: an officer has no hamlet to add them to.
    add_rows: list[list[Option]] = []
    if ctx.member.hamlet_code:
        state.data["new_name"] = name
        add_rows.append([opt(_("Add new household: {name}").format(name=name), state.flow,
                             STEP + "-new")])
    if not found:
        text = _("No household in your hamlet matches “{query}”.").format(query=query) + "\n" + _(
            "Type another name or code, or add it as a new household.")
        return Turn([Reply(text, [*add_rows, cancel_row()])], state)
    rows = [[opt(household_label(h), state.flow, STEP, h.id)] for h in found]
    text = _("Which household? Tap one, or type more of the name.")
    return Turn([Reply(text, [*rows, *add_rows, cancel_row()])], state)


async def _add_new(ctx: Ctx, state: Conversation, intro: str, force: bool) -> Household | Turn:
    assert ctx.member is not None
    name = state.data.get("new_name")
    hamlet = ctx.member.hamlet_code
    if not name or not hamlet:
        return Turn(await prompt(ctx, state, intro), state)
    if not force:
        twins = await ctx.services.households.likely_duplicates(hamlet, name)
        if twins:
            rows = [[opt(household_label(h), state.flow, STEP, h.id)] for h in twins[:4]]
            rows.append([opt(_("Add anyway"), state.flow, STEP + "-new", "force")])
            text = _("“{name}” may already be on the list. Tap the right household, "
                     "or add it anyway.").format(name=name)
            return Turn([Reply(text, rows + [cancel_row()])], state)
    try:
        household = await ctx.services.households.add(ctx.member, hamlet, name)
    except Refusal as refusal:
        state.data.pop("new_name", None)
        return Turn([Reply(str(refusal)), *await prompt(ctx, state, intro)], state)
    state.data.pop("new_name", None)
    return household


class HouseholdFlow:
    """A logging flow that starts by finding a household, then runs its own steps."""

    name = ""
    first_step = ""

    def intro(self) -> str:
        """The line that says what is being logged."""
        raise NotImplementedError

    def initial_data(self) -> dict[str, Any]:
        return {}

    async def begin(self, ctx: Ctx, data: dict[str, Any]) -> Turn:
        state = Conversation(self.name, STEP, {**self.initial_data(), **data})
        if "household" in data:
            state.step = self.first_step
        return Turn(await self.prompt(ctx, state), state)

    async def prompt(self, ctx: Ctx, state: Conversation) -> list[Reply]:
        household = None if state.step == STEP else await self.household(ctx, state)
        if household is None:
            state.step = STEP
            return await prompt(ctx, state, self.intro())
        return await self.step_prompt(ctx, state, household)

    async def handle(self, ctx: Ctx, state: Conversation) -> Turn:
        if state.step == STEP:
            picked = await handle(ctx, state, self.intro())
            if isinstance(picked, Turn):
                return picked
            state.data["household"] = picked.id
            state.step = self.first_step
            return Turn(await self.prompt(ctx, state), state)
        household = await self.household(ctx, state)
        if household is None:
            return await self.begin(ctx, {})
        _flow, step, value = parse_option(ctx.option)
        if ctx.option and step != state.step:
            return await self.reprompt(ctx, state, _("That button belongs to an earlier "
                                                     "question. Please answer this one:"))
        return await self.step_handle(ctx, state, household, value)

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
