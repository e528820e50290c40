"""A local stand-in for the Telegram Bot API, for tests.

:class:`BotApiStub` is a small aiohttp web server that speaks the published Bot API
(https://core.telegram.org/bots/api) closely enough for an unmodified
python-telegram-bot ``Bot`` / ``Application`` to run against it.  Tests start it on
127.0.0.1 with a random free port, point the bot at :attr:`BotApiStub.base_url` and
:attr:`BotApiStub.base_file_url`, push updates into it as if users were talking to the
bot, and then inspect what the bot called.

Behaviour copied from the real server, because bots depend on it:

* every answer is ``{"ok": true, "result": ...}`` or
  ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``;
* method names are case-insensitive; parameters may come in the query string, a JSON
  body, an url-encoded form or ``multipart/form-data`` (file uploads, ``attach://``);
* ``getUpdates`` is a real long poll: it honours ``offset`` (updates with a smaller
  ``update_id`` are confirmed and forgotten), ``limit``, ``timeout`` and
  ``allowed_updates``; a second concurrent poll ends the first one with 409 Conflict;
* text and captions are parsed with ``parse_mode`` HTML, MarkdownV2 or Markdown into
  entities (UTF-16 offsets), trimmed, and length-checked after parsing, with the same
  error descriptions as Telegram (e.g. reserved characters in MarkdownV2);
* ``Message.reply_markup`` only ever holds an *inline* keyboard; editing a message
  without ``reply_markup`` removes its inline keyboard; an edit that changes nothing
  fails with "message is not modified";
* a call that the client gave up on (timeout) is still carried out, as on Telegram.

Faults are injected with :meth:`BotApiStub.fail_next` and :meth:`BotApiStub.delay_next`.
``latency`` adds a network round trip to every call (half on the way in, half on the way
back); ``flood_limits`` makes the stub refuse messages over Telegram's limits with 429
``retry_after``, counting each message when it arrives, by sliding windows.
"""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import posixpath
import re
import socket
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "BotApiStub",
    "FloodLimits",
    "SentMessage",
    "StoredFile",
    "UploadedFile",
    "make_png",
]

JSONDict = dict[str, Any]

DEFAULT_TOKEN: Final = "123456:TEST-token"

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_WRONG_FILE: Final = "Bad Request: wrong file identifier/HTTP URL specified"

# Parameter types, used to turn form fields (always strings) into typed values.
_INT_PARAMS: Final = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "user_id",
        "duration",
        "width",
        "height",
    }
)
_BOOL_PARAMS: Final = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_JSON_PARAMS: Final = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_SCOPES: Final = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# Update types that are only delivered when listed explicitly in allowed_updates.
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_WEBHOOK_PORTS: Final = frozenset({80, 88, 443, 8443})
_PHOTO_LIMITS: Final = (90, 320, 800, 1280, 2560)


class _ApiError(Exception):
    """A Bot API error answer (``ok: false``)."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """Return the JSON body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class UploadedFile:
    """A file the client uploaded in a ``multipart/form-data`` request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class ApiCall:
    """One request received by the stub.

    ``method`` uses Telegram's canonical casing (``sendMessage``) whatever the client
    sent; ``params`` holds typed values (``reply_markup`` etc. JSON-decoded, uploaded
    files as :class:`UploadedFile`); ``time`` is the wall-clock arrival time.
    ``status`` and ``response`` are filled in once the answer is ready (they are
    ``None`` while, e.g., a long poll is still waiting).
    """

    method: str
    params: JSONDict
    files: dict[str, UploadedFile]
    time: float
    http_method: str
    status: int | None = None
    response: JSONDict | None = None

    @property
    def ok(self) -> bool:
        """Whether the call was answered successfully."""
        return self.status == 200


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent or edited, as seen from the chat.

    ``text`` is the message text or caption after the call; ``reply_markup`` is the
    markup the bot *requested* (any keyboard type, ``None`` if it sent none);
    ``message`` is the resulting Message object exactly as returned to the bot.
    """

    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: JSONDict | None
    message: JSONDict
    params: JSONDict
    files: dict[str, UploadedFile] = field(default_factory=dict)


@dataclass
class StoredFile:
    """A file known to the stub (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes | None
    file_size: int
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Fault:
    status: int
    description: str
    parameters: JSONDict | None
    remaining: int


@dataclass
class _Delay:
    seconds: float
    remaining: int


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's flood limits for sending and editing messages (None: not enforced)."""

    per_second: int | None = 30  # in any one-second window, over every chat
    chat_interval: float | None = 1.0  # seconds between two messages to one private chat
    group_per_minute: int | None = 20  # in any one-minute window, per group


def _counts_as_message(method: str) -> bool:
    return method.startswith(("send", "edit", "copy", "forward")) and method != "sendchataction"


class _Signal:
    """A re-armable broadcast: :meth:`notify` wakes every current waiter.

    Unlike :class:`asyncio.Condition` it can be notified from synchronous code.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all tasks currently waiting."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], object], timeout: float) -> bool:
        """Wait until ``predicate()`` is true or ``timeout`` seconds pass; return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return bool(predicate())
        return True


# --------------------------------------------------------------------------------------
# Formatted text: parse_mode parsing with Telegram's rules and error descriptions.
# --------------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _EntityParseError(Exception):
    pass


_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_SIMPLE_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_ENTITY_RE: Final = re.compile(r"&(#[xX][0-9a-fA-F]{1,8}|#[0-9]{1,8}|[a-zA-Z]{2,8});")
_HTML_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(text: str, index: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[index] == "&"``; return (char, next index)."""
    match = _HTML_ENTITY_RE.match(text, index)
    if match is None:
        return None
    body = match.group(1)
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    elif body in _HTML_NAMED:
        return _HTML_NAMED[body], match.end()
    else:
        return None
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into plain text and entities."""
    out: list[str] = []
    offset = 0
    entities: list[JSONDict] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, out position
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                offset += _utf16_len(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.append(char)
            offset += _utf16_len(char)
            i += 1
            continue

        begin = i
        at = _byte_offset(text, begin)
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise _EntityParseError(f"Unexpected end tag at byte offset {at}")
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j]
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise _EntityParseError(f"Unclosed end tag at byte offset {at}")
            tag, argument, start, out_pos = stack[-1]
            if end_name and end_name != tag:
                raise _EntityParseError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag}>", '
                    f'found "</{end_name}>"'
                )
            stack.pop()
            if offset > start:
                _add_html_entity(
                    entities, tag, argument, start, offset - start, "".join(out[out_pos:])
                )
            i = j + 1
            continue

        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _EntityParseError(f"Unclosed start tag at byte offset {at}")
        tag = text[i:j].lower()
        if tag not in _HTML_TAGS:
            raise _EntityParseError(f'Unsupported start tag "{tag}" at byte offset {at}')
        i = j
        argument = ""
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise _EntityParseError(f"Unclosed start tag at byte offset {at}")
            if text[i] == ">":
                break
            name_begin = i
            while i < n and not text[i].isspace() and text[i] not in "=>":
                i += 1
            name = text[name_begin:i]
            if not name:
                raise _EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {at}'
                )
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise _EntityParseError(f"Unclosed start tag at byte offset {at}")
            if text[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                    continue
                raise _EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {at}'
                )
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise _EntityParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
            if text[i] not in "'\"":
                token_begin = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                value = text[token_begin:i].lower()
                if i >= n or (not text[i].isspace() and text[i] != ">"):
                    raise _EntityParseError(
                        f"Unexpected end of name token at byte offset "
                        f"{_byte_offset(text, token_begin)}"
                    )
            else:
                quote = text[i]
                i += 1
                chars: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        decoded = _decode_html_entity(text, i)
                        if decoded is not None:
                            chars.append(decoded[0])
                            i = decoded[1]
                            continue
                    chars.append(text[i])
                    i += 1
                if i < n:
                    i += 1
                value = "".join(chars)
            if i >= n:
                raise _EntityParseError(f"Unclosed start tag at byte offset {at}")
            if tag == "a" and name == "href":
                argument = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value
            elif tag == "blockquote" and name == "expandable":
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise _EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        stack.append((tag, argument, offset, len(out)))
        i += 1  # skip ">"
    if stack:
        raise _EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), entities


def _add_html_entity(
    entities: list[JSONDict], tag: str, argument: str, offset: int, length: int, inner: str
) -> None:
    if tag in _HTML_SIMPLE_TAGS:
        entities.append({"offset": offset, "length": length, "type": _HTML_SIMPLE_TAGS[tag]})
    elif tag == "a":
        url = argument or inner
        if url:
            entities.append({"offset": offset, "length": length, "type": "text_link", "url": url})
    elif tag == "tg-emoji":
        if not argument.isdigit():
            raise _EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "offset": offset,
                "length": length,
                "type": "custom_emoji",
                "custom_emoji_id": argument,
            }
        )
    elif tag == "code":
        entities.append(
            {"offset": offset, "length": length, "type": "code", "_language": argument}
        )
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
        ):
            entities.pop()
            entity: JSONDict = {"offset": offset, "length": length, "type": "pre"}
            if last.get("_language"):
                entity["language"] = last["_language"]
            entities.append(entity)
        else:
            entities.append({"offset": offset, "length": length, "type": "pre"})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({"offset": offset, "length": length, "type": kind})


_MDV2_RESERVED: Final = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _OpenEntity:
    kind: str
    argument: str
    offset: int
    text_index: int
    out_pos: int


def _parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    """Parse MarkdownV2 into plain text and entities, rejecting unescaped reserved chars."""
    out: list[str] = []
    offset = 0
    entities: list[JSONDict] = []
    stack: list[_OpenEntity] = []
    quote_start: int | None = None
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else ""

    def reserved_error(k: int) -> _EntityParseError:
        return _EntityParseError(
            f"Character '{text[k]}' is reserved and must be escaped with the preceding '\\'"
        )

    i = 0
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            offset += 1
            i += 2
            continue
        in_code = bool(stack) and stack[-1].kind in ("code", "pre", "pre_code")
        reserved = "`" if in_code else _MDV2_RESERVED
        if char == ">" and not in_code and (i == 0 or text[i - 1] == "\n"):
            if quote_start is None:
                quote_start = offset
            i += 1
            continue
        if char not in reserved:
            if char == "\n" and quote_start is not None and at(i + 1) != ">":
                if offset > quote_start:
                    entities.append(
                        {
                            "offset": quote_start,
                            "length": offset - quote_start,
                            "type": "blockquote",
                        }
                    )
                quote_start = None
            out.append(char)
            offset += _utf16_len(char)
            i += 1
            continue

        is_end = False
        if stack:
            kind = stack[-1].kind
            if kind == "bold":
                is_end = char == "*"
            elif kind == "italic":
                is_end = char == "_" and at(i + 1) != "_"
            elif kind == "code":
                is_end = char == "`"
            elif kind in ("pre", "pre_code"):
                is_end = char == "`" and at(i + 1) == "`" and at(i + 2) == "`"
            elif kind in ("text_link", "custom_emoji"):
                is_end = char == "]"
            elif kind == "underline":
                is_end = char == "_" and at(i + 1) == "_"
            elif kind == "strikethrough":
                is_end = char == "~"
            elif kind == "spoiler":
                is_end = char == "|" and at(i + 1) == "|"

        if not is_end:
            begin = i
            argument = ""
            if char == "_":
                if at(i + 1) == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif char == "*":
                kind = "bold"
            elif char == "~":
                kind = "strikethrough"
            elif char == "|":
                if at(i + 1) != "|":
                    raise reserved_error(i)
                i += 1
                kind = "spoiler"
            elif char == "[":
                kind = "text_link"
            elif char == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    i += 3
                    kind = "pre"
                    language_end = i
                    while (
                        language_end < n
                        and not text[language_end].isspace()
                        and text[language_end] != "`"
                    ):
                        language_end += 1
                    if i != language_end and language_end < n and text[language_end] != "`":
                        kind = "pre_code"
                        argument = text[i:language_end]
                        i = language_end
                    if at(i) in ("\n", "\r") and at(i):
                        if at(i + 1) in ("\n", "\r") and at(i + 1) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif char == "!":
                if at(i + 1) != "[":
                    raise reserved_error(i)
                i += 1
                kind = "custom_emoji"
            else:
                raise reserved_error(i)
            stack.append(_OpenEntity(kind, argument, offset, begin, len(out)))
            i += 1
            continue

        top = stack[-1]
        argument = top.argument
        if top.kind in ("underline", "spoiler"):
            i += 1
        elif top.kind in ("pre", "pre_code"):
            i += 2
        elif top.kind in ("text_link", "custom_emoji"):
            if at(i + 1) != "(":
                argument = "".join(out[top.out_pos :])
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise _EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                argument = "".join(chars)
        if offset > top.offset:
            entity: JSONDict = {"offset": top.offset, "length": offset - top.offset}
            if top.kind == "text_link":
                if argument:
                    entity.update(type="text_link", url=argument)
                    entities.append(entity)
            elif top.kind == "custom_emoji":
                match = re.fullmatch(r"tg://emoji\?id=(\d+)", argument)
                if match is None:
                    raise _EntityParseError("Custom emoji URL must have an emoji identifier")
                entity.update(type="custom_emoji", custom_emoji_id=match.group(1))
                entities.append(entity)
            elif top.kind == "pre_code":
                entity.update(type="pre", language=argument)
                entities.append(entity)
            else:
                entity["type"] = top.kind
                entities.append(entity)
        stack.pop()
        i += 1
    if stack:
        top = stack[-1]
        raise _EntityParseError(
            f"Can't find end of {_MDV2_NAMES[top.kind]} entity at byte offset "
            f"{_byte_offset(text, top.text_index)}"
        )
    if quote_start is not None and offset > quote_start:
        entities.append(
            {"offset": quote_start, "length": offset - quote_start, "type": "blockquote"}
        )
    return "".join(out), entities


def _parse_markdown(text: str) -> tuple[str, list[JSONDict]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, `` `code` ``, ``[text](url)``)."""
    out: list[str] = []
    offset = 0
    entities: list[JSONDict] = []
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else ""

    i = 0
    while i < n:
        char = text[i]
        if char == "\\" and at(i + 1) in ("_", "*", "`", "[") and at(i + 1):
            out.append(text[i + 1])
            offset += 1
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            offset += _utf16_len(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        is_pre = False
        language = ""
        i += 1
        if char == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre = True
            language_end = i
            while (
                language_end < n and not text[language_end].isspace() and text[language_end] != "`"
            ):
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                language = text[i:language_end]
                i = language_end
            if at(i) in ("\n", "\r") and at(i):
                if at(i + 1) in ("\n", "\r") and at(i + 1) and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        start = offset
        while i < n and (
            text[i] != end_char or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))
        ):
            out.append(text[i])
            offset += _utf16_len(text[i])
            i += 1
        if i >= n:
            raise _EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        length = offset - start
        if length:
            entity: JSONDict = {"offset": start, "length": length}
            if char == "_":
                entities.append({**entity, "type": "italic"})
            elif char == "*":
                entities.append({**entity, "type": "bold"})
            elif char == "[":
                if at(i + 1) != "(":
                    url = text[begin + 1 : i]
                else:
                    i += 2
                    url_chars: list[str] = []
                    while i < n and text[i] != ")":
                        url_chars.append(text[i])
                        i += 1
                    url = "".join(url_chars)
                if url:
                    entities.append({**entity, "type": "text_link", "url": url})
            elif is_pre:
                entities.append(
                    {**entity, "type": "pre", **({"language": language} if language else {})}
                )
            else:
                entities.append({**entity, "type": "code"})
        if is_pre:
            i += 2
        i += 1
    return "".join(out), entities


def _validate_entities(raw: object) -> list[JSONDict]:
    if not isinstance(raw, list):
        raise _bad_request("can't parse entities JSON object")
    result: list[JSONDict] = []
    for item in raw:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("type"), str)
            or not isinstance(item.get("offset"), int)
            or not isinstance(item.get("length"), int)
        ):
            raise _bad_request("can't parse MessageEntity JSON object")
        if item["offset"] >= 0 and item["length"] > 0:
            result.append(dict(item))
    return result


def _format_text(
    text: str, parse_mode: object, explicit_entities: object
) -> tuple[str, list[JSONDict]]:
    """Apply ``parse_mode`` / ``entities`` as Telegram does, then trim whitespace."""
    if explicit_entities is not None:
        plain, entities = text, _validate_entities(explicit_entities)
    else:
        mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
        try:
            if mode == "":
                plain, entities = text, []
            elif mode == "html":
                plain, entities = _parse_html(text)
            elif mode == "markdownv2":
                plain, entities = _parse_markdown_v2(text)
            elif mode == "markdown":
                plain, entities = _parse_markdown(text)
            else:
                raise _bad_request("unsupported parse_mode")
        except _EntityParseError as exc:
            raise _bad_request(f"can't parse entities: {exc}") from exc
    stripped = plain.strip()
    if stripped != plain:
        lead = _utf16_len(plain[: len(plain) - len(plain.lstrip())])
        total = _utf16_len(stripped)
        trimmed: list[JSONDict] = []
        for entity in entities:
            start = max(entity["offset"] - lead, 0)
            end = min(entity["offset"] + entity["length"] - lead, total)
            if end > start:
                trimmed.append({**entity, "offset": start, "length": end - start})
        plain, entities = stripped, trimmed
    else:
        total = _utf16_len(plain)
        entities = [
            {**e, "length": min(e["length"], total - e["offset"])}
            for e in entities
            if e["offset"] < total
        ]
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, entities


# --------------------------------------------------------------------------------------
# Images.
# --------------------------------------------------------------------------------------


def make_png(width: int = 1, height: int = 1, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """Return a valid solid-colour PNG image of the given size (for photo uploads)."""

    def chunk(tag: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(tag + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Read width and height from a PNG, GIF, BMP, WebP or JPEG header."""
    size: tuple[int, int] | None = None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        size = (width, height)
    elif data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        size = (width, height)
    elif data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        size = (width, abs(height))
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            size = (width & 0x3FFF, height & 0x3FFF)
        elif chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        elif chunk == b"VP8X":
            size = (
                int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1,
            )
    elif data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                size = (width, height)
                break
            (segment_length,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + segment_length
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size


def _photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram generates for a photo: thumbnails up to the (capped) original."""
    sizes: list[tuple[int, int]] = []
    longest = max(width, height)
    for limit in _PHOTO_LIMITS:
        scale = min(1.0, limit / longest)
        dims = (max(1, round(width * scale)), max(1, round(height * scale)))
        if not sizes or sizes[-1] != dims:
            sizes.append(dims)
        if scale == 1.0:
            break
    return sizes


# --------------------------------------------------------------------------------------
# Parameters.
# --------------------------------------------------------------------------------------


def _coerce_param(name: str, value: Any) -> Any:
    """Turn a raw parameter (form fields are strings) into its Bot API type."""
    if isinstance(value, UploadedFile) or value is None:
        return value
    if name == "chat_id" or name == "from_chat_id":
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        return value
    if name in _JSON_PARAMS:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                if name == "reply_markup":
                    raise _bad_request("can't parse reply keyboard markup JSON object") from exc
                if name in ("entities", "caption_entities"):
                    raise _bad_request("can't parse entities JSON object") from exc
                raise _bad_request(f"can't parse {name} JSON object") from exc
        return value
    if name in _INT_PARAMS:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(float(value))
            except ValueError:
                pass
        raise _bad_request(f"wrong parameter {name} in request")
    if name in _BOOL_PARAMS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "false", "0", ""):
            return value.lower() in ("true", "1")
        if isinstance(value, int):
            return bool(value)
        raise _bad_request(f"wrong parameter {name} in request")
    return value


def _short(value: object, limit: int = 160) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------
# The stub server.
# --------------------------------------------------------------------------------------

_Handler = Callable[["_Request"], Any]


@dataclass
class _Request:
    """Parsed parameters of one API call, handed to a method implementation."""

    params: JSONDict
    files: dict[str, UploadedFile]
    http: web.Request
    call: ApiCall

    def has(self, name: str) -> bool:
        value = self.params.get(name)
        return value is not None and value != ""

    def get_str(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise _bad_request(f"wrong parameter {name} in request")

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.params.get(name)
        return default if value is None or value == "" else int(value)

    def get_bool(self, name: str) -> bool:
        return bool(self.params.get(name, False))


@dataclass
class _Described:
    """A successful result that Telegram accompanies with a ``description``."""

    result: Any
    description: str


class BotApiStub:
    """An in-process Telegram Bot API server for tests.

    Use as ``async with BotApiStub() as stub:`` (or call :meth:`start` / :meth:`stop`)
    and build the bot with ``Bot(stub.token, base_url=stub.base_url,
    base_file_url=stub.base_file_url)``.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_first_name: str = "Test Bot",
        bot_username: str = "test_stub_bot",
        strict_chats: bool = False,
        host: str = "127.0.0.1",
        latency: float = 0.0,
        flood_limits: FloodLimits | None = None,
        first_update_id: int = 1,
    ) -> None:
        """Create a stopped stub.

        ``token`` must look like ``<bot id>:<secret>``; the bot id becomes the id of
        :attr:`bot_user`.  With ``strict_chats`` sending to a chat that never wrote to
        the bot fails with "chat not found" as on Telegram; by default such chats are
        invented as private chats.
        """
        bot_id, sep, _secret = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        self._token = token
        self._host = host
        self._latency = latency
        self.flood_limits = flood_limits
        self.message_times: list[float] = []
        """Arrival times (time.monotonic) of every message the flood limits let through."""
        self.flood_rejections = 0
        """Messages refused with 429 for going over ``flood_limits``."""
        self._chat_last: dict[int, float] = {}
        self._group_times: dict[int, list[float]] = {}
        self.sent_listeners: list[Callable[[SentMessage], None]] = []
        """Called with every message the bot sent or edited, as it is recorded."""
        self._strict_chats = strict_chats
        self._bot_user: JSONDict = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._signal = _Signal()

        self.calls: list[ApiCall] = []
        """Every request received, oldest first (see :class:`ApiCall`)."""
        self.internal_errors: list[Exception] = []
        """Unexpected exceptions inside the stub (answered as 500); should stay empty."""
        self._sent: list[SentMessage] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[_Delay]] = {}

        self._queue: list[JSONDict] = []
        # Telegram's update ids only grow: a stub standing in for it after another one (same
        # bot database) starts above the ids that one handed out.
        self._last_update_id = first_update_id - 1
        self._confirmed_up_to = 0
        self._poll_generation = 0
        self._allowed_updates: list[str] = []

        self._chats: dict[int, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._bot_messages: set[tuple[int, int]] = set()

        self._callback_counter = 0
        self._pending_callbacks: set[str] = set()
        self._callback_by_update: dict[int, str] = {}
        self.callback_answers: dict[str, JSONDict] = {}
        """answerCallbackQuery parameters by callback query id."""

        self._files: dict[str, StoredFile] = {}
        self._file_counter = 0
        self.my_commands: dict[str, list[JSONDict]] = {}
        """Commands set with setMyCommands, keyed by :meth:`commands_key`."""
        self.webhook: JSONDict | None = None
        """The current webhook settings (``None`` when no webhook is set)."""

        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._api_get_me,
                "getUpdates": self._api_get_updates,
                "setWebhook": self._api_set_webhook,
                "deleteWebhook": self._api_delete_webhook,
                "getWebhookInfo": self._api_get_webhook_info,
                "sendMessage": self._api_send_message,
                "sendPhoto": self._api_send_photo,
                "sendDocument": self._api_send_document,
                "sendChatAction": self._api_send_chat_action,
                "editMessageText": self._api_edit_message_text,
                "editMessageCaption": self._api_edit_message_caption,
                "editMessageReplyMarkup": self._api_edit_message_reply_markup,
                "deleteMessage": self._api_delete_message,
                "answerCallbackQuery": self._api_answer_callback_query,
                "setMyCommands": self._api_set_my_commands,
                "getMyCommands": self._api_get_my_commands,
                "deleteMyCommands": self._api_delete_my_commands,
                "getFile": self._api_get_file,
                "close": self._api_close,
                "logOut": self._api_log_out,
            }.items()
        }

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start serving on a random free port of the configured host."""
        if self._runner is not None:
            raise RuntimeError("BotApiStub is already running")
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        for verb in ("GET", "POST"):
            app.router.add_route(verb, "/bot{token}/{method}", self._handle_api)
            app.router.add_route(verb, "/file/bot{token}/{file_path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self._host, 0))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = sock.getsockname()[1]
        self._closing = False
        self._runner = runner

    async def stop(self) -> None:
        """Stop serving; pending long polls and delayed calls are answered at once."""
        if self._runner is None:
            return
        self._closing = True
        self._signal.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> BotApiStub:
        """Start the stub."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the stub."""
        await self.stop()

    # ---------------------------------------------------------------- properties

    @property
    def token(self) -> str:
        """The only bot token the stub accepts."""
        return self._token

    @property
    def port(self) -> int:
        """The TCP port the stub listens on (only while running)."""
        if self._port is None:
            raise RuntimeError("BotApiStub is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (``http://127.0.0.1:PORT/bot``)."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (``http://127.0.0.1:PORT/file/bot``)."""
        return f"http://{self._host}:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot's User object as returned by getMe."""
        return copy.deepcopy(self._bot_user)

    @property
    def updates_confirmed_up_to(self) -> int:
        """Highest update_id the client confirmed (``offset - 1``); 0 if none yet."""
        return self._confirmed_up_to

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates pushed but not yet confirmed by the client (copies)."""
        return copy.deepcopy(self._queue)

    @property
    def files(self) -> dict[str, StoredFile]:
        """Every file known to the stub, by file_id."""
        return dict(self._files)

    # ---------------------------------------------------------------- pushing updates

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an arbitrary Update object and return its update_id.

        Without an ``update_id`` the next one is assigned.  An explicit ``update_id``
        is kept as is, so the same update can be pushed twice to simulate a duplicate
        delivery; a re-pushed update is delivered again even if an earlier copy was
        already confirmed.
        """
        raw = copy.deepcopy(dict(update))
        if "update_id" not in raw:
            self._last_update_id += 1
            raw["update_id"] = self._last_update_id
        else:
            update_id = raw["update_id"]
            if not isinstance(update_id, int):
                raise TypeError("update_id must be an int")
            self._last_update_id = max(self._last_update_id, update_id)
        self._queue.append(raw)
        self._signal.notify()
        return int(raw["update_id"])

    def take_update(self, update_id: int) -> JSONDict:
        """Remove a pushed update from the getUpdates queue and return it, to POST it to a
        webhook instead (the newest first: it is usually the one just pushed)."""
        for index in range(len(self._queue) - 1, -1, -1):
            if self._queue[index]["update_id"] == update_id:
                return self._queue.pop(index)
        raise KeyError(update_id)

    def push_text(
        self, user_id: int, text: str, *, first_name: str = "Lan", language_code: str = "vi"
    ) -> int:
        """Simulate a user writing ``text`` to the bot in their private chat.

        A leading ``/command`` (optionally ``/command@botname``) gets a ``bot_command``
        entity at offset 0, as Telegram adds.  Returns the update_id.
        """
        message = self._new_user_message(user_id, first_name, language_code)
        message["text"] = text
        command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?", text)
        if command is not None:
            message["entities"] = [
                {"offset": 0, "length": _utf16_len(command.group(0)), "type": "bot_command"}
            ]
        return self.push_update({"message": message})

    def push_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        first_name: str = "Lan",
        language_code: str = "vi",
    ) -> int:
        """Simulate a user sending a (static, regular) sticker; returns the update_id."""
        stored = self._store_file("sticker", make_png(512, 512), "sticker.webp", "image/webp")
        message = self._new_user_message(user_id, first_name, language_code)
        message["sticker"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "StubStickers",
            "file_size": stored.file_size,
        }
        return self.push_update({"message": message})

    def push_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        width: int = 640,
        height: int = 480,
        first_name: str = "Lan",
        language_code: str = "vi",
    ) -> int:
        """Simulate a user sending a photo (optionally with a caption); returns the update_id."""
        message = self._new_user_message(user_id, first_name, language_code)
        message["photo"] = self._photo_sizes(make_png(width, height), (width, height))
        if caption:
            message["caption"] = caption
        return self.push_update({"message": message})

    def push_callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int,
        first_name: str = "Lan",
        language_code: str = "vi",
    ) -> int:
        """Simulate a user pressing an inline button with ``data`` under a bot message.

        ``message_id`` must be a message the bot sent to the user's private chat; the
        callback query carries that message in its current (possibly edited) state.
        Returns the update_id; the query id is ``callback_query_id(update_id)``.
        """
        key = (user_id, message_id)
        if key not in self._bot_messages:
            raise LookupError(f"the bot has no message {message_id} in chat {user_id}")
        user = self._remember_user(user_id, first_name, language_code)
        self._callback_counter += 1
        query_id = f"{abs(user_id) % 10**9}{self._callback_counter:010d}"
        update = {
            "callback_query": {
                "id": query_id,
                "from": dict(user),
                "message": copy.deepcopy(self._messages[key]),
                "chat_instance": str((user_id * 2654435761 + self._bot_user["id"]) % 10**19),
                "data": data,
            }
        }
        self._pending_callbacks.add(query_id)
        update_id = self.push_update(update)
        self._callback_by_update[update_id] = query_id
        return update_id

    def callback_query_id(self, update_id: int) -> str:
        """The callback query id created by :meth:`push_callback` for ``update_id``."""
        return self._callback_by_update[update_id]

    def callback_answer(self, update_id: int) -> JSONDict | None:
        """The answerCallbackQuery parameters for the query pushed as ``update_id``."""
        return self.callback_answers.get(self._callback_by_update[update_id])

    def block_user(self, user_id: int, blocked: bool = True) -> None:
        """Make sends to ``user_id`` fail with 403 "bot was blocked by the user"."""
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a Bot API error.

        A 429 always carries ``"parameters": {"retry_after": N}`` (default 1) and, by
        default, Telegram's description "Too Many Requests: retry after N".  The call
        has no other effect.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden",
                404: "Not Found",
                409: "Conflict",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, f"Error {status}")
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._faults.setdefault(method.lower(), []).append(
            _Fault(status, description, parameters, times)
        )

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before answering.

        The call is still carried out afterwards even if the client gave up, as a real
        server would.
        """
        self._delays.setdefault(method.lower(), []).append(_Delay(seconds, times))

    # ---------------------------------------------------------------- inspection

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_to(self, chat_id: int | str) -> list[SentMessage]:
        """Messages the bot successfully sent or edited in ``chat_id``, in order."""
        return [
            sent
            for sent in self._sent
            if sent.chat_id == chat_id or str(sent.chat_id) == str(chat_id)
        ]

    def last_message(self, chat_id: int | str) -> SentMessage:
        """The latest message the bot sent or edited in ``chat_id``."""
        sent = self.sent_to(chat_id)
        if not sent:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """Current state of a message in a chat (bot or user message), or ``None``."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands set for exactly this scope and language (empty if none)."""
        return copy.deepcopy(self.my_commands.get(self.commands_key(scope, language_code), []))

    @staticmethod
    def commands_key(scope: Mapping[str, Any] | None = None, language_code: str = "") -> str:
        """The :attr:`my_commands` key for a scope (default scope if ``None``) and language."""
        return json.dumps(
            {"scope": dict(scope or {"type": "default"}), "language_code": language_code or ""},
            sort_keys=True,
            separators=(",", ":"),
        )

    @staticmethod
    def buttons(message: SentMessage | Mapping[str, Any] | None) -> list[tuple[str, str | None]]:
        """Flatten the keyboard of a message into ``(text, callback_data)`` pairs.

        Accepts a :class:`SentMessage`, a Message dict or a reply_markup dict.
        Buttons without callback data (URL buttons, reply keyboards) give ``None``.
        """
        if message is None:
            return []
        if isinstance(message, SentMessage):
            markup: Any = message.reply_markup
        elif "inline_keyboard" in message or "keyboard" in message:
            markup = message
        else:
            markup = message.get("reply_markup")
        if not isinstance(markup, Mapping):
            return []
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        result: list[tuple[str, str | None]] = []
        for row in rows:
            for button in row:
                if isinstance(button, str):
                    result.append((button, None))
                else:
                    result.append((button.get("text", ""), button.get("callback_data")))
        return result

    async def wait_for(
        self, predicate: Callable[[BotApiStub], object], timeout: float = 5.0
    ) -> None:
        """Wait until ``predicate(stub)`` is true, re-checking after every call and push.

        A predicate that raises AssertionError or LookupError (e.g. ``last_message`` before
        anything was sent, or ``sent_to(chat)[-1]``) counts as "not yet".  Raises
        AssertionError listing the most recent calls if ``timeout`` expires.
        """
        last_error: list[BaseException] = []

        def check() -> bool:
            try:
                return bool(predicate(self))
            except (AssertionError, LookupError) as exc:
                last_error[:] = [exc]
                return False

        if await self._signal.wait_until(check, timeout):
            return
        reason = f" (last check: {last_error[0]!r})" if last_error else ""
        raise AssertionError(
            f"condition not met within {timeout}s{reason}; recent calls:\n{self.describe_calls()}"
        )

    def describe_calls(self, last: int = 15) -> str:
        """A readable summary of the most recent calls (for assertion messages)."""
        if not self.calls:
            return "  (no calls)"
        lines = []
        for call in self.calls[-last:]:
            params = {k: v for k, v in call.params.items() if not isinstance(v, UploadedFile)}
            outcome = "pending" if call.status is None else str(call.status)
            if call.response is not None and not call.response.get("ok"):
                outcome += f" {call.response.get('description')}"
            lines.append(f"  {call.method} {_short(params)} -> {outcome}")
        lines.extend(f"  stub error: {exc!r}" for exc in self.internal_errors)
        return "\n".join(lines)

    # ---------------------------------------------------------------- HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        entry = self._methods.get(raw_method.lower())
        name = entry[0] if entry else raw_method
        call = ApiCall(name, {}, {}, time.time(), request.method)
        self.calls.append(call)
        self._signal.notify()
        try:
            parse_error: _ApiError | None = None
            try:
                call.params, call.files = await self._read_params(request)
            except _ApiError as exc:
                parse_error = exc
            if request.match_info["token"] != self._token:
                raise _ApiError(401, "Unauthorized")
            if self._latency:
                await asyncio.sleep(self._latency / 2)
            if self.flood_limits is not None and _counts_as_message(raw_method.lower()):
                self._check_flood(call.params.get("chat_id"))
            await self._apply_delay(raw_method.lower())
            fault = self._take_fault(raw_method.lower())
            if fault is not None:
                raise _ApiError(fault.status, fault.description, fault.parameters)
            if entry is None:
                raise _ApiError(404, "Not Found: method not found")
            if parse_error is not None:
                raise parse_error
            outcome = await entry[1](_Request(call.params, call.files, request, call))
            body: JSONDict = {"ok": True}
            if isinstance(outcome, _Described):
                body["result"] = outcome.result
                body["description"] = outcome.description
            else:
                body["result"] = outcome
            status = 200
        except _ApiError as exc:
            status, body = exc.status, exc.body()
        except Exception as exc:  # a bug in the stub: answer like a broken server, keep it
            self.internal_errors.append(exc)
            status = 500
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        if self._latency:
            await asyncio.sleep(self._latency / 2)
        call.status = status
        call.response = body
        self._signal.notify()
        return web.json_response(body, status=status, dumps=_dumps)

    def _check_flood(self, chat_id: object) -> None:
        """Refuse a message over the limits (429, nothing done) or count it."""
        limits = self.flood_limits
        assert limits is not None
        now = time.monotonic()
        chat = chat_id if isinstance(chat_id, int) else None
        waits: list[float] = []
        if limits.per_second is not None:
            recent = [t for t in self.message_times[-limits.per_second:] if t > now - 1.0]
            if len(recent) >= limits.per_second:
                waits.append(recent[0] + 1.0 - now)
        if chat is not None and chat > 0 and limits.chat_interval is not None:
            last = self._chat_last.get(chat)
            if last is not None and now - last < limits.chat_interval:
                waits.append(last + limits.chat_interval - now)
        if chat is not None and chat < 0 and limits.group_per_minute is not None:
            times = [t for t in self._group_times.get(chat, []) if t > now - 60.0]
            self._group_times[chat] = times
            if len(times) >= limits.group_per_minute:
                waits.append(times[0] + 60.0 - now)
        if waits:
            self.flood_rejections += 1
            retry_after = max(1, int(max(waits) + 0.999))
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}",
                            {"retry_after": retry_after})
        self.message_times.append(now)
        if chat is not None:
            self._chat_last[chat] = now
            if chat < 0:
                self._group_times.setdefault(chat, []).append(now)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        file_path = request.match_info["file_path"]
        stored = next((f for f in self._files.values() if f.file_path == file_path), None)
        if request.match_info["token"] != self._token or stored is None or stored.data is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"},
                status=404,
                dumps=_dumps,
            )
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, UploadedFile] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad_request("can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise _bad_request("JSON object expected")
                raw.update(body)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = UploadedFile(
                            field=key,
                            filename=value.filename,
                            content_type=value.content_type,
                            data=value.file.read(),
                        )
                    elif isinstance(value, (bytes, bytearray)):
                        raw[key] = bytes(value).decode("utf-8", "replace")
                    else:
                        raw[key] = value
        params: JSONDict = {}
        files: dict[str, UploadedFile] = {}
        for key, value in raw.items():
            if isinstance(value, str) and value.startswith("attach://"):
                attached = uploads.get(value[len("attach://") :])
                if attached is None:
                    raise _bad_request(f"file {value[len('attach://') :]} not found")
                files[key] = attached
                params[key] = attached
            else:
                params[key] = value
        for key, upload in uploads.items():
            if key not in params and not any(f is upload for f in files.values()):
                files[key] = upload
                params[key] = upload
        return {key: _coerce_param(key, value) for key, value in params.items()}, files

    async def _apply_delay(self, method: str) -> None:
        delays = self._delays.get(method)
        if not delays:
            return
        delay = delays[0]
        delay.remaining -= 1
        if delay.remaining <= 0:
            delays.pop(0)
        await self._signal.wait_until(lambda: self._closing, delay.seconds)

    def _take_fault(self, method: str) -> _Fault | None:
        faults = self._faults.get(method)
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        return fault

    # ---------------------------------------------------------------- shared helpers

    def _remember_user(self, user_id: int, first_name: str, language_code: str) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        self._chats[user_id] = {"id": user_id, "first_name": first_name, "type": "private"}
        return user

    def _new_user_message(self, user_id: int, first_name: str, language_code: str) -> JSONDict:
        user = self._remember_user(user_id, first_name, language_code)
        message_id = self._allocate_message_id(user_id)
        message: JSONDict = {
            "message_id": message_id,
            "from": dict(user),
            "chat": dict(self._chats[user_id]),
            "date": int(time.time()),
        }
        self._messages[(user_id, message_id)] = message
        return message

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def _bot_sender(self) -> JSONDict:
        return {key: self._bot_user[key] for key in ("id", "is_bot", "first_name", "username")}

    def _target_chat(self, req: _Request) -> JSONDict:
        chat_id = req.params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id == 0:
            raise _bad_request("chat not found")
        if chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        chat = self._chats.get(chat_id)
        if chat is None:
            if self._strict_chats:
                raise _bad_request("chat not found")
            if chat_id > 0:
                chat = {"id": chat_id, "first_name": "Lan", "type": "private"}
            elif str(chat_id).startswith("-100"):
                chat = {"id": chat_id, "title": "Test Group", "type": "supergroup"}
            else:
                chat = {"id": chat_id, "title": "Test Group", "type": "group"}
            self._chats[chat_id] = chat
        return chat

    def _formatted(
        self, req: _Request, name: str, entities_name: str
    ) -> tuple[str, list[JSONDict]]:
        text = req.get_str(name) or ""
        return _format_text(text, req.params.get("parse_mode"), req.params.get(entities_name))

    def _text(self, req: _Request) -> tuple[str, list[JSONDict]]:
        text, entities = self._formatted(req, "text", "entities")
        if not text:
            raise _bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        return text, entities

    def _caption(self, req: _Request) -> tuple[str, list[JSONDict]]:
        caption, entities = self._formatted(req, "caption", "caption_entities")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        return caption, entities

    def _reply_markup(self, req: _Request) -> JSONDict | None:
        """Validate ``reply_markup``; return it (as requested) or ``None``."""
        markup = req.params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request(
                    'Field "inline_keyboard" of the InlineKeyboardMarkup '
                    "must be an Array of Arrays"
                )
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request(
                    'Field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    if not isinstance(button, str) and not (
                        isinstance(button, dict) and isinstance(button.get("text"), str)
                    ):
                        raise _bad_request(
                            "can't parse keyboard button: "
                            "KeyboardButton must be a String or an Object"
                        )
        elif not ("remove_keyboard" in markup or "force_reply" in markup):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_inline_button(button: object) -> None:
        if not isinstance(button, dict):
            raise _bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        if not isinstance(button.get("text"), str):
            raise _bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        if not any(key in button for key in _INLINE_BUTTON_ACTIONS):
            raise _bad_request(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            parts = urlsplit(url) if isinstance(url, str) else None
            if (
                parts is None
                or parts.scheme not in ("http", "https", "tg")
                or (parts.scheme != "tg" and not parts.netloc)
            ):
                raise _bad_request(
                    f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                )

    @staticmethod
    def _inline_only(markup: JSONDict | None) -> JSONDict | None:
        """What Telegram stores in Message.reply_markup: only non-empty inline keyboards."""
        if markup is None or not isinstance(markup.get("inline_keyboard"), list):
            return None
        if not any(markup["inline_keyboard"]):
            return None
        return copy.deepcopy(markup)

    def _reply_target(self, req: _Request, chat_id: int) -> JSONDict | None:
        reply_to: Any = req.params.get("reply_to_message_id")
        allow_missing = req.get_bool("allow_sending_without_reply")
        parameters = req.params.get("reply_parameters")
        if isinstance(parameters, dict):
            reply_to = parameters.get("message_id")
            allow_missing = bool(parameters.get("allow_sending_without_reply", False))
        if not reply_to:
            return None
        target = self._messages.get((chat_id, int(reply_to)))
        if target is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        reply = copy.deepcopy(target)
        reply.pop("reply_to_message", None)
        return reply

    def _new_bot_message(self, req: _Request, chat: JSONDict, markup: JSONDict | None) -> JSONDict:
        reply = self._reply_target(req, chat["id"])
        message_id = self._allocate_message_id(chat["id"])
        message: JSONDict = {
            "message_id": message_id,
            "from": self._bot_sender(),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if reply is not None:
            message["reply_to_message"] = reply
        if req.get_bool("protect_content"):
            message["has_protected_content"] = True
        inline = self._inline_only(markup)
        if inline is not None:
            message["reply_markup"] = inline
        return message

    def _store_bot_message(self, message: JSONDict) -> None:
        key = (message["chat"]["id"], message["message_id"])
        self._messages[key] = message
        self._bot_messages.add(key)

    def _record_sent(self, req: _Request, message: JSONDict) -> JSONDict:
        text = message.get("text", message.get("caption"))
        sent = SentMessage(
            method=req.call.method,
            chat_id=message["chat"]["id"],
            message_id=message["message_id"],
            text=text,
            reply_markup=copy.deepcopy(req.params.get("reply_markup")),
            message=copy.deepcopy(message),
            params={k: v for k, v in req.params.items()},
            files=dict(req.files),
        )
        self._sent.append(sent)
        for listener in self.sent_listeners:
            listener(sent)
        return copy.deepcopy(message)

    def _editable_message(self, req: _Request) -> JSONDict:
        if req.has("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(req)
        message_id = req.get_int("message_id")
        if not message_id:
            raise _bad_request("message identifier is not specified")
        key = (chat["id"], message_id)
        message = self._messages.get(key)
        if message is None:
            raise _bad_request("message to edit not found")
        if key not in self._bot_messages:
            raise _bad_request("message can't be edited")
        return message

    def _next_file_ids(self, kind: str) -> tuple[str, str, int]:
        self._file_counter += 1
        prefix = {
            "photo": "AgACAgIAAxkBAAI",
            "document": "BQACAgIAAxkBAAI",
            "sticker": "CAACAgIAAxkBAAI",
        }
        number = self._file_counter
        return f"{prefix.get(kind, 'AAAAAgIAAxkBAAI')}{number:08d}", f"AQAD{number:08d}", number

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        file_name: str | None,
        mime_type: str | None,
        file_size: int | None = None,
    ) -> StoredFile:
        file_id, unique_id, number = self._next_file_ids(kind)
        if kind == "photo":
            path = f"photos/file_{number}.jpg"
        elif kind == "sticker":
            path = f"stickers/file_{number}.webp"
        else:
            extension = posixpath.splitext(file_name or "")[1]
            path = f"documents/file_{number}{extension}"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            kind=kind,
            data=data,
            file_size=file_size if file_size is not None else len(data or b""),
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[file_id] = stored
        return stored

    def _photo_sizes(self, data: bytes | None, dimensions: tuple[int, int]) -> list[JSONDict]:
        width, height = dimensions
        total = len(data) if data else 0
        sizes: list[JSONDict] = []
        for w, h in _photo_dimensions(width, height):
            approx = max(1, round(total * (w * h) / (width * height))) if total else 0
            stored = self._store_file("photo", data, None, "image/jpeg", approx)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.file_size,
                    "width": w,
                    "height": h,
                }
            )
        return sizes

    def _input_file(self, req: _Request, name: str) -> UploadedFile | str:
        value = req.params.get(name)
        if value is None or value == "":
            raise _bad_request(f"there is no {name} in the request")
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad_request("file must be non-empty")
            return value
        if not isinstance(value, str):
            raise _bad_request(f"wrong parameter {name} in request")
        return value

    def _known_file(self, reference: str, kind: str) -> StoredFile | None:
        """Resolve a file_id (``StoredFile``) or an HTTP URL (``None``)."""
        if re.match(r"https?://", reference):
            return None
        stored = self._files.get(reference)
        if stored is None:
            raise _bad_request(_WRONG_FILE.removeprefix("Bad Request: "))
        if stored.kind != kind:
            raise _bad_request("type of file mismatch")
        return stored

    # ---------------------------------------------------------------- API methods

    async def _api_get_me(self, req: _Request) -> JSONDict:
        return self.bot_user

    async def _api_get_updates(self, req: _Request) -> list[JSONDict]:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = req.get_int("offset", 0) or 0
        limit = min(max(req.get_int("limit", 100) or 100, 1), 100)
        timeout = max(req.get_int("timeout", 0) or 0, 0)
        allowed = req.params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal.notify()

        def client_gone() -> bool:
            transport = req.http.transport
            return transport is None or transport.is_closing()

        def ready() -> bool:
            return (
                self._closing
                or generation != self._poll_generation
                or client_gone()
                or bool(self._deliverable())
            )

        if timeout > 0:
            await self._signal.wait_until(ready, timeout)
        if generation != self._poll_generation and not self._closing:
            raise _ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        if self._closing or client_gone():
            return []
        return copy.deepcopy(self._deliverable()[:limit])

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
            self._confirmed_up_to = max(self._confirmed_up_to, offset - 1)
        elif offset < 0:
            keep = self._queue[offset:]
            forgotten = self._queue[: len(self._queue) - len(keep)]
            if forgotten:
                highest = max(u["update_id"] for u in forgotten)
                self._confirmed_up_to = max(self._confirmed_up_to, highest)
            self._queue = keep

    def _deliverable(self) -> list[JSONDict]:
        """Queued updates the client asked for; others are dropped as Telegram never sends them."""
        allowed = set(self._allowed_updates)

        def wanted(update: JSONDict) -> bool:
            kinds = [key for key in update if key != "update_id"]
            if not kinds:
                return True
            if allowed:
                return kinds[0] in allowed
            return kinds[0] not in _OPT_IN_UPDATES

        self._queue = [u for u in self._queue if wanted(u)]
        return self._queue

    async def _api_set_webhook(self, req: _Request) -> _Described:
        url = req.get_str("url") or ""
        if not url:
            return await self._api_delete_webhook(req)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in _WEBHOOK_PORTS:
            raise _bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = req.get_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad_request("bad webhook: secret token contains unallowed characters")
        max_connections = req.get_int("max_connections", 40) or 40
        if not 1 <= max_connections <= 100:
            raise _bad_request("bad webhook: max_connections must be between 1 and 100")
        if req.get_bool("drop_pending_updates"):
            self._drop_pending()
        allowed = req.params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        self.webhook = {
            "url": url,
            "has_custom_certificate": isinstance(req.params.get("certificate"), UploadedFile),
            "max_connections": max_connections,
            "secret_token": secret,
            "ip_address": req.get_str("ip_address"),
        }
        self._signal.notify()
        return _Described(True, "Webhook was set")

    async def _api_delete_webhook(self, req: _Request) -> _Described:
        if req.get_bool("drop_pending_updates"):
            self._drop_pending()
        if self.webhook is None:
            return _Described(True, "Webhook is already deleted")
        self.webhook = None
        return _Described(True, "Webhook was deleted")

    def _drop_pending(self) -> None:
        if self._queue:
            self._confirmed_up_to = max(
                self._confirmed_up_to, max(u["update_id"] for u in self._queue)
            )
        self._queue = []

    async def _api_get_webhook_info(self, req: _Request) -> JSONDict:
        info: JSONDict = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._deliverable()),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["has_custom_certificate"] = self.webhook["has_custom_certificate"]
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["ip_address"]:
                info["ip_address"] = self.webhook["ip_address"]
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    async def _api_send_message(self, req: _Request) -> JSONDict:
        chat = self._target_chat(req)
        text, entities = self._text(req)
        markup = self._reply_markup(req)
        message = self._new_bot_message(req, chat, markup)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if isinstance(req.params.get("link_preview_options"), dict):
            message["link_preview_options"] = dict(req.params["link_preview_options"])
        message = _reorder(message)
        self._store_bot_message(message)
        return self._record_sent(req, message)

    async def _api_send_photo(self, req: _Request) -> JSONDict:
        chat = self._target_chat(req)
        photo = self._input_file(req, "photo")
        caption, entities = self._caption(req)
        markup = self._reply_markup(req)
        if isinstance(photo, UploadedFile):
            dimensions = _image_size(photo.data)
            if dimensions is None:
                raise _bad_request("IMAGE_PROCESS_FAILED")
            width, height = dimensions
            if width + height > 10000 or max(width, height) > 20 * min(width, height):
                raise _bad_request("PHOTO_INVALID_DIMENSIONS")
            sizes = self._photo_sizes(photo.data, dimensions)
        else:
            known = self._known_file(photo, "photo")
            data = known.data if known is not None else None
            sizes = self._photo_sizes(data, _image_size(data or b"") or (800, 600))
        message = self._new_bot_message(req, chat, markup)
        message["photo"] = sizes
        self._add_caption(message, caption, entities, req)
        message = _reorder(message)
        self._store_bot_message(message)
        return self._record_sent(req, message)

    async def _api_send_document(self, req: _Request) -> JSONDict:
        chat = self._target_chat(req)
        document = self._input_file(req, "document")
        caption, entities = self._caption(req)
        markup = self._reply_markup(req)
        if isinstance(document, UploadedFile):
            file_name = document.filename or "document"
            mime_type = (
                document.content_type
                if document.content_type and document.content_type != "application/octet-stream"
                else mimetypes.guess_type(file_name)[0] or "application/octet-stream"
            )
            stored = self._store_file("document", document.data, file_name, mime_type)
        else:
            known = self._known_file(document, "document")
            if known is None:
                file_name = posixpath.basename(urlsplit(document).path) or "file"
                mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
                stored = self._store_file("document", None, file_name, mime_type, 0)
            else:
                stored = known
        doc: JSONDict = {
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        message = self._new_bot_message(req, chat, markup)
        message["document"] = {k: v for k, v in doc.items() if v is not None}
        self._add_caption(message, caption, entities, req)
        message = _reorder(message)
        self._store_bot_message(message)
        return self._record_sent(req, message)

    @staticmethod
    def _add_caption(
        message: JSONDict, caption: str, entities: list[JSONDict], req: _Request
    ) -> None:
        if caption:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
            if req.get_bool("show_caption_above_media"):
                message["show_caption_above_media"] = True

    async def _api_send_chat_action(self, req: _Request) -> bool:
        self._target_chat(req)
        if req.get_str("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _api_edit_message_text(self, req: _Request) -> JSONDict:
        message = self._editable_message(req)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._text(req)
        inline = self._inline_only(self._reply_markup(req))
        if (
            text == message.get("text")
            and entities == message.get("entities", [])
            and inline == message.get("reply_markup")
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message["text"] = text
        _set_or_drop(message, "entities", entities or None)
        _set_or_drop(message, "reply_markup", inline)
        message["edit_date"] = int(time.time())
        return self._record_sent(req, _reorder_in_place(message))

    async def _api_edit_message_caption(self, req: _Request) -> JSONDict:
        message = self._editable_message(req)
        if not any(key in message for key in ("photo", "document", "video", "audio", "animation")):
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(req)
        inline = self._inline_only(self._reply_markup(req))
        if (
            caption == message.get("caption", "")
            and entities == message.get("caption_entities", [])
            and inline == message.get("reply_markup")
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        _set_or_drop(message, "caption", caption or None)
        _set_or_drop(message, "caption_entities", entities or None)
        _set_or_drop(message, "reply_markup", inline)
        message["edit_date"] = int(time.time())
        return self._record_sent(req, _reorder_in_place(message))

    async def _api_edit_message_reply_markup(self, req: _Request) -> JSONDict:
        message = self._editable_message(req)
        inline = self._inline_only(self._reply_markup(req))
        if inline == message.get("reply_markup"):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        _set_or_drop(message, "reply_markup", inline)
        message["edit_date"] = int(time.time())
        return self._record_sent(req, _reorder_in_place(message))

    async def _api_delete_message(self, req: _Request) -> bool:
        chat = self._target_chat(req)
        message_id = req.get_int("message_id")
        if not message_id:
            raise _bad_request("message identifier is not specified")
        key = (chat["id"], message_id)
        if key not in self._messages:
            raise _bad_request("message to delete not found")
        del self._messages[key]
        self._bot_messages.discard(key)
        return True

    async def _api_answer_callback_query(self, req: _Request) -> bool:
        query_id = req.get_str("callback_query_id")
        if not query_id or query_id not in self._pending_callbacks:
            raise _bad_request(_QUERY_INVALID.removeprefix("Bad Request: "))
        self._pending_callbacks.discard(query_id)
        self.callback_answers[query_id] = dict(req.params)
        return True

    def _scope_key(self, req: _Request) -> str:
        scope = req.params.get("scope")
        if scope is None or scope == "":
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            raise _bad_request("can't parse BotCommandScope JSON object")
        if scope["type"] in ("chat", "chat_administrators", "chat_member") and not scope.get(
            "chat_id"
        ):
            raise _bad_request("chat_id is empty")
        if scope["type"] == "chat_member" and not scope.get("user_id"):
            raise _bad_request("user_id is empty")
        language_code = req.get_str("language_code") or ""
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise _bad_request("invalid language code specified")
        return self.commands_key(scope, language_code)

    async def _api_set_my_commands(self, req: _Request) -> bool:
        commands = req.params.get("commands", [])
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad_request("can't parse BotCommand: BotCommand must be an Object")
            for name in ("command", "description"):
                if not isinstance(item.get(name), str):
                    raise _bad_request(f"can't parse BotCommand: Can't find field \"{name}\"")
            command, description = item["command"], item["description"]
            if not command:
                raise _bad_request("command must be non-empty")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not description.strip():
                raise _bad_request("command description must be non-empty")
            if len(description) > 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = self._scope_key(req)
        if cleaned:
            self.my_commands[key] = cleaned
        else:
            self.my_commands.pop(key, None)
        return True

    async def _api_get_my_commands(self, req: _Request) -> list[JSONDict]:
        return copy.deepcopy(self.my_commands.get(self._scope_key(req), []))

    async def _api_delete_my_commands(self, req: _Request) -> bool:
        self.my_commands.pop(self._scope_key(req), None)
        return True

    async def _api_get_file(self, req: _Request) -> JSONDict:
        file_id = req.get_str("file_id")
        if not file_id:
            raise _bad_request("file_id is empty")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > 20 * 1024 * 1024:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    async def _api_close(self, req: _Request) -> bool:
        return True

    async def _api_log_out(self, req: _Request) -> bool:
        return True


# Key order of Message objects as Telegram serialises them (cosmetic, eases debugging).
_MESSAGE_KEY_ORDER: Final = (
    "message_id",
    "from",
    "chat",
    "date",
    "edit_date",
    "has_protected_content",
    "reply_to_message",
    "text",
    "entities",
    "link_preview_options",
    "photo",
    "document",
    "sticker",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "reply_markup",
)


def _reorder(message: JSONDict) -> JSONDict:
    rank = {key: index for index, key in enumerate(_MESSAGE_KEY_ORDER)}
    return dict(sorted(message.items(), key=lambda item: rank.get(item[0], len(rank))))


def _reorder_in_place(message: JSONDict) -> JSONDict:
    ordered = _reorder(message)
    message.clear()
    message.update(ordered)
    return message


def _set_or_drop(target: JSONDict, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
