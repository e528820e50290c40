"""The deployment's settings with the places the database holds now.

`config.toml` is read once, at start; the communes imported from the list of units
(`python -m bot places import`) may change while workers run. Each worker keeps one
LiveSettings shared by all its services; every update reads the places' version with its
first trip, and a worker whose places are older reloads them before going on. So no worker
serves places that differ from the database's, and none needs a restart after an import.
"""

from __future__ import annotations

from bot.config import Commune, Hamlet, Settings
from storage.engine import Database
from storage.places import PlacesRepository


async def with_stored_places(settings: Settings, db: Database) -> Settings:
    """The settings with the communes imported into the database added after the configured
    ones (which keep their own targets, campaign and zone); the same settings when none were.
    """
    communes, hamlets = await PlacesRepository(db).imported()
    configured = {c.code for c in settings.communes}
    extra = [c for c in communes if c.code not in configured]
    if not extra:
        return settings
    by_commune: dict[str, list[Hamlet]] = {}
    for h in hamlets:
        # Checked when imported: built without validating again (a country is 10⁴ hamlets).
        by_commune.setdefault(h.commune_code, []).append(Hamlet.model_construct(
            code=h.code, name=h.name, households=h.households,
            eligible_citizens=h.eligible_citizens, level2_baseline=h.level2_baseline,
            activated_baseline=h.activated_baseline))
    added = [Commune.model_construct(code=c.code, name=c.name, timezone=c.timezone,
                                     language="en" if c.language == "en" else "vi",
                                     hamlets=by_commune[c.code])
             for c in extra if by_commune.get(c.code)]
    return settings.serving([*settings.communes, *added])


class LiveSettings:
    """One worker's settings, with the places as of the version it last read."""

    def __init__(self, configured: Settings) -> None:
        self.configured = configured
        self.current = configured
        self.places_version: int | None = None

    async def follow(self, db: Database, version: int | None = None) -> None:
        """Reload the places when the database's version (read now when not given) differs
        from the one they were read at."""
        if version is None:
            version = await PlacesRepository(db).version()
        if version == self.places_version:
            return
        # Two updates may both find the version moved and both reload: the same places, and
        # no lock that a transaction on the same connection could wait behind.
        current = await with_stored_places(self.configured, db)
        self.current, self.places_version = current, version


class ReadsLiveSettings:
    """For services: `self.settings` are the deployment's settings with the current places."""

    live: LiveSettings

    @property
    def settings(self) -> Settings:
        """The settings with the places as this worker last read them."""
        return self.live.current
