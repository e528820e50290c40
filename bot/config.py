"""Deployment configuration: `config.toml` validated by pydantic; secrets from the environment."""

from __future__ import annotations

import os
import tomllib
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

Language = Literal["vi", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Targets(_Strict):
    """The plan's targets, as shares between 0 and 1 (seed 003: 85% level 2, 90% activation)."""

    capable_households: float = Field(1.0, ge=0, le=1)
    level2_registration: float = Field(0.85, ge=0, le=1)
    activation: float = Field(0.90, ge=0, le=1)
    weekly_visits_per_hamlet: int = Field(0, ge=0)


class OfficeTargets(_Strict):
    """Office-side indicators of the plans (seeds 000, 002, 004), as shares between 0 and 1."""

    online_dossiers: float | None = Field(0.5, ge=0, le=1)
    digitised_results: float | None = Field(1.0, ge=0, le=1)
    synced_to_portal: float | None = Field(0.5, ge=0, le=1)
    online_payments: float | None = Field(0.3, ge=0, le=1)
    on_time: float | None = Field(0.95, ge=0, le=1)
    satisfaction: float | None = Field(0.9, ge=0, le=1)


class Campaign(_Strict):
    """A drive with a start and end date and its own targets (seed 003: 60 days)."""

    name: str = Field(min_length=1)
    start: date
    end: date
    level2_target: float = Field(0.85, ge=0, le=1)
    activation_target: float = Field(0.90, ge=0, le=1)
    # The campaign's baseline when it covers more than the configured hamlets (a district);
    # when left out, the hamlets' own figures are summed.
    eligible_citizens: int | None = Field(None, gt=0)
    level2_baseline: int | None = Field(None, ge=0)
    activated_baseline: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Campaign:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Hamlet(_Strict):
    """A hamlet (thôn/xóm/tổ dân phố) with the figures its targets are measured against."""

    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1)
    households: int = Field(gt=0)
    eligible_citizens: int = Field(gt=0)
    level2_baseline: int = Field(0, ge=0)
    activated_baseline: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _baselines_fit(self) -> Hamlet:
        if self.level2_baseline > self.eligible_citizens:
            raise ValueError("level2_baseline is larger than eligible_citizens")
        if self.activated_baseline > self.level2_baseline:
            raise ValueError("activated_baseline is larger than level2_baseline")
        return self


class Commune(_Strict):
    """A commune (xã/phường) and its hamlets."""

    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1)
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Language = "vi"
    targets: Targets = Targets()
    office_targets: OfficeTargets = OfficeTargets()
    campaign: Campaign | None = None
    hamlets: list[Hamlet] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The commune's time zone object."""
        return ZoneInfo(self.timezone)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = r"^([01]?\d|2[0-3]):[0-5]\d$"


class Schedule(_Strict):
    """When reports go out, in each commune's own time zone."""

    digest_day: str = "fri"
    digest_time: str = Field("15:00", pattern=_TIME)
    reminder_day: str = "fri"
    reminder_time: str = Field("08:00", pattern=_TIME)
    follow_up_time: str = Field("07:30", pattern=_TIME)
    monthly_time: str = Field("08:00", pattern=_TIME)
    quarterly_time: str = Field("08:30", pattern=_TIME)
    catch_up_hours: int = Field(24, ge=0, le=24 * 7)

    @field_validator("digest_day", "reminder_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.lower() not in WEEKDAYS:
            raise ValueError(f"day must be one of {', '.join(WEEKDAYS)}")
        return value.lower()


class Province(_Strict):
    name: str = Field(min_length=1)


class Database(_Strict):
    path: str = "data/bot.sqlite3"


class BotSettings(_Strict):
    default_language: Language = "vi"
    invite_ttl_days: int = Field(7, ge=1, le=90)
    max_invite_failures: int = Field(5, ge=1, le=100)
    # Wrong codes from all accounts together within the window before joining pauses.
    max_invite_failures_global: int = Field(30, ge=1, le=10_000)
    invite_failure_window_minutes: int = Field(15, ge=1, le=24 * 60)
    correction_window_days: int = Field(7, ge=1, le=60)
    # Time to handle a citizen's phản ánh/kiến nghị, in working days (Decree 20/2008/NĐ-CP
    # gives 10 for a phản ánh); past it a petition shows as overdue in the digest.
    petition_working_days: int = Field(10, ge=1, le=90)


class Settings(_Strict):
    """The whole configuration file."""

    database: Database = Database()
    bot: BotSettings = BotSettings()
    schedule: Schedule = Schedule()
    province: Province | None = None
    # Empty when every commune comes from the list of units (`python -m bot places import`);
    # bot.app.open_services refuses to start with no commune at all.
    communes: list[Commune] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_codes(self) -> Settings:
        seen_communes: set[str] = set()
        seen_hamlets: set[str] = set()
        for commune in self.communes:
            if commune.code in seen_communes:
                raise ValueError(f"commune code {commune.code!r} is used twice")
            seen_communes.add(commune.code)
            for hamlet in commune.hamlets:
                if hamlet.code in seen_hamlets:
                    raise ValueError(f"hamlet code {hamlet.code!r} is used twice")
                seen_hamlets.add(hamlet.code)
        return self

    # Indexes built once per Settings (it is frozen): a country's thousands of communes are
    # looked up by code on every update, never scanned.
    @cached_property
    def _communes_by_code(self) -> dict[str, Commune]:
        return {commune.code: commune for commune in self.communes}

    @cached_property
    def _hamlets_by_code(self) -> dict[str, tuple[Commune, Hamlet]]:
        return {hamlet.code.lower(): (commune, hamlet)
                for commune in self.communes for hamlet in commune.hamlets}

    def serving(self, communes: list[Commune]) -> Settings:
        """These settings serving other communes (with indexes of their own)."""
        copy = self.model_copy(update={"communes": communes})
        # model_copy copies the instance's dict, cached indexes included: drop them.
        for index in ("_communes_by_code", "_hamlets_by_code"):
            copy.__dict__.pop(index, None)
        return copy

    def commune(self, code: str | None) -> Commune:
        """The commune with this code (KeyError if unknown or None)."""
        if code is None:
            raise KeyError(code)
        return self._communes_by_code[code]

    def hamlet(self, code: str) -> tuple[Commune, Hamlet] | None:
        """The hamlet with this code and its commune, or None."""
        return self._hamlets_by_code.get(code.lower())

    @property
    def database_path(self) -> str:
        """Database path: `BOT_DATABASE` from the environment wins over the file."""
        return os.environ.get("BOT_DATABASE") or self.database.path


class Secrets(BaseModel):
    """Tokens that never live in files."""

    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # The bot's own HTTP server (webhooks, downloads, /healthz) and its public https base.
    http_listen: str | None = None
    public_url: str | None = None
    # How many worker processes serve this deployment (one database, one token): they divide
    # Telegram's overall budget and share each chat's spacing through the database.
    workers: int = Field(default=1, ge=1, le=64)
    # Telegram's overall budget for one token: 30 a second; more only where the Bot API allows
    # it (paid broadcasts), or in a benchmark that measures the workers rather than Telegram.
    telegram_per_second: int = Field(default=30, ge=1, le=1000)
    # False only against a Bot API server of one's own that enforces no limits (a benchmark
    # with no limiter on either side); against Telegram it would earn 429s.
    telegram_limiter: bool = True
    zalo_bot_token: SecretStr | None = None
    zalo_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: SecretStr | None = None
    zalo_oa_app_id: str | None = None
    zalo_oa_app_secret: SecretStr | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_oa_id: str | None = None
    zalo_oa_access_token: SecretStr | None = None
    zalo_oa_refresh_token: SecretStr | None = None
    zalo_oa_api_base_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_base_url: str = "https://oauth.zaloapp.com"

    def hidden_values(self) -> list[str]:
        """Every secret's value, for the log redaction (tokens, webhook secrets, app keys)."""
        return [value.get_secret_value() for value in self.__dict__.values()
                if isinstance(value, SecretStr)]

    @classmethod
    def from_env(cls) -> Secrets:
        """Read the secrets from the environment."""
        env = {key: value for key, value in os.environ.items() if value}

        def secret(name: str) -> SecretStr | None:
            return SecretStr(env[name]) if name in env else None

        return cls(
            telegram_token=secret("TELEGRAM_BOT_TOKEN"),
            telegram_base_url=env.get("TELEGRAM_BASE_URL"),
            telegram_base_file_url=env.get("TELEGRAM_BASE_FILE_URL"),
            telegram_webhook_secret=secret("TELEGRAM_WEBHOOK_SECRET"),
            http_listen=env.get("BOT_HTTP_LISTEN"),
            public_url=env.get("BOT_PUBLIC_URL"),
            workers=env.get("BOT_WORKERS", 1),
            telegram_per_second=env.get("TELEGRAM_MESSAGES_PER_SECOND", 30),
            telegram_limiter=env.get("TELEGRAM_LIMITER", "on").lower() not in ("off", "0",
                                                                                "false", "no"),
            zalo_bot_token=secret("ZALO_BOT_TOKEN"),
            zalo_base_url=env.get("ZALO_BASE_URL", cls.model_fields["zalo_base_url"].default),
            zalo_webhook_secret=secret("ZALO_WEBHOOK_SECRET"),
            zalo_oa_app_id=env.get("ZALO_OA_APP_ID"),
            zalo_oa_app_secret=secret("ZALO_OA_APP_SECRET"),
            zalo_oa_secret_key=secret("ZALO_OA_SECRET_KEY"),
            zalo_oa_id=env.get("ZALO_OA_ID"),
            zalo_oa_access_token=secret("ZALO_OA_ACCESS_TOKEN"),
            zalo_oa_refresh_token=secret("ZALO_OA_REFRESH_TOKEN"),
            zalo_oa_api_base_url=env.get("ZALO_OA_API_BASE_URL",
                                         cls.model_fields["zalo_oa_api_base_url"].default),
            zalo_oa_oauth_base_url=env.get("ZALO_OA_OAUTH_BASE_URL",
                                           cls.model_fields["zalo_oa_oauth_base_url"].default),
        )

    @property
    def zalo_oa_ready(self) -> bool:
        """Enough to run the OA channel: app, webhook key and a token to start from."""
        return bool(self.zalo_oa_app_id and self.zalo_oa_secret_key and self.zalo_oa_app_secret
                    and (self.zalo_oa_access_token or self.zalo_oa_refresh_token))


class ConfigError(Exception):
    """The configuration file is missing or invalid; the message names the field."""


def _describe(error: ValidationError, settings_source: dict) -> str:
    lines = []
    for item in error.errors():
        location = _location(item["loc"], settings_source)
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def _location(loc: tuple, source: dict) -> str:
    """Render a pydantic location with names instead of bare list indexes where possible."""
    parts: list[str] = []
    node: object = source
    for key in loc:
        if isinstance(key, int) and isinstance(node, list):
            item = node[key] if key < len(node) else None
            label = item.get("code") if isinstance(item, dict) else None
            parts[-1] = f"{parts[-1]}[{key}{f' {label!r}' if label else ''}]"
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(file)"


def load_settings(path: str | Path) -> Settings:
    """Read and validate a TOML configuration file, raising ConfigError with a readable message."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a folder, not a configuration file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") \
            from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration\n{_describe(exc, raw)}") from exc
