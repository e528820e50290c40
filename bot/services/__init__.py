"""Domain services: the product's rules, free of any chat library."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.helpdesk.service import HelpdeskService
from bot.live_settings import LiveSettings
from bot.reports.digest import DigestService
from bot.services.accounts import AccountService
from bot.services.announcements import AnnouncementService
from bot.services.feedback import FeedbackService
from bot.services.households import HouseholdService
from bot.services.members import MembershipService
from bot.services.privacy import PrivacyService
from bot.services.progress import ProgressService
from bot.services.records import RecordService
from storage.engine import Database
from storage.repositories import Repositories


@dataclass
class Services:
    """Everything flows and jobs need, built once in the composition root."""

    live: LiveSettings
    db: Database
    repos: Repositories
    clock: Clock
    members: MembershipService
    households: HouseholdService
    records: RecordService
    progress: ProgressService
    digests: DigestService
    # The same digests read through the read-only connection: what /digest and the outbox
    # build from, so a province report never queues behind the updates' transactions.
    report_builds: DigestService
    helpdesk: HelpdeskService
    feedback: FeedbackService
    accounts: AccountService
    announcements: AnnouncementService
    privacy: PrivacyService

    @classmethod
    def build(cls, settings: Settings, db: Database, clock: Clock, *,
              reader: Database | None = None) -> Services:
        """Wire the services over one database (and a read-only connection for reports)."""
        repos = Repositories(db)
        accounts = AccountService(repos, clock)
        live = LiveSettings(settings)
        return cls(
            live=live, db=db, repos=repos, clock=clock,
            members=MembershipService(repos, live, clock),
            households=HouseholdService(repos, live, clock),
            records=RecordService(repos, live, clock),
            progress=ProgressService(repos, live, clock),
            digests=DigestService(repos, live, clock),
            report_builds=DigestService(Repositories(reader) if reader else repos, live, clock),
            helpdesk=HelpdeskService(repos, live, clock),
            feedback=FeedbackService(repos, live, clock),
            accounts=accounts,
            announcements=AnnouncementService(repos, live, clock, accounts),
            privacy=PrivacyService(repos, clock),
        )

    @property
    def settings(self) -> Settings:
        """The deployment's settings with the places this worker last read."""
        return self.live.current

    async def follow_places(self, version: int | None = None) -> None:
        """Reload the places if another process imported some since they were read."""
        await self.live.follow(self.db, version)

    async def sync_places(self) -> None:
        """Copy communes and hamlets from the configuration into the database."""
        configured = self.live.configured
        await self.repos.places.sync_configured(
            [{"code": c.code, "name": c.name, "timezone": c.timezone, "language": c.language}
             for c in configured.communes],
            [{"code": h.code, "commune_code": c.code, "name": h.name, "households": h.households,
              "eligible_citizens": h.eligible_citizens, "level2_baseline": h.level2_baseline,
              "activated_baseline": h.activated_baseline}
             for c in configured.communes for h in c.hamlets],
        )
