"""The digest as a picture: one horizontal bar chart sized to be read on a phone."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter
from matplotlib.transforms import ScaledTranslation, Transform

from bot.i18n import _, fmt_date, fmt_datetime, fmt_percent
from bot.reports.digest import Digest, HamletLine

MAX_ROWS = 40
DPI = 150
WIDTH_IN = 7.2  # 1080 px: a phone shows it full width with little rescaling
ROW_IN = 0.7
MAX_HEIGHT_IN = 16.0  # 2400 px
MARGIN_IN = 0.15
FOOTER_IN = 0.45  # the percentage axis under the bars
# Bundled with matplotlib and covers Vietnamese diacritics, so no system font is needed.
FONT = "DejaVu Sans"
CAPABLE_COLOUR = "#2166ac"
LEVEL2_COLOUR = "#b35806"
TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#444444"
DASHES = (0, (4, 3))
BAR_HEIGHT = 0.38
# Labels go inside the bar from here on, so they never run past 100%.
INSIDE_FROM = 0.86


def render_chart(digest: Digest) -> bytes:
    """A PNG bar chart of the digest: hamlets of one commune, or the communes of a province."""
    all_rows, title = _rows_and_title(digest)
    rows = _furthest_behind(all_rows)[:MAX_ROWS]
    fig = Figure(figsize=(WIDTH_IN, MAX_HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    try:
        header_in = _add_header(fig, digest, title, len(rows), len(all_rows))
        height_in = min(MAX_HEIGHT_IN, header_in + FOOTER_IN + ROW_IN * max(len(rows), 1))
        fig.set_size_inches(WIDTH_IN, height_in)
        # Constrained layout only places the axes, in the space the header leaves.
        engine = fig.get_layout_engine()
        assert engine is not None
        engine.set(rect=(0, 0, 1, 1 - header_in / height_in))  # type: ignore[call-arg]
        row_in = (height_in - header_in - FOOTER_IN) / max(len(rows), 1)
        squeeze = min(1.0, row_in / ROW_IN)
        ax = fig.add_subplot()
        _draw_bars(ax, rows, value_size=max(9.0, 13 * squeeze))
        _draw_targets(ax, rows)
        _style_axes(ax, rows, name_size=max(10.0, 14 * squeeze))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        # No pyplot manager holds the figure; clearing it frees the artists right away.
        fig.clear()


def _rows_and_title(digest: Digest) -> tuple[list[HamletLine], str]:
    """Communes of a province digest, otherwise the hamlets of its commune(s)."""
    if digest.province_rows:
        return list(digest.province_rows), digest.province_name or ""
    rows = [line for commune in digest.communes for line in commune.hamlets]
    return rows, ", ".join(commune.name for commune in digest.communes)


def _furthest_behind(rows: Sequence[HamletLine]) -> list[HamletLine]:
    """Lowest share of capable households first (then level 2), as the digest ranks them."""
    return sorted(rows, key=lambda line: (line.capable.share or 0, line.level2.share or 0))


def _add_header(fig: Figure, digest: Digest, title: str, shown: int, total: int) -> float:
    """Title, subtitle and legend stacked from the top; returns their height in inches."""
    period = digest.period
    heading = f"{title} — {fmt_date(period.start)}–{fmt_date(period.last_day)}"
    top = MARGIN_IN
    text = fig.text(0, 1, _wrap(heading, 38), va="top", ha="left", fontsize=17,
                    fontweight="bold", fontfamily=FONT, color=TEXT_COLOUR,
                    transform=_from_top_left(fig, top))
    top += _height_of(fig, text) + 0.08
    text = fig.text(0, 1, _subtitle(digest, shown, total), va="top", ha="left",
                    fontsize=12.5, fontstyle="italic", fontfamily=FONT, color=MUTED_COLOUR,
                    transform=_from_top_left(fig, top))
    top += _height_of(fig, text)
    legend = fig.legend(handles=_legend_handles(), loc="upper left", frameon=False,
                        bbox_to_anchor=(0, 1), bbox_transform=_from_top_left(fig, top),
                        borderaxespad=0, prop={"family": FONT, "size": 12.5})
    return top + _height_of(fig, legend) + 0.05  # constrained layout adds its own gap


def _from_top_left(fig: Figure, down_in: float) -> Transform:
    """Figure coordinates shifted by the margin and `down_in` inches, so they survive resizing."""
    return fig.transFigure + ScaledTranslation(MARGIN_IN, -down_in, fig.dpi_scale_trans)


def _height_of(fig: Figure, artist: Artist) -> float:
    # The canvas is an Agg canvas, which has a renderer (the base class does not say so).
    extent = artist.get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    return extent.height / fig.dpi


def _subtitle(digest: Digest, shown: int, total: int) -> str:
    """When the figures were cut, and whether rows were left out."""
    cut = digest.cut_at if digest.cut_at.tzinfo else digest.cut_at.replace(tzinfo=UTC)
    lines = [_("Figures as of {time}").format(time=fmt_datetime(_local(cut, digest)))]
    if shown < total:
        template = (_("The {shown} communes furthest behind, of {total}.")
                    if digest.province_rows else
                    _("The {shown} hamlets furthest behind, of {total}."))
        lines.append(template.format(shown=shown, total=total))
    return "\n".join(_wrap(line, 56) for line in lines)


def _local(moment: datetime, digest: Digest) -> datetime:
    return moment.astimezone(digest.period.tz)


def _legend_handles() -> list[Artist]:
    return [
        Patch(color=CAPABLE_COLOUR,
              label=_wrap(_("Households with someone who can use VNeID"), 46)),
        Patch(color=LEVEL2_COLOUR, label=_("Level-2 e-ID registered")),
        Line2D([], [], color=MUTED_COLOUR, linestyle=DASHES, linewidth=2,
               label=_("Target (dashed line)")),
    ]


def _draw_bars(ax: Axes, rows: Sequence[HamletLine], value_size: float) -> None:
    for index, line in enumerate(rows):
        for offset, share, colour in ((-BAR_HEIGHT / 2, line.capable.share, CAPABLE_COLOUR),
                                      (BAR_HEIGHT / 2, line.level2.share, LEVEL2_COLOUR)):
            y = index + offset
            ax.barh(y, 100 * (share or 0), height=BAR_HEIGHT, color=colour)
            _value_label(ax, y, share, colour, value_size)


def _value_label(ax: Axes, y: float, share: float | None, colour: str, size: float) -> None:
    inside = share is not None and share >= INSIDE_FROM
    x = 100 * (share or 0) + (-1 if inside else 1)
    # Above the dashed target lines, on a patch of background so a line never cuts a figure.
    ax.text(x, y, fmt_percent(share), va="center", ha="right" if inside else "left",
            color="white" if inside else TEXT_COLOUR, fontsize=size, fontfamily=FONT,
            fontweight="bold" if inside else "normal", zorder=4,
            bbox={"boxstyle": "square,pad=0.1", "linewidth": 0,
                  "facecolor": colour if inside else "white"})


def _draw_targets(ax: Axes, rows: Sequence[HamletLine]) -> None:
    """One line across the chart when all rows share a target, else a mark at each bar."""
    for offset, colour, targets in (
            (-BAR_HEIGHT / 2, CAPABLE_COLOUR, [line.capable.target for line in rows]),
            (BAR_HEIGHT / 2, LEVEL2_COLOUR, [line.level2.target for line in rows])):
        style: dict[str, Any] = {"color": colour, "linestyle": DASHES, "linewidth": 2,
                                 "zorder": 3}
        if targets and len(set(targets)) == 1 and targets[0] is not None:
            ax.axvline(100 * targets[0], **style)
            continue
        for index, target in enumerate(targets):
            if target is not None:
                y = index + offset
                ax.vlines(100 * target, y - BAR_HEIGHT * 0.8, y + BAR_HEIGHT * 0.8, **style)


def _style_axes(ax: Axes, rows: Sequence[HamletLine], name_size: float) -> None:
    ax.set_xlim(0, 100)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # furthest behind on top, where the eye starts
    ax.xaxis.set_major_locator(FixedLocator([0, 20, 40, 60, 80, 100]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt_percent(value / 100)))
    # Smaller names (many rows) get more characters per line in the same margin.
    per_line = round(16 * 14 / name_size)
    ax.set_yticks(range(len(rows)), [_wrap(line.name, per_line) for line in rows],
                  fontsize=name_size, fontfamily=FONT, color=TEXT_COLOUR)
    for label in ax.get_xticklabels():
        label.set_fontfamily(FONT)
        label.set_fontsize(12)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#dddddd")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text
