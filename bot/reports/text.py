"""The digest as a message: short lines for a phone, in the recipient's language."""

from __future__ import annotations

from bot.i18n import _, fmt_date, fmt_datetime, fmt_int, fmt_percent, ngettext
from bot.measures import figure_text
from bot.reports.digest import CampaignPace, CommuneDigest, Digest, HamletLine
from bot.reports.periods import Period, PeriodKind, key_label

MAX_FOLLOW_UPS_LISTED = 5


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


def _change(line: HamletLine) -> str:
    change = line.visits_change
    sign = "+" if change > 0 else ""
    return f"{sign}{fmt_int(change)}"


def _totals(line: HamletLine, kind: PeriodKind) -> list[str]:
    visits = _("Guidance visits: {n} (previous period {before}, {change})").format(
        n=fmt_int(line.visits), before=fmt_int(line.visits_before), change=_change(line))
    if line.visits_target:
        visits += " — " + _("aim {n}").format(n=fmt_int(line.visits_target))
    return [
        "• " + _("Households with someone who can use VNeID: {figure}").format(
            figure=figure_text(line.capable)),
        "• " + _("Level-2 e-ID registered: {figure}").format(figure=figure_text(line.level2)),
        "• " + _("Level-2 accounts activated: {figure}").format(figure=figure_text(line.activation)),
        "• " + visits,
    ]


def _hamlet_line(index: int, line: HamletLine) -> str:
    return _("{i}. {name}: households {capable} (gap {capable_gap}) · level 2 {level2} "
             "(gap {level2_gap}) · activated {activated} · {visits} visits ({change})").format(
        i=index, name=line.name, capable=fmt_percent(line.capable.share),
        capable_gap=fmt_int(line.capable.gap), level2=fmt_percent(line.level2.share),
        level2_gap=fmt_int(line.level2.gap), activated=fmt_percent(line.activation.share),
        visits=fmt_int(line.visits), change=_change(line))


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


def _commune(c: CommuneDigest, kind: PeriodKind) -> list[str]:
    lines = [f"{c.name}:", *_totals(c.total, kind), "", _("By hamlet:")]
    lines += [_hamlet_line(i, line) for i, line in enumerate(c.hamlets, start=1)]
    if c.behind:
        lines += ["", _("Furthest behind: {hamlets}.").format(hamlets="; ".join(
            f"{line.name} ({fmt_percent(line.capable.share)})" for line in c.behind))]
    if c.volunteers:
        lines.append(_("Most active: {people}.").format(people="; ".join(
            f"{v.name} ({fmt_int(v.activation_records + v.visits)})" for v in c.volunteers)))
    if c.quiet_volunteers:
        lines.append(ngettext("{n} volunteer logged nothing in this period.",
                              "{n} volunteers logged nothing in this period.",
                              c.quiet_volunteers).format(n=fmt_int(c.quiet_volunteers)))
    if c.follow_ups:
        listed = "; ".join(f"{f.head_name} ({f.household_code}, {fmt_date(f.follow_up_on)})"
                           for f in c.follow_ups[:MAX_FOLLOW_UPS_LISTED])
        more = len(c.follow_ups) - MAX_FOLLOW_UPS_LISTED
        lines.append(ngettext("{n} household waits for a follow-up: {list}",
                              "{n} households wait for a follow-up: {list}",
                              len(c.follow_ups)).format(n=fmt_int(len(c.follow_ups)),
                                                        list=listed)
                     + (" " + _("and {n} more.").format(n=fmt_int(more)) if more > 0 else ""))
    if c.open_questions:
        lines.append(ngettext("{n} citizen question waits for an answer (/questions).",
                              "{n} citizen questions wait for an answer (/questions).",
                              c.open_questions).format(n=fmt_int(c.open_questions)))
    if c.campaign:
        lines += ["", *_campaign(c.campaign)]
    if c.office:
        lines += ["", _("Office indicators ({period}):").format(
            period=key_label(c.office_period))]
        for office in c.office:
            indicator = office.as_indicator
            if indicator is not None:
                value = figure_text(indicator)
            elif office.target is not None:
                value = _("not entered yet, target {target} (/office)").format(
                    target=fmt_percent(office.target))
            else:
                value = _("not entered yet (/office)")
            lines.append(f"• {_(office.label)}: {value}")
    return lines


def render_text(digest: Digest) -> str:
    """The whole digest as one text (channels split it when too long)."""
    tz = digest.period.tz
    lines = [period_title(digest.period),
             _("Figures as of {time}.").format(time=fmt_datetime(digest.cut_at.astimezone(tz))),
             ""]
    if digest.province_total is not None:
        all_communes = _("All communes")
        lines += [f"{digest.province_name or all_communes}:",
                  *_totals(digest.province_total, digest.period.kind), "", _("By commune:")]
        lines += [_hamlet_line(i, row) for i, row in enumerate(digest.province_rows, start=1)]
        lines.append("")
    for commune in digest.communes:
        lines += [*_commune(commune, digest.period.kind), ""]
    return "\n".join(lines).strip()
