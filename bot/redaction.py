"""Keep secrets and citizen ID numbers out of every log line, whoever writes it.

python-telegram-bot puts the token in some messages (InvalidToken: "The token `…` was
rejected"), an HTTP error may carry a request URL, and an exception may carry what a person typed.
A log record factory sees every record before any handler does, so nothing reaches a log
file, the console or a test's captured logs unredacted.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from typing import Any

from bot.textnorm import redact_citizen_ids

MASK = "[redacted]"
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    """The text without any registered secret or citizen ID number."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact_citizen_ids(text)[0]


def add_secrets(secrets: Iterable[str | None]) -> None:
    """Register values never to be logged (tokens, webhook secrets); short ones are ignored."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            _secrets.add(secret)
            # The part after "<bot id>:" is the real secret of a Telegram token.
            if ":" in secret and len(secret.split(":", 1)[1]) >= 8:
                _secrets.add(secret.split(":", 1)[1])


def install(secrets: Iterable[str | None] = ()) -> None:
    """Redact every log record from now on (idempotent); `secrets` are added to the list."""
    global _installed
    add_secrets(secrets)
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(factory)


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what can be shown
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        # The formatter would print the raw exception again from exc_info.
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
