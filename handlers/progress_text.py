"""Progress as short texts for a phone screen: a hamlet against its targets, a volunteer's week."""

from __future__ import annotations

from datetime import date, timedelta

from bot.i18n import _, fmt_date, fmt_int, fmt_percent, ngettext
from bot.measures import figure_text
from bot.models import Member
from bot.services.progress import HamletProgress
from handlers.base import Ctx


def progress_lines(p: HamletProgress) -> list[str]:
    """The lines that describe one hamlet's progress."""
    targets = p.commune.targets
    m = p.measures
    lines = [f"• {label}: {figure_text(indicator)}" for label, indicator in (
        (_("Households with someone who can use VNeID"), m.capable),
        (_("Level-2 e-ID registered"), m.level2),
        (_("Activated"), m.activation))]
    visits = ngettext("{n} guidance visit this week", "{n} guidance visits this week",
                      p.visits_this_week).format(n=fmt_int(p.visits_this_week))
    if targets.weekly_visits_per_hamlet:
        visits += " " + _("(aim: {n})").format(n=fmt_int(targets.weekly_visits_per_hamlet))
    lines.append(f"• {visits}")
    return lines


async def hamlet_progress_text(ctx: Ctx, hamlet_code: str) -> str:
    """A hamlet's progress, headed by its name."""
    progress = await ctx.services.progress.hamlet(hamlet_code)
    head = _("Progress of {hamlet}:").format(hamlet=progress.hamlet.name)
    return "\n".join([head, *progress_lines(progress)])


async def my_week_text(ctx: Ctx, member: Member) -> str:
    """A member's week, then their hamlet (volunteer) or every hamlet (officer) briefly."""
    lines: list[str] = []
    if member.commune_code is not None:  # a province officer logs nothing: progress only
        week = await ctx.services.progress.member_week(member)
        lines += [
            _("Your week so far:"),
            "• " + ngettext("{n} activation entry", "{n} activation entries",
                            week.activation_records).format(n=fmt_int(week.activation_records)),
            "• " + ngettext("{n} person registered for level 2", "{n} people registered for level 2",
                            week.level2_registered).format(n=fmt_int(week.level2_registered)),
            "• " + ngettext("{n} account activated", "{n} accounts activated",
                            week.accounts_activated).format(n=fmt_int(week.accounts_activated)),
            "• " + ngettext("{n} guidance visit", "{n} guidance visits",
                            week.visits).format(n=fmt_int(week.visits)),
            "",
        ]
        if week.follow_ups and week.today is not None:
            lines.append(_("Households you promised to come back to:"))
            lines += [f"• {_due_label(f.follow_up_on, week.today)}: {f.head_name} "
                      f"({f.household_code})" for f in week.follow_ups]
            lines.append("")
    if member.hamlet_code:
        lines.append(await hamlet_progress_text(ctx, member.hamlet_code))
        return "\n".join(lines)
    settings = ctx.services.settings
    communes = ([settings.commune(member.commune_code)] if member.commune_code
                else settings.communes)
    for commune in communes:
        lines.append(_("{commune}, by hamlet (households that can use VNeID; level 2):")
                     .format(commune=commune.name))
        for p in await ctx.services.progress.hamlets(commune):
            lines.append(f"• {p.hamlet.name}: {fmt_percent(p.measures.capable.share)}; "
                         f"{fmt_percent(p.measures.level2.share)}")
    return "\n".join(lines)


def _due_label(day: date, today: date) -> str:
    """When a follow-up is due, the way people say it."""
    if day == today:
        return _("today")
    if day == today + timedelta(days=1):
        return _("tomorrow ({date})").format(date=fmt_date(day))
    return _("overdue since {date}").format(date=fmt_date(day))
