"""The plan's measures: a figure against its target share, and a hamlet's three measures."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.config import Commune, Hamlet
from bot.i18n import _, fmt_int, fmt_percent
from bot.models import HamletCounts


@dataclass(frozen=True)
class Indicator:
    """A figure (done of whole) next to its target share."""

    done: int
    whole: int
    target: float | None

    @property
    def share(self) -> float | None:
        return self.done / self.whole if self.whole > 0 else None

    @property
    def gap(self) -> int:
        """How many more are needed to reach the target."""
        if self.target is None:
            return 0
        # The small epsilon keeps 0.85 * 100 (= 85.00000000000001) from asking for 86.
        return max(0, math.ceil(self.target * self.whole - 1e-9) - self.done)

    @property
    def reached(self) -> bool:
        # Nothing to count (no level-2 account yet to activate) is not a target met.
        return self.target is not None and self.whole > 0 and self.gap == 0

    def __add__(self, other: Indicator) -> Indicator:
        return Indicator(self.done + other.done, self.whole + other.whole, self.target)


@dataclass(frozen=True)
class HamletIndicators:
    """The plan's three measures for one hamlet."""

    capable: Indicator  # households with someone who can use VNeID, of all households
    level2: Indicator  # level-2 accounts, of eligible citizens
    activation: Indicator  # activated accounts, of level-2 accounts


def hamlet_indicators(commune: Commune, hamlet: Hamlet, counts: HamletCounts
                      ) -> HamletIndicators:
    """A hamlet's measures: its configured baselines plus what was logged, against targets."""
    targets = commune.targets
    level2 = hamlet.level2_baseline + counts.level2_registered
    return HamletIndicators(
        capable=Indicator(counts.capable_households, hamlet.households,
                          targets.capable_households),
        level2=Indicator(level2, hamlet.eligible_citizens, targets.level2_registration),
        activation=Indicator(hamlet.activated_baseline + counts.activated, level2,
                             targets.activation))


def figure_text(ind: Indicator) -> str:
    """"45/60 (75%) — target 85%, 7 to go", in the current language."""
    text = f"{fmt_int(ind.done)}/{fmt_int(ind.whole)} ({fmt_percent(ind.share)})"
    if ind.target is None:
        return text
    if ind.whole <= 0:
        return text + " — " + _("target {target}, nothing to count yet").format(
            target=fmt_percent(ind.target))
    if ind.reached:
        return text + " — " + _("target {target} reached").format(target=fmt_percent(ind.target))
    return text + " — " + _("target {target}, {n} to go").format(
        target=fmt_percent(ind.target), n=fmt_int(ind.gap))
