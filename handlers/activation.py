"""Log an activation: household → counts (a common case in one tap) → confirm → saved."""

from __future__ import annotations

from typing import Any

from bot.errors import Refusal
from bot.i18n import _
from bot.messages import Reply
from bot.models import Conversation, Household
from bot.services.parsers import parse_activation, parse_capable
from bot.textnorm import fold, parse_count, parse_int, split_words
from handlers import household_step
from handlers.base import Ctx, Turn, opt, stay, with_reason
from handlers.menu import cancel_row, next_actions
from handlers.progress_text import hamlet_progress_text

NAME = "act"
# (level 2 registered, activated, household can now use VNeID) for the one-tap common cases.
PRESETS = ((1, 1, True), (0, 1, True), (1, 0, False))
COUNT_BUTTONS = (0, 1, 2, 3, 4, 5)


def _preset_label(level2: int, activated: int, capable: bool) -> str:
    parts = []
    if level2:
        parts.append(_("{n} level-2 registration").format(n=level2))
    if activated:
        parts.append(_("{n} activated").format(n=activated))
    text = " + ".join(parts)
    return text + ", " + (_("can use it") if capable else _("cannot use it yet"))


class ActivationFlow(household_step.HouseholdFlow):
    """The activation flow; its data holds household id, counts and what it corrects."""

    name = NAME
    first_step = "counts"

    def intro(self, state: Conversation) -> str:
        draft = state.data.get("draft")
        if not draft:
            return _("Log a VNeID activation.")
        return _("Log a VNeID activation.") + " " + _noted(draft)

    def understand(self, state: Conversation, text: str) -> str | None:
        """"Hộ bà Lan kích hoạt được 2 người": keep the counts, look up "Lan"."""
        note = parse_activation(text)
        if note.level2 is None and note.activated is None:
            return None
        state.data["draft"] = note.counts()
        return note.household or ""

    async def first_question(self, ctx: Ctx, state: Conversation, household: Household) -> Turn:
        """Ask only what the volunteer's sentence left out."""
        draft = state.data.pop("draft", None)
        if not draft:
            return await super().first_question(ctx, state, household)
        return await self._with_counts(ctx, state, household, draft)

    async def _with_counts(self, ctx: Ctx, state: Conversation, household: Household,
                           counts: dict[str, Any], noted: bool = True) -> Turn:
        """Take the counts given; confirm when complete, else ask the first one missing."""
        state.data.update(counts)
        missing = [step for step in ("level2", "activated", "capable") if step not in state.data]
        if not missing:
            return await self._checked(ctx, state, household, state.data["level2"],
                                       state.data["activated"], state.data["capable"])
        state.step = missing[0]
        replies = await self.step_prompt(ctx, state, household)
        return Turn(with_reason(replies, _noted(counts)) if noted else replies, state)

    async def step_prompt(self, ctx: Ctx, state: Conversation,
                          household: Household) -> list[Reply]:
        head = f"{household.head_name} ({household.code})"
        if state.step == "counts":
            rows = [[opt(_preset_label(*p), NAME, "counts", "-".join(str(int(x)) for x in p))]
                    for p in PRESETS]
            rows.append([opt(_("Other numbers"), NAME, "counts", "custom")])
            text = _("{household}: what happened?\nChoose a common case, or type three answers: "
                     "new level-2 registrations, new activations, can the household now use "
                     "VNeID (yes/not yet). Example: 2 1 yes").format(household=head)
            return [Reply(text, rows + [cancel_row()])]
        if state.step in ("level2", "activated"):
            question = (_("{household}: how many members newly registered for level 2?")
                        if state.step == "level2" else
                        _("{household}: how many members newly activated VNeID?"))
            row = [opt(str(n), NAME, state.step, n) for n in COUNT_BUTTONS]
            return [Reply(question.format(household=head) + "\n" + _(
                "Choose a number or type it."), [row, cancel_row()])]
        if state.step == "capable":
            text = _("{household}: does the household now have at least one member who can use "
                     "VNeID and the public-service portal?").format(household=head)
            return [Reply(text, [[opt(_("Yes"), NAME, "capable", 1),
                                  opt(_("Not yet"), NAME, "capable", 0)], cancel_row()])]
        d = state.data
        lines = [
            _("Please check:"),
            _("Household: {household}").format(household=head),
            _("New level-2 registrations: {n}").format(n=d["level2"]),
            _("New activations: {n}").format(n=d["activated"]),
            _("Can use VNeID and the portal: {answer}").format(
                answer=_("yes") if d["capable"] else _("not yet")),
        ]
        if d.get("replaces"):
            lines.append(_("This replaces your earlier entry."))
        rows = [[opt(_("Save"), NAME, "confirm", "save"),
                 opt(_("Change numbers"), NAME, "confirm", "edit")], cancel_row()]
        return [Reply("\n".join(lines), rows)]

    async def step_handle(self, ctx: Ctx, state: Conversation, household: Household,
                          value: str) -> Turn:
        handler = {"counts": self._counts, "level2": self._count, "activated": self._count,
                   "capable": self._capable, "confirm": self._confirm}[state.step]
        return await handler(ctx, state, household, value)

    async def _counts(self, ctx: Ctx, state: Conversation, household: Household,
                      value: str) -> Turn:
        if value == "custom":
            _clear_counts(state)
            state.step = "level2"
            return stay(await self.step_prompt(ctx, state, household), state)
        preset = [parse_int(x) for x in value.split("-")] if value else []
        if len(preset) == 3 and None not in preset:
            chosen = [int(x or 0) for x in preset]
            return await self._checked(ctx, state, household, chosen[0], chosen[1],
                                       bool(chosen[2]))
        words = split_words(ctx.text)
        if len(words) >= 3:  # "2 1 có", "2 1 dung dc roi"
            level2, activated = parse_count(words[0]), parse_count(words[1])
            capable = parse_capable(" ".join(words[2:]))
            if level2 is not None and activated is not None and capable is not None:
                return await self._checked(ctx, state, household, level2, activated, capable)
        note = parse_activation(ctx.text)  # "2 nguoi dang ky, 1 nguoi kich hoat, dung dc roi"
        if note.level2 is not None or note.activated is not None:
            _clear_counts(state)
            return await self._with_counts(ctx, state, household, note.counts())
        return await self.reprompt(ctx, state, _(
            "I could not read that. Type three answers separated by spaces, for example "
            "2 1 yes, or a sentence like “2 registered, 1 activated, can use it”, or choose an "
            "option."))

    async def _count(self, ctx: Ctx, state: Conversation, household: Household,
                     value: str) -> Turn:
        number = parse_int(value) if value else parse_count(ctx.text)
        if number is None:
            return await self.reprompt(ctx, state, _("Please type a number, for example 2."))
        try:
            if state.step == "level2":
                await ctx.services.records.check_counts(household, number, 0, None,
                                                        state.data.get("replaces"))
            else:
                await ctx.services.records.check_counts(household, state.data["level2"], number,
                                                        None, state.data.get("replaces"))
        except Refusal as refusal:
            return await self.reprompt(ctx, state, str(refusal))
        return await self._with_counts(ctx, state, household, {state.step: number},
                                       noted=False)

    async def _capable(self, ctx: Ctx, state: Conversation, household: Household,
                       value: str) -> Turn:
        answer = bool(int(value)) if value in ("0", "1") else parse_capable(ctx.text)
        if answer is None:
            return await self.reprompt(ctx, state, _("Please answer yes or no."))
        return await self._checked(ctx, state, household, state.data["level2"],
                                   state.data["activated"], answer)

    async def _checked(self, ctx: Ctx, state: Conversation, household: Household,
                       level2: int, activated: int, capable: bool) -> Turn:
        try:
            await ctx.services.records.check_counts(household, level2, activated, capable,
                                                    state.data.get("replaces"))
        except Refusal as refusal:
            _clear_counts(state)
            state.step = "counts"
            return await self.reprompt(ctx, state, str(refusal))
        state.data.update(level2=level2, activated=activated, capable=capable)
        state.step = "confirm"
        return stay(await self.step_prompt(ctx, state, household), state)

    async def _confirm(self, ctx: Ctx, state: Conversation, household: Household,
                       value: str) -> Turn:
        choice = value or _confirm_word(ctx.text)
        if choice == "edit":
            _clear_counts(state)
            state.step = "counts"
            return stay(await self.step_prompt(ctx, state, household), state)
        if choice != "save":
            return await self.reprompt(ctx, state, _("Choose Save to keep this entry, or Cancel."))
        assert ctx.member is not None
        d = state.data
        try:
            await ctx.services.records.log_activation(
                ctx.member, household, level2=d["level2"], activated=d["activated"],
                capable=d["capable"], replaces=d.get("replaces"))
        except Refusal as refusal:
            return Turn([Reply(str(refusal))], None)
        saved = _("✅ Saved: {household}.").format(household=household.head_name)
        progress = await hamlet_progress_text(ctx, household.hamlet_code)
        return Turn([Reply(saved + "\n\n" + progress, next_actions())], None)


def _clear_counts(state: Conversation) -> None:
    """Forget counts entered before, when the volunteer starts the numbers again."""
    for step in ("level2", "activated", "capable"):
        state.data.pop(step, None)


def _noted(counts: dict[str, Any]) -> str:
    """What a volunteer's sentence already told, to show it was understood."""
    parts = []
    if counts.get("level2") is not None:
        parts.append(_("{n} level-2 registration").format(n=counts["level2"]))
    if counts.get("activated") is not None:
        parts.append(_("{n} activated").format(n=counts["activated"]))
    if counts.get("capable") is not None:
        parts.append(_("can use it") if counts["capable"] else _("cannot use it yet"))
    return _("Understood: {what}.").format(what=", ".join(parts))


def sentence_data(text: str) -> dict[str, Any]:
    """Start data for the activation flow from a sentence typed at the main menu."""
    note = parse_activation(text)
    data: dict[str, Any] = {"query": note.household} if note.household else {}
    if note.level2 is not None or note.activated is not None:
        data["draft"] = note.counts()
    return data


def _confirm_word(text: str) -> str:
    """Typed answers at a confirm step: save / edit, else empty."""
    word = fold(text)
    if word in {"luu", "save", "ok", "co", "c", "yes", "dong y", "xong"}:
        return "save"
    if word in {"sua", "edit", "change"}:
        return "edit"
    return ""
