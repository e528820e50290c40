"""Domain services: the product's rules, free of any chat library."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.helpdesk.service import HelpdeskService
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

    settings: Settings
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
        return cls(
            settings=settings, db=db, repos=repos, clock=clock,
            members=MembershipService(repos, settings, clock),
            households=HouseholdService(repos, settings, clock),
            records=RecordService(repos, settings, clock),
            progress=ProgressService(repos, settings, clock),
            digests=DigestService(repos, settings, clock),
            report_builds=DigestService(Repositories(reader) if reader else repos, settings,
                                        clock),
            helpdesk=HelpdeskService(repos, settings, clock),
            feedback=FeedbackService(repos, settings, clock),
            accounts=accounts,
            announcements=AnnouncementService(repos, settings, clock, accounts),
            privacy=PrivacyService(repos, clock),
        )

    async def sync_places(self) -> None:
        """Copy communes and hamlets from the configuration into the database."""
        await self.repos.places.sync_configured(
            [{"code": c.code, "name": c.name, "timezone": c.timezone, "language": c.language}
             for c in self.settings.communes],
            [{"code": h.code, "commune_code": c.code, "name": h.name, "households": h.households,
              "eligible_citizens": h.eligible_citizens, "level2_baseline": h.level2_baseline,
              "activated_baseline": h.activated_baseline}
             for c in self.settings.communes for h in c.hamlets],
        )
