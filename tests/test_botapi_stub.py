"""Proof that the Bot API stub is faithful enough for the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import re
import time
import warnings
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.botapi_stub import BotApiStub, make_png

USER = 5001


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    """A running stub; fails the test if the stub itself hit an unexpected error."""
    async with BotApiStub() as server:
        yield server
    assert server.internal_errors == []


@pytest_asyncio.fixture
async def bot(stub: BotApiStub) -> AsyncIterator[Bot]:
    """A real, initialised PTB Bot talking HTTP to the stub."""
    async with Bot(stub.token, base_url=stub.base_url, base_file_url=stub.base_file_url) as client:
        yield client


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One callback button per row."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data)] for text, data in buttons]
    )


@contextlib.contextmanager
def rejected(stub: BotApiStub, description: str) -> Iterator[None]:
    """Expect a BadRequest whose Bot API description contains ``description``."""
    with pytest.raises(BadRequest, match="(?i)" + re.escape(description)):
        yield
    response = stub.calls[-1].response
    assert response is not None and response["error_code"] == 400
    assert response["description"].startswith("Bad Request: ")
    assert description in response["description"]


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds, whether PTB gives an int or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ----------------------------------------------------------------------------- raw HTTP


@pytest.mark.asyncio
async def test_raw_protocol_errors_and_case_insensitive_methods(stub: BotApiStub) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stub.base_url}{stub.token}/GETME") as resp:
            assert resp.status == 200
            body = await resp.json()
            assert body == {"ok": True, "result": stub.bot_user}
        async with http.post(f"{stub.base_url}999:wrong/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{stub.base_url}{stub.token}/sendTelepathy") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        payload = {
            "chat_id": USER,
            "text": "json body",
            "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "y"}]]},
        }
        async with http.post(f"{stub.base_url}{stub.token}/sendmessage", json=payload) as resp:
            body = await resp.json()
            assert body["ok"] and body["result"]["text"] == "json body"
            assert body["result"]["reply_markup"] == payload["reply_markup"]
        form = {
            "chat_id": str(USER),
            "text": "form body",
            "reply_markup": json.dumps(payload["reply_markup"]),
        }
        async with http.post(f"{stub.base_url}{stub.token}/sendMessage", data=form) as resp:
            assert (await resp.json())["result"]["chat"] == {
                "id": USER,
                "first_name": "Lan",
                "type": "private",
            }
        async with http.post(
            f"{stub.base_url}{stub.token}/sendMessage", data={"chat_id": str(USER)}
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())["description"] == "Bad Request: message text is empty"

    assert [call.method for call in stub.calls] == [
        "getMe",
        "getMe",
        "sendTelepathy",
        "sendMessage",
        "sendMessage",
        "sendMessage",
    ]
    assert stub.calls[3].params["reply_markup"] == payload["reply_markup"]
    assert stub.calls[4].params["chat_id"] == USER
    assert stub.calls[4].params["reply_markup"] == payload["reply_markup"]
    assert [sent.text for sent in stub.sent_to(USER)] == ["json body", "form body"]


# ----------------------------------------------------------------------------- Bot methods


@pytest.mark.asyncio
async def test_get_me(bot: Bot, stub: BotApiStub) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 123456 == stub.bot_user["id"]
    assert me.username == stub.bot_user["username"]
    assert bot.username == stub.bot_user["username"]


@pytest.mark.asyncio
async def test_wrong_token_is_invalid_token(stub: BotApiStub) -> None:
    bad = Bot("654321:not-the-token", base_url=stub.base_url, base_file_url=stub.base_file_url)
    with pytest.raises(InvalidToken):
        await bad.initialize()
    await bad.shutdown()


@pytest.mark.asyncio
async def test_send_message_with_inline_keyboard(bot: Bot, stub: BotApiStub) -> None:
    markup = keyboard(("Yes", "vote:yes"), ("No", "vote:no"))
    message = await bot.send_message(USER, "Do you agree?", reply_markup=markup)

    assert message.text == "Do you agree?"
    assert message.chat.id == USER
    assert message.from_user is not None and message.from_user.id == bot.id
    assert message.reply_markup == markup

    sent = stub.last_message(USER)
    assert sent.method == "sendMessage"
    assert sent.message_id == message.message_id
    assert stub.buttons(sent) == [("Yes", "vote:yes"), ("No", "vote:no")]
    assert stub.buttons(sent.message) == stub.buttons(sent)


@pytest.mark.asyncio
async def test_send_message_validation(bot: Bot, stub: BotApiStub) -> None:
    with rejected(stub, "BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "hi", reply_markup=keyboard(("x", "d" * 65)))
    with rejected(stub, "message text is empty"):
        await bot.send_message(USER, "   ")
    with rejected(stub, "message is too long"):
        await bot.send_message(USER, "a" * 4097)
    # The limit applies after entity parsing: markup does not count.
    ok = await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(ok.text) == 4096
    with rejected(stub, "Character '!' is reserved"):
        await bot.send_message(USER, "Hello!", parse_mode=ParseMode.MARKDOWN_V2)
    with rejected(stub, 'Unsupported start tag "br"'):
        await bot.send_message(USER, "a<br>b", parse_mode=ParseMode.HTML)
    assert len(stub.sent_to(USER)) == 1
    assert [call.status for call in stub.calls_to("sendMessage")] == [400, 400, 400, 200, 400, 400]


@pytest.mark.asyncio
async def test_parse_modes_produce_entities(bot: Bot) -> None:
    html = await bot.send_message(
        USER,
        '<b>Bold</b> <a href="https://example.com">link</a> 😀 <code>x</code>',
        parse_mode="HTML",
    )
    assert html.text == "Bold link 😀 x"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [
        ("bold", 0, 4),
        ("text_link", 5, 4),
        ("code", 13, 1),  # the emoji counts as two UTF-16 code units
    ]
    md2 = await bot.send_message(
        USER, r"*Hi* _there_\! [site](https://example.com/a\)b)", parse_mode="MarkdownV2"
    )
    assert md2.text == "Hi there! site"
    assert md2.entities[-1].url == "https://example.com/a)b"
    md = await bot.send_message(USER, "*bold* and `code`", parse_mode="Markdown")
    assert [(e.type, e.offset, e.length) for e in md.entities] == [("bold", 0, 4), ("code", 9, 4)]


@pytest.mark.asyncio
async def test_edit_message_text(bot: Bot, stub: BotApiStub) -> None:
    markup = keyboard(("Next", "page:2"))
    message = await bot.send_message(USER, "Page 1", reply_markup=markup)

    edited = await bot.edit_message_text(
        "Page 2", chat_id=USER, message_id=message.message_id, reply_markup=markup
    )
    assert isinstance(edited, type(message))
    assert edited.text == "Page 2"
    assert edited.edit_date is not None
    assert edited.reply_markup == markup

    with rejected(stub, "message is not modified"):
        await bot.edit_message_text(
            "Page 2", chat_id=USER, message_id=message.message_id, reply_markup=markup
        )
    with rejected(stub, "message to edit not found"):
        await bot.edit_message_text("Nope", chat_id=USER, message_id=9999)

    # Editing without reply_markup removes the inline keyboard, as on Telegram.
    bare = await bot.edit_message_text("Done", chat_id=USER, message_id=message.message_id)
    assert bare.reply_markup is None
    assert stub.message(USER, message.message_id)["text"] == "Done"  # type: ignore[index]

    restored = await bot.edit_message_reply_markup(
        chat_id=USER, message_id=message.message_id, reply_markup=markup
    )
    assert restored.reply_markup == markup
    with rejected(stub, "message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=message.message_id, reply_markup=markup
        )

    history = [(sent.method, sent.text, stub.buttons(sent)) for sent in stub.sent_to(USER)]
    assert history == [
        ("sendMessage", "Page 1", [("Next", "page:2")]),
        ("editMessageText", "Page 2", [("Next", "page:2")]),
        ("editMessageText", "Done", []),
        ("editMessageReplyMarkup", "Done", [("Next", "page:2")]),
    ]


@pytest.mark.asyncio
async def test_my_commands_per_scope_and_language(bot: Bot, stub: BotApiStub) -> None:
    default = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    personal = [BotCommand("report", "Báo cáo")]
    scope = BotCommandScopeChat(USER)

    assert await bot.set_my_commands(default)
    assert await bot.set_my_commands(personal, scope=scope, language_code="vi")

    assert await bot.get_my_commands() == tuple(default)
    assert await bot.get_my_commands(scope=scope, language_code="vi") == tuple(personal)
    assert await bot.get_my_commands(scope=scope) == ()
    assert stub.commands({"type": "chat", "chat_id": USER}, "vi") == [
        {"command": "report", "description": "Báo cáo"}
    ]
    assert stub.commands_key({"type": "chat", "chat_id": USER}, "vi") in stub.my_commands

    assert await bot.delete_my_commands(scope=scope, language_code="vi")
    assert await bot.get_my_commands(scope=scope, language_code="vi") == ()
    assert await bot.get_my_commands() == tuple(default)

    with rejected(stub, "BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "capital letters are not allowed")])


@pytest.mark.asyncio
async def test_send_document_with_bytes(bot: Bot, stub: BotApiStub) -> None:
    content = b"id,name\n1,Lan\n"
    message = await bot.send_document(
        USER, content, filename="report.csv", caption="Weekly report"
    )

    assert message.document is not None
    assert message.document.file_name == "report.csv"
    assert message.document.mime_type == "text/csv"
    assert message.document.file_size == len(content)
    assert message.caption == "Weekly report"

    call = stub.calls_to("sendDocument")[-1]
    upload = call.files["document"]
    assert (upload.filename, upload.data) == ("report.csv", content)
    assert call.params["chat_id"] == USER
    assert stub.last_message(USER).files["document"].data == content

    telegram_file = await bot.get_file(message.document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == content

    again = await bot.send_document(USER, message.document.file_id)
    assert (
        again.document is not None
        and again.document.file_unique_id == message.document.file_unique_id
    )
    with rejected(stub, "wrong file identifier"):
        await bot.send_document(USER, "no-such-file-id")
    with rejected(stub, "caption is too long"):
        await bot.send_document(USER, content, filename="x.csv", caption="c" * 1025)


@pytest.mark.asyncio
async def test_send_photo_gives_photo_sizes(bot: Bot, stub: BotApiStub) -> None:
    message = await bot.send_photo(
        USER, make_png(1600, 1200), caption="<i>chart</i>", parse_mode="HTML"
    )
    assert [(size.width, size.height) for size in message.photo] == [
        (90, 68),
        (320, 240),
        (800, 600),
        (1280, 960),
        (1600, 1200),
    ]
    assert message.caption == "chart"
    assert message.caption_entities[0].type == "italic"
    assert stub.last_message(USER).text == "chart"
    with rejected(stub, "IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, b"not an image")


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_429_surfaces_as_retry_after(bot: Bot, stub: BotApiStub) -> None:
    stub.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "flood")
    assert retry_seconds(caught.value) == 7
    response = stub.calls_to("sendMessage")[-1].response
    assert response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert stub.sent_to(USER) == []
    # Only the next call failed.
    assert (await bot.send_message(USER, "later")).text == "later"


@pytest.mark.asyncio
async def test_500_surfaces_as_network_error(bot: Bot, stub: BotApiStub) -> None:
    stub.fail_next("sendmessage", status=500, description="Internal Server Error", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(USER, "boom")
        assert not isinstance(caught.value, (BadRequest, RetryAfter, TimedOut))
    assert (await bot.send_message(USER, "recovered")).text == "recovered"


@pytest.mark.asyncio
async def test_slow_server_times_out_but_message_is_still_sent(bot: Bot, stub: BotApiStub) -> None:
    stub.delay_next("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "slow", read_timeout=0.1)
    assert stub.sent_to(USER) == []
    await stub.wait_for(lambda s: any(m.text == "slow" for m in s.sent_to(USER)))


@pytest.mark.asyncio
async def test_blocked_user_is_forbidden(bot: Bot, stub: BotApiStub) -> None:
    stub.block_user(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello?")


@pytest.mark.asyncio
async def test_get_updates_long_polling(bot: Bot, stub: BotApiStub) -> None:
    first = stub.push_text(USER, "/start CODE42")
    second = stub.push_sticker(USER)

    updates = await bot.get_updates(limit=1)
    assert [u.update_id for u in updates] == [first]
    message = updates[0].message
    assert message is not None and message.text == "/start CODE42"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert message.from_user is not None and message.from_user.language_code == "vi"

    updates = await bot.get_updates(offset=first + 1)
    assert [u.update_id for u in updates] == [second]
    assert updates[0].message is not None and updates[0].message.sticker is not None
    assert stub.updates_confirmed_up_to == first

    # Nothing new: the poll waits for `timeout` seconds, then returns an empty list.
    started = time.monotonic()
    assert await bot.get_updates(offset=second + 1, timeout=1) == ()
    assert time.monotonic() - started >= 0.9
    assert stub.updates_confirmed_up_to == second

    # A push wakes a waiting poll at once.
    poll = asyncio.create_task(bot.get_updates(offset=second + 1, timeout=10))
    await stub.wait_for(
        lambda s: any(c.method == "getUpdates" and c.status is None for c in s.calls)
    )
    third = stub.push_photo(USER, caption="look")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.update_id for u in updates] == [third]
    assert updates[0].message is not None and updates[0].message.caption == "look"


@pytest.mark.asyncio
async def test_wait_for_reports_recent_calls_on_timeout(bot: Bot, stub: BotApiStub) -> None:
    await bot.send_message(USER, "only this")
    with pytest.raises(AssertionError, match=r"sendMessage .*only this"):
        await stub.wait_for(lambda s: len(s.sent_to(USER)) > 1, timeout=0.2)


# ----------------------------------------------------------------------------- Application


async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start CODE: greet with a language keyboard."""
    assert update.effective_message is not None
    code = context.args[0] if context.args else "-"
    await update.effective_message.reply_text(
        f"Welcome! code={code}",
        reply_markup=keyboard(("Vietnamese", "lang:vi"), ("English", "lang:en")),
    )


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language button: answer the query and edit the message."""
    query = update.callback_query
    assert query is not None
    await query.answer("Saved")
    await query.edit_message_text(f"Language: {query.data}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text: reply in upper case."""
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text.upper())


def build_application(stub: BotApiStub) -> Application:
    """A real PTB Application pointed at the stub, with the handlers above."""
    application = (
        ApplicationBuilder()
        .token(stub.token)
        .base_url(stub.base_url)
        .base_file_url(stub.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start_command))
    application.add_handler(CallbackQueryHandler(choose_language, pattern=r"^lang:"))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


@pytest.mark.asyncio
async def test_application_polling_text_and_callback(stub: BotApiStub) -> None:
    application = build_application(stub)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=2)
        try:
            start_update = stub.push_text(USER, "/start CODE42")
            await stub.wait_for(lambda s: bool(s.sent_to(USER)))
            welcome = stub.last_message(USER)
            assert welcome.text == "Welcome! code=CODE42"
            assert stub.buttons(welcome) == [("Vietnamese", "lang:vi"), ("English", "lang:en")]

            click = stub.push_callback(USER, "lang:vi", message_id=welcome.message_id)
            await stub.wait_for(lambda s: s.last_message(USER).method == "editMessageText")
            edited = stub.last_message(USER)
            assert (edited.message_id, edited.text, edited.reply_markup) == (
                welcome.message_id,
                "Language: lang:vi",
                None,
            )
            answer = stub.callback_answer(click)
            assert answer is not None and answer["text"] == "Saved"

            stub.push_text(USER, "xin chào")
            await stub.wait_for(lambda s: s.last_message(USER).text == "XIN CHÀO")
            await stub.wait_for(lambda s: s.updates_confirmed_up_to >= click + 1)
            assert start_update < click
        finally:
            await application.updater.stop()
            await application.stop()

    called = {call.method for call in stub.calls}
    assert {
        "getMe",
        "deleteWebhook",
        "getUpdates",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    } <= called
    assert stub.pending_updates == []


@pytest.mark.asyncio
async def test_application_sees_duplicate_delivery(stub: BotApiStub) -> None:
    stub.push_text(USER, "hello")
    duplicate = stub.pending_updates[0]
    stub.push_update(duplicate)  # the same update_id again, as after a lost confirmation

    application = build_application(stub)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=2)
        try:
            await stub.wait_for(lambda s: len(s.sent_to(USER)) == 2)
            assert [m.text for m in stub.sent_to(USER)] == ["HELLO", "HELLO"]
            await stub.wait_for(lambda s: s.updates_confirmed_up_to == duplicate["update_id"])
        finally:
            await application.updater.stop()
            await application.stop()
