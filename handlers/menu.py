"""The main menu, help texts and the command menu each role sees."""

from __future__ import annotations

from bot.i18n import N_, _
from bot.messages import Command, Option, Reply
from bot.models import Member, Role

CANCEL = "nav:cancel:"

# (command, description) per role; the descriptions are translated when the menu is built.
_CITIZEN_COMMANDS = [("start", N_("Start")), ("help", N_("What this bot does")),
                     ("phananh", N_("Send feedback or a petition")),
                     ("tracuu", N_("Follow my petitions")),
                     ("lang", N_("Tiếng Việt / English"))]
_VOLUNTEER_COMMANDS = [
    ("menu", N_("Main menu")),
    ("activate", N_("Log a VNeID activation")),
    ("visit", N_("Log a guidance visit")),
    ("fix", N_("Correct or undo a recent entry")),
    ("me", N_("My week and my hamlet")),
    ("questions", N_("Citizens' questions waiting for an answer")),
    ("phananh", N_("Citizens' petitions")),
    ("cancel", N_("Stop what I am doing")),
    ("link", N_("Use the bot from my other app too")),
    ("kenh", N_("Which app reminders and reports reach")),
    ("help", N_("Help")),
    ("lang", N_("Tiếng Việt / English")),
]
_OFFICER_EXTRA = [("digest", N_("This week's report with chart and Excel")),
                  ("announce", N_("Send an announcement")),
                  ("office", N_("Enter the office indicators")),
                  ("invite", N_("Invite a volunteer or officer"))]
_PROVINCE_COMMANDS = [("menu", N_("Main menu")),
                      ("digest", N_("This week's report with chart and Excel")),
                      ("me", N_("Progress by commune")),
                      ("phananh", N_("Citizens' petitions")),
                      ("link", N_("Use the bot from my other app too")),
                      ("kenh", N_("Which app reminders and reports reach")),
                      ("help", N_("Help")), ("lang", N_("Tiếng Việt / English"))]


def commands_for(member: Member | None) -> list[Command]:
    """The command menu for a role, in the current language."""
    if member is None:
        pairs = _CITIZEN_COMMANDS
    elif member.role is Role.PROVINCE:
        pairs = _PROVINCE_COMMANDS
    elif member.role is Role.OFFICER:
        pairs = _VOLUNTEER_COMMANDS[:7] + _OFFICER_EXTRA + _VOLUNTEER_COMMANDS[7:]
    else:
        pairs = _VOLUNTEER_COMMANDS
    return [Command(name, _(description)) for name, description in pairs]


def cancel_row() -> list[Option]:
    """A row with the cancel button, shown under every step."""
    return [Option(_("Cancel"), CANCEL)]


def next_actions() -> list[list[Option]]:
    """Buttons under a saved entry, so the next household is one tap away."""
    return [[Option(_("Log activation"), "nav:go:act"), Option(_("Log visit"), "nav:go:vis")],
            [Option(_("Correct / undo"), "nav:go:fix"), Option(_("My progress"), "nav:go:me")]]


def main_menu(member: Member, intro: str | None = None) -> Reply:
    """What a volunteer or officer can do, as buttons."""
    report_row = [Option(_("Weekly report"), "nav:go:digest")]
    if member.role is Role.PROVINCE:
        rows = [report_row + [Option(_("Progress by commune"), "nav:go:me")]]
    else:
        rows = next_actions()
    if member.role is Role.OFFICER:
        rows.append(report_row + [Option(_("Office indicators"), "nav:go:off")])
        rows.append([Option(_("Petitions"), "nav:go:pa"),
                     Option(_("Announcement"), "nav:go:ann")])
        rows.append([Option(_("Invite someone"), "nav:go:inv")])
    rows.append([Option(_("Help"), "nav:go:help"), Option("Tiếng Việt / English", "nav:go:lang")])
    return Reply(intro or _("What would you like to do?"), rows)


def help_text(member: Member | None) -> str:
    """Help for the sender's role."""
    if member is None:
        return _(
            "I answer questions about the VNeID app and online public services. Type the "
            "question the way Anh/Chị would ask it; diacritics are not needed. If I am not sure, "
            "a person from the commune's team answers here.\n"
            "Never send ID numbers, passcodes or OTP codes to anyone.\n"
            "/phananh sends the commune a petition (phản ánh, kiến nghị); /tracuu shows how "
            "yours stand.\n"
            "/lang switches between Vietnamese and English. Team members join with: /start CODE"
        )
    text = _(
        "How to log:\n"
        "1. /activate: a household's new level-2 registrations and activations.\n"
        "2. /visit: a guidance visit and its topics.\n"
        "3. /fix: correct or undo one of your entries from the last few days.\n"
        "4. /me: your week and your hamlet against its targets.\n"
        "5. /questions: citizens waiting for an answer from a person.\n"
        "Find a household by typing part of the head's name or the household code; "
        "diacritics are not needed.\n"
        "/cancel stops at any step; nothing half-done is saved."
    ) + "\n" + _("Typing “thôi”, “hủy” or “dừng lại” stops too.")
    if member.role is Role.PROVINCE:
        return _("/digest: this week's short report for every commune, with a chart and an "
                 "Excel file; /digest full: every commune in detail.\n/me: progress by "
                 "commune.\n/lang switches between Vietnamese and English.")
    if member.role is Role.OFFICER:
        text += "\n" + _("/digest: this week's short report with a chart and an Excel file; "
                          "/digest full: every hamlet in detail.")
        text += "\n" + _("/office: enter this month's office indicators.")
        text += "\n" + _("/invite creates a one-time code for a new volunteer or officer.")
        text += "\n" + _("/phananh: citizens' petitions: assign, answer, close.")
        text += "\n" + _("/announce: a short announcement to citizens, volunteers or a hamlet.")
    text += "\n" + _("/link: use the bot from Zalo and Telegram as one member; /kenh: the app "
                     "that reminders and reports reach.")
    return text
