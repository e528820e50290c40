"""The digest as a picture: the plan's four measures side by side, sized for a phone.

One panel per measure (households able to use VNeID, level-2 registration, activation, guidance
visits against the period's aim), hamlets (or a province's communes) as rows, furthest behind on
top. Each panel's target is a dashed line inside the plot, never on its border, and the legend is
drawn from the same colours as the bars. `chart_data` holds everything that is plotted, so tests
check the data rather than pixels.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.i18n import _, fmt_date, fmt_datetime, fmt_int, fmt_percent
from bot.measures import Indicator
from bot.reports.digest import Digest, HamletLine, furthest_behind

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_ROWS = 40
DPI = 150
WIDTH_IN = 7.2  # 1080 px: a phone shows it full width with little rescaling
ROW_IN = 0.42
HEADER_IN = 1.45
FOOTER_IN = 0.35
MAX_HEIGHT_IN = 16.0  # 2400 px
# Bundled with matplotlib and covers Vietnamese diacritics, so no system font is needed.
FONT = "DejaVu Sans"
CAPABLE_COLOUR = "#2166ac"
LEVEL2_COLOUR = "#b35806"
ACTIVATION_COLOUR = "#1b7837"
VISITS_COLOUR = "#762a83"
TARGET_COLOUR = "#111111"
TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#444444"
# Bars past this share of the axis carry their label inside, so labels never leave the panel.
INSIDE_FROM = 0.7
# The axis reaches past 100% so a 100% target line is drawn inside the panel.
MIN_AXIS = 1.15
MAX_AXIS = 2.0


@dataclass(frozen=True)
class Series:
    """One measure: a share per row (None: nothing to measure), its target and its colour."""

    label: str
    colour: str
    values: list[float | None]
    target: float | None
    labels: list[str]  # what is written at the end of each bar
    note: str  # above the panel: its target

    @property
    def axis_end(self) -> float:
        """Where the panel's axis ends: past the target and the longest bar, within reason."""
        longest = max((v for v in self.values if v is not None), default=0.0)
        return min(MAX_AXIS, max(MIN_AXIS, longest * 1.08, (self.target or 0) * 1.1))


@dataclass(frozen=True)
class ChartData:
    title: str
    subtitle: str
    rows: list[str]  # names, furthest behind first
    series: list[Series]


def chart_data(digest: Digest) -> ChartData:
    """What the chart shows: rows (at most MAX_ROWS, furthest behind first) and four series."""
    all_rows, area = _rows_and_area(digest)
    rows = furthest_behind(all_rows)[:MAX_ROWS]
    period = digest.period
    series = [
        _share_series(_("Households able to use VNeID"), CAPABLE_COLOUR,
                      [r.capable for r in rows]),
        _share_series(_("Level-2 e-ID registered"), LEVEL2_COLOUR, [r.level2 for r in rows]),
        _share_series(_("Level-2 accounts activated"), ACTIVATION_COLOUR,
                      [r.activation for r in rows]),
        _visits_series(rows),
    ]
    return ChartData(title=f"{area} — {fmt_date(period.start)}–{fmt_date(period.last_day)}",
                     subtitle=_subtitle(digest, len(rows), len(all_rows)),
                     rows=[r.name for r in rows], series=series)


def _share_series(label: str, colour: str, indicators: Sequence[Indicator]) -> Series:
    target = next((i.target for i in indicators if i.target is not None), None)
    note = _("target {target}").format(target=fmt_percent(target)) if target else ""
    return Series(label, colour, [i.share for i in indicators], target,
                  [fmt_percent(i.share) for i in indicators], note)


def _visits_series(rows: Sequence[HamletLine]) -> Series:
    """Visits as a share of the period's aim (labelled with the count), when there is an aim."""
    counts = [fmt_int(r.visits) for r in rows]
    aims = {r.visits_target for r in rows}
    if rows and all(aims):
        note = (_("aim {n} visits").format(n=fmt_int(aims.pop())) if len(aims) == 1
                else _("100% = the aim"))
        return Series(_("Guidance visits"), VISITS_COLOUR,
                      [r.visits / r.visits_target for r in rows], 1.0, counts, note)
    most = max((r.visits for r in rows), default=0) or 1
    return Series(_("Guidance visits"), VISITS_COLOUR, [r.visits / most for r in rows], None,
                  counts, _("no aim set"))


def render_chart(digest: Digest) -> bytes:
    """The digest's chart as PNG bytes (the same digest always gives the same bytes)."""
    fig = build_figure(chart_data(digest))
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        # No pyplot manager holds the figure; clearing it frees the artists right away.
        fig.clear()


def build_figure(data: ChartData) -> Figure:
    """The matplotlib figure of the chart (imported here: only rendering needs matplotlib)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    count = max(len(data.rows), 1)
    height = min(MAX_HEIGHT_IN, HEADER_IN + FOOTER_IN + ROW_IN * count)
    squeeze = min(1.0, (height - HEADER_IN - FOOTER_IN) / count / ROW_IN)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.text(0.02, 1 - 0.12 / height, _wrap(data.title, 60), va="top", ha="left", fontsize=13,
             fontweight="bold", fontfamily=FONT, color=TEXT_COLOUR)
    fig.text(0.02, 1 - 0.5 / height, data.subtitle, va="top", ha="left", fontsize=9.5,
             fontstyle="italic", fontfamily=FONT, color=MUTED_COLOUR)
    handles: list[Artist] = [Patch(facecolor=s.colour, label=s.label) for s in data.series]
    handles.append(Line2D([], [], color=TARGET_COLOUR, linestyle=(0, (3, 2)), linewidth=1.6,
                          label=_("Target")))
    fig.legend(handles=handles, loc="upper left", ncol=3, frameon=False,
               bbox_to_anchor=(0.01, 1 - 0.85 / height), prop={"family": FONT, "size": 9},
               handlelength=1.4, columnspacing=1.0, borderaxespad=0)
    name_size = max(7.0, 10 * squeeze)
    names = [_wrap(name, 16) for name in data.rows]
    left = 0.22
    gap = 0.015
    width = (0.985 - left - gap * (len(data.series) - 1)) / len(data.series)
    bottom = FOOTER_IN / height
    top = 1 - HEADER_IN / height
    for index, series in enumerate(data.series):
        ax = fig.add_axes((left + index * (width + gap), bottom, width, top - bottom))
        _draw_panel(ax, series, count, max(7.0, 9 * squeeze))
        ax.set_yticks(range(len(names)), names if index == 0 else [""] * len(names),
                      fontsize=name_size, fontfamily=FONT, color=TEXT_COLOUR)
    return fig


def _draw_panel(ax: Axes, series: Series, count: int, value_size: float) -> None:
    from matplotlib.ticker import FuncFormatter

    end = series.axis_end
    for row, (value, label) in enumerate(zip(series.values, series.labels, strict=True)):
        shown = min(value or 0.0, end)
        ax.barh(row, shown, height=0.7, color=series.colour, zorder=2)
        inside = shown >= INSIDE_FROM * end
        # On a patch of the bar's (or the background's) colour: a target line never cuts it.
        ax.text(shown + (-0.02 if inside else 0.02) * end, row, label, va="center",
                ha="right" if inside else "left", fontsize=value_size, fontfamily=FONT,
                color="white" if inside else TEXT_COLOUR, zorder=4,
                bbox={"boxstyle": "square,pad=0.08", "linewidth": 0,
                      "facecolor": series.colour if inside else "white"})
    if series.target is not None and series.values:
        ax.axvline(series.target, color=TARGET_COLOUR, linestyle=(0, (3, 2)), linewidth=1.6,
                   zorder=3)
    ax.set_xlim(0, end)
    ax.set_ylim(count - 0.5, -0.5)  # furthest behind on top, where the eye starts
    ax.set_title(series.note, fontsize=9, fontfamily=FONT, color=series.colour,
                 fontweight="bold", loc="left")
    ax.set_xticks([0, 0.5, 1.0])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt_percent(value)))
    for tick in ax.get_xticklabels():
        tick.set_fontfamily(FONT)
        tick.set_fontsize(7.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#dddddd", zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _rows_and_area(digest: Digest) -> tuple[list[HamletLine], str]:
    """Communes of a province digest, otherwise the hamlets of its commune(s)."""
    if digest.province_rows:
        return list(digest.province_rows), digest.province_name or ""
    rows = [line for commune in digest.communes for line in commune.hamlets]
    return rows, ", ".join(commune.name for commune in digest.communes)


def _subtitle(digest: Digest, shown: int, total: int) -> str:
    """When the figures were cut, and whether rows were left out."""
    cut = digest.cut_at if digest.cut_at.tzinfo else digest.cut_at.replace(tzinfo=UTC)
    text = _("Figures as of {time}").format(time=fmt_datetime(_local(cut, digest)))
    if shown < total:
        template = (_("The {shown} communes furthest behind, of {total}.")
                    if digest.province_rows else
                    _("The {shown} hamlets furthest behind, of {total}."))
        text += ". " + template.format(shown=shown, total=total)
    return _wrap(text, 90)


def _local(moment: datetime, digest: Digest) -> datetime:
    return moment.astimezone(digest.period.tz)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text
