"""The step both logging flows start with: find a household of one's hamlet, or add it."""

from __future__ import annotations

from bot.i18n import _
from bot.messages import Option, Reply
from bot.models import Conversation, Household
from bot.services.errors import Refusal
from bot.services.households import tidy_name
from handlers.base import Ctx, Turn, opt, parse_option
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
