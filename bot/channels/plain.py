"""Rendering for channels without buttons (Zalo, the console): numbered options, split texts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.choices import is_value, numbered_by_value, offered
from bot.i18n import _
from bot.messages import Option, Reply


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text into parts under `limit` characters, at paragraphs, then lines, then spaces."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, 0, limit + 1)
        if cut > limit // 3:
            return [text[:cut].rstrip(), *split_text(text[cut + len(separator):], limit)]
    return [text[:limit], *split_text(text[limit:], limit)]


# A label may carry its own number already ("1. Hộ Lan …", "☐ 2. Cài VNeID"): shown as is,
# so a list never reads "1. 1. …".
_OWN_NUMBER = re.compile(r"^\W*(\d+)\.\s")


def _numbered(number: int, label: str) -> str:
    own = _OWN_NUMBER.match(label)
    return label if own and int(own.group(1)) == number else f"{number}. {label}"


def options_text(options: Sequence[Option], first: int = 1, *, by_value: bool = False) -> str:
    """Options as lines a person answers by typing; numbered unless options are numbers."""
    if not options:
        return ""
    if by_value or numbered_by_value(options):
        values = [o.label for o in options if is_value(o)]
        lines = [_("Reply with the number itself: {values}").format(values=", ".join(values))
                 ] if values else []
        lines += [_("or type “{words}”").format(words=o.label) for o in options if not is_value(o)]
        return "\n".join(lines)
    lines = [_numbered(first + i, o.label) for i, o in enumerate(options)]
    last = first + len(options) - 1
    hint = (_("Reply 1 to choose it.") if last == 1 else
            _("Reply with a number from {first} to {last}, or type the words.").format(
                first=first, last=last))
    return "\n".join([*lines, hint])


def render_replies(replies: Sequence[Reply]) -> list[str]:
    """Each reply as one text; options numbered across the replies the way choices.offered counts."""
    shown = offered(replies)
    by_value = numbered_by_value(shown)
    texts: list[str] = []
    number = 1
    for reply in replies:
        options = [o for row in reply.options for o in row]
        parts = [reply.text] if reply.text else []
        if options and reply.to is not None:
            parts.append(options_text(options))  # shown to someone else: a list of its own
        elif options:
            parts.append(options_text(options, number, by_value=by_value))
            number += len(options)
        texts.append("\n\n".join(parts))
    return texts
