"""Gettext catalogs (Babel) with the current language in a context variable, and Babel formatting."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every .po under locales_dir whose .mo is missing or older; return what was written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


@cache
def translations(language: str) -> Translations:
    """The compiled catalog for a language (compiled on first use when needed)."""
    try:
        compile_catalogs()
    except OSError:
        # A read-only install: compile in memory instead of beside the .po file.
        po_path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    loaded = Translations.load(str(LOCALES_DIR), [language], DOMAIN)
    if not isinstance(loaded, Translations):
        raise FileNotFoundError(f"no compiled catalog for {language!r} under {LOCALES_DIR}")
    return loaded


def normalize_language(code: str | None) -> str:
    """Map a client language code ("vi-VN", "en_US", None) to a supported language."""
    if code:
        short = code.replace("_", "-").split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the message being built."""
    return _current.get()


@contextlib.contextmanager
def use_language(language: str) -> Iterator[None]:
    """Build messages in this language inside the block (jobs use it: they have no incoming message)."""
    token = _current.set(normalize_language(language))
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """Translate into the current language."""
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with the plural form Babel's catalog picks for n."""
    return translations(_current.get()).ungettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a module-level string for extraction; translate it later with gettext()."""
    return message


_ = gettext


def locale() -> Locale:
    """The Babel locale of the current language."""
    return _locale(_current.get())


@cache
def _locale(language: str) -> Locale:
    # Parsed once per language: progress texts format a dozen figures per update.
    return Locale.parse(language)


def fmt_int(value: int) -> str:
    """A whole number with the locale's grouping (1.234 in Vietnamese, 1,234 in English)."""
    return _decimal(value, _current.get())


def fmt_percent(share: float | None) -> str:
    """A share (0.853) as a percentage with one decimal (85,3%); a dash when undefined."""
    if share is None:
        return "–"
    return _percent(share, _current.get())


# Progress texts format a dozen figures per update, mostly the same few (targets, hamlet
# sizes): Babel's formatting costs tens of microseconds a figure, a cache hit well under one.
@lru_cache(maxsize=4096)
def _decimal(value: int, language: str) -> str:
    return format_decimal(value, locale=_locale(language))


@lru_cache(maxsize=4096)
def _percent(share: float, language: str) -> str:
    return format_percent(share, format="#,##0.#%", locale=_locale(language))


def fmt_date(value: date | datetime) -> str:
    """A short date as people write it (22/11/2026 in Vietnamese)."""
    return format_date(value, format="short" if current_language() == "en" else "dd/MM/yyyy",
                       locale=locale())


def fmt_datetime(value: datetime) -> str:
    """Date and time in the locale's short form."""
    pattern = "dd/MM/yyyy HH:mm" if current_language() == "vi" else "short"
    return format_datetime(value, format=pattern, tzinfo=value.tzinfo, locale=locale())
