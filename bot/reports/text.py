"""The digest as messages: a short one that fits a phone screen, and the full detail on request.

The short digest answers four questions in order: where we stand against the targets, which
hamlets (or communes) are furthest behind and by how much, what changed this period, and what to
do next. Everything else is in the full detail (`/digest full`) and in the workbook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.i18n import _, fmt_date, fmt_datetime, fmt_int, fmt_percent, ngettext
from bot.measures import Indicator, figure_text
from bot.reports.digest import (
    CampaignPace,
    CommuneDigest,
    Digest,
    HamletLine,
    OfficeLine,
    furthest_behind,
)
from bot.reports.periods import Period, PeriodKind, key_label
from storage.reports import OfficeFigure

MAX_FOLLOW_UPS_LISTED = 5
BEHIND_SHOWN = 3


def period_title(period: Period) -> str:
    """"Weekly report 47/2026 (16/11–22/11/2026)" and the like."""
    span = f"{fmt_date(period.start)}–{fmt_date(period.last_day)}"
    if period.kind is PeriodKind.WEEK:
        week = period.key.split("-W")[1]
        return _("Weekly report, week {week}/{year} ({span})").format(
            week=int(week), year=period.start.isocalendar()[0], span=span)
    if period.kind is PeriodKind.MONTH:
        return _("Monthly report {month}/{year} ({span})").format(
            month=period.start.month, year=period.start.year, span=span)
    return _("Quarterly report Q{quarter}/{year} ({span})").format(
        quarter=(period.start.month - 1) // 3 + 1, year=period.start.year, span=span)


def _signed(n: int) -> str:
    return ("+" if n > 0 else "") + fmt_int(n)


def _visits_line(line: HamletLine, kind: PeriodKind) -> str:
    if line.visits_target:
        text = _("Guidance visits: {n} of the aim of {aim}").format(
            n=fmt_int(line.visits), aim=fmt_int(line.visits_target))
    else:
        text = _("Guidance visits: {n}").format(n=fmt_int(line.visits))
    before = (_("previous week {n}") if kind is PeriodKind.WEEK
              else _("previous period {n}")).format(n=fmt_int(line.visits_before))
    return f"{text} ({before})"


def _standing(line: HamletLine, kind: PeriodKind) -> list[str]:
    """The totals against the plan's targets, one short line each."""
    return [
        _("Against the targets:"),
        "• " + _("Households able to use VNeID: {figure}").format(
            figure=figure_text(line.capable)),
        "• " + _("Level-2 e-ID: {figure}").format(figure=figure_text(line.level2)),
        "• " + _("Activated: {figure}").format(figure=figure_text(line.activation)),
        "• " + _visits_line(line, kind),
    ]


def _gaps(line: HamletLine) -> str:
    """What a hamlet (or commune) still lacks, by measure; its shares when nothing is lacking."""
    gaps = [(line.capable.gap, _("{n} households")), (line.level2.gap, _("{n} level 2")),
            (line.activation.gap, _("{n} activations"))]
    parts = [label.format(n=fmt_int(n)) for n, label in gaps if n]
    return " · ".join(parts) if parts else _("every target reached")


def _behind(rows: Sequence[HamletLine], province: bool) -> list[str]:
    behind = [row for row in furthest_behind(rows) if not (
        row.capable.reached and row.level2.reached and row.activation.reached)][:BEHIND_SHOWN]
    if not behind:
        return []
    title = (_("Communes furthest behind (still needed):") if province
             else _("Hamlets furthest behind (still needed):"))
    return ["", title, *(f"• {row.name}: {_gaps(row)}" for row in behind)]


def _changes(line: HamletLine, kind: PeriodKind) -> list[str]:
    """What was logged in the period: the measures' progress."""
    logged = line.logged
    label = _("This week:") if kind is PeriodKind.WEEK else _("This period:")
    parts = [
        ngettext("{n} household able to use VNeID", "{n} households able to use VNeID",
                 logged.newly_capable).format(n=_signed(logged.newly_capable)),
        ngettext("{n} level-2 registration", "{n} level-2 registrations",
                 logged.level2_registered).format(n=_signed(logged.level2_registered)),
        ngettext("{n} activation", "{n} activations", logged.activated).format(
            n=_signed(logged.activated)),
    ]  # visits are in the totals above, next to the previous period's
    return ["", f"{label} " + ", ".join(parts) + "."]


# -- what to do next: one function per kind of task, each given the digest's communes -------

def _quiet_volunteers(communes: Sequence[CommuneDigest]) -> str | None:
    quiet = sum(c.quiet_volunteers for c in communes)
    if not quiet:
        return None
    return ngettext("Encourage {n} volunteer who logged nothing",
                    "Encourage {n} volunteers who logged nothing", quiet).format(n=fmt_int(quiet))


def _hamlets_without_visits(communes: Sequence[CommuneDigest]) -> str | None:
    idle = [line for c in communes for line in c.hamlets if not line.visits]
    if not idle or len(communes) > 1:
        return None  # a province's digest names communes, not hamlets
    if len(idle) > 3:
        return ngettext("{n} hamlet has no guidance visit yet",
                        "{n} hamlets have no guidance visit yet", len(idle)).format(
            n=fmt_int(len(idle)))
    return _("No guidance visit yet in: {hamlets}").format(
        hamlets=", ".join(line.name for line in idle))


def _follow_ups(communes: Sequence[CommuneDigest]) -> str | None:
    waiting = sum(c.follow_ups_waiting for c in communes)
    if not waiting:
        return None
    soonest = min(f.follow_up_on for c in communes for f in c.follow_ups)
    return ngettext("{n} household waits for a promised return visit (first on {day})",
                    "{n} households wait for a promised return visit (first on {day})",
                    waiting).format(n=fmt_int(waiting), day=fmt_date(soonest))


def _questions(communes: Sequence[CommuneDigest]) -> str | None:
    waiting = sum(c.open_questions for c in communes)
    if not waiting:
        return None
    return ngettext("Answer {n} citizen's question (/questions)",
                    "Answer {n} citizens' questions (/questions)", waiting).format(
        n=fmt_int(waiting))


def _petitions(communes: Sequence[CommuneDigest]) -> str | None:
    waiting = sum(c.open_petitions for c in communes)
    if not waiting:
        return None
    overdue = sum(c.overdue_petitions for c in communes)
    text = ngettext("Handle {n} citizen's petition (/phananh)",
                    "Handle {n} citizens' petitions (/phananh)", waiting).format(
        n=fmt_int(waiting))
    if overdue:
        text += ", " + ngettext("{n} past its time limit", "{n} past their time limit",
                                overdue).format(n=fmt_int(overdue))
    return text


def _office(communes: Sequence[CommuneDigest]) -> str | None:
    missing = [c for c in communes if any(o.figure is None for o in c.office)]
    if not missing:
        return None
    if len(communes) == 1:
        c = communes[0]
        n = sum(1 for o in c.office if o.figure is None)
        return ngettext("Enter {n} office indicator for {period} (/office)",
                        "Enter {n} office indicators for {period} (/office)", n).format(
            n=fmt_int(n), period=key_label(c.office_period))
    return ngettext("{n} commune has not entered its office indicators",
                    "{n} communes have not entered their office indicators",
                    len(missing)).format(n=fmt_int(len(missing)))


def _campaigns(communes: Sequence[CommuneDigest]) -> str | None:
    paces = [c.campaign for c in communes if c.campaign is not None]
    if len(paces) != 1:
        return None  # several communes' campaigns are in the full detail
    pace = paces[0]
    if not pace.days_left or not (pace.level2.gap or pace.activation.gap):
        return None
    return _("“{name}”, {days} days left: {level2} level-2 registrations and {activated} "
             "activations a day").format(
        name=pace.name, days=fmt_int(pace.days_left), level2=fmt_int(pace.level2_per_day),
        activated=fmt_int(pace.activation_per_day))


# The "what to do next" list, in order; a new kind of task is one more function here.
ACTION_ITEMS: list[Callable[[Sequence[CommuneDigest]], str | None]] = [
    _campaigns, _petitions, _hamlets_without_visits, _quiet_volunteers, _follow_ups, _questions,
    _office,
]


def _next_steps(communes: Sequence[CommuneDigest]) -> list[str]:
    items = [text for item in ACTION_ITEMS if (text := item(communes))]
    return ["", _("What to do next:"), *(f"• {text}" for text in items)] if items else []


def _heading(digest: Digest) -> list[str]:
    tz = digest.period.tz
    if digest.province_total is not None:
        area = digest.province_name or _("All communes")
    else:
        area = ", ".join(c.name for c in digest.communes)
    return [period_title(digest.period),
            _("{area} · figures as of {time}").format(
                area=area, time=fmt_datetime(digest.cut_at.astimezone(tz)))]


def render_text(digest: Digest) -> str:
    """The short digest: fits one phone screen, for a commune or a whole province."""
    kind = digest.period.kind
    province = digest.province_total is not None
    total = digest.province_total if digest.province_total is not None else (
        digest.communes[0].total)
    rows = digest.province_rows if province else [
        line for c in digest.communes for line in c.hamlets]
    lines = [*_heading(digest), "", *_standing(total, kind), *_behind(rows, province),
             *_changes(total, kind), *_next_steps(digest.communes), "",
             _("Each commune: choose “Details” or send /digest full. Every figure is in the "
               "Excel file.") if province else
             _("Each hamlet: choose “Details” or send /digest full. Every figure is in the "
               "Excel file.")]
    return "\n".join(lines).strip()


# -- the full detail ---------------------------------------------------------------------------

def _totals(line: HamletLine) -> list[str]:
    visits = _("Guidance visits: {n} (previous period {before}, {change})").format(
        n=fmt_int(line.visits), before=fmt_int(line.visits_before),
        change=_signed(line.visits_change))
    if line.visits_target:
        visits += " — " + _("aim {n}").format(n=fmt_int(line.visits_target))
    return [
        "• " + _("Households with someone who can use VNeID: {figure}").format(
            figure=figure_text(line.capable)),
        "• " + _("Level-2 e-ID registered: {figure}").format(figure=figure_text(line.level2)),
        "• " + _("Level-2 accounts activated: {figure}").format(
            figure=figure_text(line.activation)),
        "• " + visits,
    ]


def _hamlet_line(index: int, line: HamletLine) -> str:
    return _("{i}. {name}: households {capable} (gap {capable_gap}) · level 2 {level2} "
             "(gap {level2_gap}) · activated {activated} (gap {activated_gap}) · "
             "{visits} visits ({change})").format(
        i=index, name=line.name, capable=fmt_percent(line.capable.share),
        capable_gap=fmt_int(line.capable.gap), level2=fmt_percent(line.level2.share),
        level2_gap=fmt_int(line.level2.gap), activated=fmt_percent(line.activation.share),
        activated_gap=fmt_int(line.activation.gap), visits=fmt_int(line.visits),
        change=_signed(line.visits_change))


def _campaign(pace: CampaignPace) -> list[str]:
    dates = {"name": pace.name, "start": fmt_date(pace.start), "end": fmt_date(pace.end)}
    head = (_("Campaign “{name}” ({start}–{end}): {n} days left.").format(
        n=fmt_int(pace.days_left), **dates) if pace.days_left
        else _("Campaign “{name}” ({start}–{end}).").format(**dates))
    lines = [head,
             "• " + _("Level 2: {figure}").format(figure=figure_text(pace.level2)),
             "• " + _("Activated: {figure}").format(figure=figure_text(pace.activation))]
    if pace.days_left and (pace.level2.gap or pace.activation.gap):
        lines.append("• " + _("Needed per day: {level2} level-2 registrations, "
                              "{activated} activations.").format(
            level2=fmt_int(pace.level2_per_day), activated=fmt_int(pace.activation_per_day)))
    elif not pace.days_left:
        lines.append("• " + _("The campaign has ended."))
    return lines


def _people(c: CommuneDigest) -> list[str]:
    lines = []
    if c.volunteers:
        lines.append(_("Most active: {people}.").format(people="; ".join(
            ngettext("{name} ({n} entry)", "{name} ({n} entries)",
                     v.activation_records + v.visits).format(
                name=v.name, n=fmt_int(v.activation_records + v.visits))
            for v in c.volunteers)))
    if c.quiet_volunteers:
        lines.append(ngettext("{n} volunteer logged nothing in this period.",
                              "{n} volunteers logged nothing in this period.",
                              c.quiet_volunteers).format(n=fmt_int(c.quiet_volunteers)))
    if c.follow_ups_waiting:
        listed = "; ".join(f"{f.head_name} ({f.household_code}, {fmt_date(f.follow_up_on)})"
                           for f in c.follow_ups[:MAX_FOLLOW_UPS_LISTED])
        more = c.follow_ups_waiting - min(len(c.follow_ups), MAX_FOLLOW_UPS_LISTED)
        lines.append(ngettext("{n} household waits for a follow-up: {list}",
                              "{n} households wait for a follow-up: {list}",
                              c.follow_ups_waiting).format(n=fmt_int(c.follow_ups_waiting),
                                                           list=listed)
                     + (" " + _("and {n} more.").format(n=fmt_int(more)) if more > 0 else ""))
    if c.open_questions:
        lines.append(ngettext("{n} citizen question waits for an answer (/questions).",
                              "{n} citizen questions wait for an answer (/questions).",
                              c.open_questions).format(n=fmt_int(c.open_questions)))
    if c.open_petitions:
        lines.append(ngettext("{n} citizen's petition is not closed yet, {late} past the time "
                              "limit (/phananh).",
                              "{n} citizens' petitions are not closed yet, {late} past the "
                              "time limit (/phananh).", c.open_petitions).format(
            n=fmt_int(c.open_petitions), late=fmt_int(c.overdue_petitions)))
    return lines


def _office_lines(office: Sequence[OfficeLine], period: str,
                  ratings: Indicator | None) -> list[str]:
    lines = []
    if office:
        lines += ["", _("Office indicators ({period}, as entered by the office):").format(
            period=key_label(period))]
        for line in office:
            indicator = line.as_indicator
            if indicator is not None:
                value = figure_text(indicator)
            elif line.target is not None:
                value = _("not entered yet, target {target} (/office)").format(
                    target=fmt_percent(line.target))
            else:
                value = _("not entered yet (/office)")
            lines.append(f"• {_(line.label)}: {value}")
    if ratings is not None:
        # Kept apart from the plan's satisfaction indicator: it rates the bot's answers.
        lines += ["", _("Ratings of the assistant's answers: {good} of {rated} found them "
                        "helpful ({share}).").format(
            good=fmt_int(ratings.done), rated=fmt_int(ratings.whole),
            share=fmt_percent(ratings.share))]
    return lines


def _office_rollup(communes: Sequence[CommuneDigest]) -> list[OfficeLine]:
    """A province's office indicators: the communes' entered figures added up."""
    lines: dict[str, OfficeLine] = {}
    for line in (o for c in communes for o in c.office):
        old = lines.get(line.indicator)
        if old is None:
            lines[line.indicator] = line
        elif line.figure is not None:
            figure = line.figure if old.figure is None else OfficeFigure(
                line.indicator, old.figure.done + line.figure.done,
                old.figure.total + line.figure.total)
            lines[line.indicator] = OfficeLine(line.indicator, line.label, figure,
                                               old.target if old.target is not None
                                               else line.target)
    return list(lines.values())


def _ratings_rollup(communes: Sequence[CommuneDigest]) -> Indicator | None:
    rated = [c.answer_ratings for c in communes if c.answer_ratings is not None]
    return sum(rated[1:], rated[0]) if rated else None


def _commune_detail(c: CommuneDigest) -> list[str]:
    lines = [f"{c.name}:", *_totals(c.total), "", _("By hamlet:")]
    lines += [_hamlet_line(i, line) for i, line in enumerate(c.hamlets, start=1)]
    lines += ["", *_people(c)]
    if c.campaign:
        lines += ["", *_campaign(c.campaign)]
    return lines + _office_lines(c.office, c.office_period, c.answer_ratings)


def render_detail(digest: Digest) -> str:
    """The full digest on request: every hamlet (a province: every commune) with its gaps,
    volunteers, follow-ups, campaign pace and office indicators."""
    lines = [*_heading(digest), ""]
    if digest.province_total is not None:
        lines += [f"{digest.province_name or _('All communes')}:",
                  *_totals(digest.province_total), "", _("By commune:")]
        lines += [_hamlet_line(i, row) for i, row in enumerate(digest.province_rows, start=1)]
        for c in digest.communes:
            if c.campaign:
                lines += ["", f"{c.name}:", *_campaign(c.campaign)]
        lines += _office_lines(_office_rollup(digest.communes), digest.communes[0].office_period,
                               _ratings_rollup(digest.communes))
        lines += ["", _("Every hamlet of every commune is in the Excel file.")]
    else:
        for commune in digest.communes:
            lines += [*_commune_detail(commune), ""]
    return "\n".join(lines).strip()
