"""What a citizen's message is for, decided before any keyword is matched.

A keyword says what a message is about; these rules say what the person wants: to be greeted, a
person, something only a person can do (a complaint, their own case or payment, a dispute, a job),
or something nobody may give (another person's data, an officer's private number, an OTP code).
They run on text rewritten by the vocabulary (folded, shorthand expanded), so "sdt", "số đt" and
"so dien thoai" are one thing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bot.helpdesk.matcher import asks_for_person_in
from bot.helpdesk.vocabulary import Vocabulary, word_set


class Intent(StrEnum):
    """What the message wants, before its topic is looked at."""

    QUESTION = "question"  # a question for the knowledge base
    GREETING = "greeting"  # hello, small talk, "I want to ask something"
    THANKS = "thanks"
    ASK_TOPIC = "ask_topic"  # wants a person but has not said what about
    PERSON = "person"  # needs a person: complaint, own case, dispute, job, asked for one
    REFUSE = "refuse"  # someone else's data, an officer's private number, an OTP, rule-breaking


@dataclass(frozen=True)
class Reading:
    """The intent, and whether a refusal should carry the scam warning."""

    intent: Intent
    scam: bool = False


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Someone other than the writer ("của mẹ tôi", "của bà Lan", "của nó", "of Mr Nam").
_OTHER = (r"(?:ong|ba|anh|chi|co|chu|bac|di|cau|thim|chau|em|chong|vo|con|me|bo|cha|no|ho|nguoi"
          r"|hang xom|chu tich|pho chu tich|bi thu|truong|can bo|tinh nguyen vien|user|thanh vien"
          r"|cac|tat ca|moi|nha)\b")
_DATA = (r"(?:so dien thoai|dien thoai|zalo|facebook|can cuoc|so dinh danh|dinh danh ca nhan"
         r"|dia chi|mat khau|passcode|otp|ma xac thuc|thong tin ca nhan|thong tin rieng|so tai khoan"
         r"|danh sach)")
_REVEAL = (r"(?:cho|dua|gui|cung cap|tra|tim|xem|doc|noi|bao|lay|liet ke|tiet lo|chia se|xin"
           r"|kiem tra)")
_SELF = r"(?:toi|tui|minh|tao|em|chau|con)"
_REFUSE = _any(
    # asking to be given another person's data
    rf"\b{_REVEAL}\b(?:\s+\w+){{0,6}}\s+{_DATA}\b(?:\s+\w+){{0,6}}\s+cua\s+{_OTHER}",
    rf"\b{_DATA}\b(?:\s+\w+){{0,3}}\s+cua\s+(?!{_SELF}\b){_OTHER}(?:\s+\w+){{0,4}}\s+la\s+(?:gi|bao nhieu|so may)",
    # private numbers of officials
    rf"\b{_DATA}\s+(?:rieng|ca nhan)\b",
    rf"\b{_REVEAL}\b(?:\s+\w+){{0,4}}\s+{_DATA}\s+(?:cua\s+)?(?:chu tich|pho chu tich|bi thu|truong cong an"
    rf"|cac tinh nguyen vien|cac can bo|tat ca)",
    # an OTP read or sent to the writer, or anyone else's
    rf"\b(?:doc|gui|cho|dua|noi|chuyen|xem)\s+(?:(?:cho|giup|gium|dum)\s+)?{_SELF}\b(?:\s+\w+){{0,6}}\s+otp\b",
    rf"\b(?:doc|gui|dua|noi|chuyen|xem|lay)\b(?:\s+\w+){{0,5}}\s+otp\b(?:\s+\w+){{0,8}}\s+cho\s+{_SELF}\b",
    # lists of residents and what they owe
    r"\bdanh sach\b(?:\s+\w+){0,4}\s+(?:ho|nguoi|dan|cong dan|ca nhan|tinh nguyen vien)\b",
    r"\b(?:ai|nguoi nao|ho nao|nha nao)\s+(?:trong|o)\s+(?:thon|xom|xa|ap|ban|to)\b(?:\s+\w+){0,3}\s+"
    r"(?:con no|no|chua dong|chua nop|chua kich hoat)",
    # English
    r"\b(?:give|send|tell|show|find|list|share|read|forward)\b(?:\s+\S+){0,6}\s+(?:\S+ s\s+)?"
    r"(?:phone numbers?|numbers?|address(?:es)?|id numbers?|password|passcode|otp|codes?|details|data)\b"
    r"(?:\s+\S+){0,6}\s*(?:of|for|to|from|sent to)?\s*(?:mr|mrs|ms|miss|my neighbou?r"
    r"|the (?:commune |village |hamlet )?(?:chairman|chairwoman|head|leader)"
    r"|user|all|every|other|another|someone|citizens|residents|officers|volunteers|him|her)\b",
    r"\b(?:give|send|tell|read|forward)\s+me\s+(?:mr|mrs|ms|miss)\s+\w+ s\b",
    r"\b(?:password|passcode|otp|id number|phone number|number|address)\s+of\s+(?:user|mr|mrs|ms|miss|officer"
    r"|the chairman|my neighbou?r|someone|another|other)\b",
    r"\b(?:private|personal)\s+(?:phone\s+)?(?:number|phone|address)\b",
    r"\blist (?:of|with)\b(?:\s+\S+){0,3}\s+(?:households|residents|people|citizens|families|names)\b",
    # attempts to make the assistant drop its rules
    r"\bbo qua\s+(?:\w+\s+){0,2}(?:quy tac|luat|huong dan|chi dan|quy dinh)",
    r"\b(?:hay\s+)?dong vai\b|\bkhong co luat\b|\bkhong can tuan thu\b",
    r"\b(?:ignore|forget|disregard)\s+(?:\w+\s+){0,3}(?:rules|instructions|prompt)\b",
    r"\bpretend (?:you are|to be)\b|\byou are now\b|\bjailbreak\b|\bsystem prompt\b|\bdeveloper mode\b",
)
# A refusal that touches codes or a claimed authority also gets the scam warning.
_SCAM = _any(r"\botp\b|\bmat khau\b|\bpasscode\b|\bma xac thuc\b|\bpassword\b|\bcode\b",
             r"\btoi la (?:cong an|can bo|canh sat|nguoi cua)|\bfrom the police\b|\bi m (?:a )?police")

_HOW_TO_SEND = _any(r"\b(?:gui|nop)\b(?:\s+\w+){0,6}\s+(?:o dau|qua dau|bang cach nao|the nao|cho ai)",
                    r"\b(?:o dau|qua dau|bang cach nao|cach nao|where|how)\b")
_COMPLAINT = _any(
    r"\bkhieu nai\b|\bto cao\b|\bbuc xuc\b|\bphan nan\b|\bcomplain\w*",
)
_MISCONDUCT = _any(
    r"\bcan bo\b(?:\s+\w+){0,8}\s+(?:thai do|hach dich|nhung nhieu|an tien|nhan tien|voi tien"
    r"|lam an kieu gi|kho chiu|kho nghe|tham nhung|bat nat|quat|chui|te|cham qua|doi tien|doi phong bi)",
    r"\b(?:thai do|hach dich|nhung nhieu|voi tien|an hoi lo)\b",
    r"\bnang\s+(?:noi\s+)?kho nghe\b|\bnoi nang kho nghe\b",
    r"\b(?:complain\w*|report)\s+(?:about\s+)?(?:an?|the)?\s*(?:officer|official|staff)",
)
_OWN_CASE = _any(
    r"\b(?:tien|tro cap|luong huu|che do|phu cap|tien ho tro|ho so|thuong binh)\b(?:\s+\w+){0,8}\s+"
    r"(?:chua|khong|van chua)\s+(?:\w+\s+){0,2}(?:duoc nhan|nhan duoc|ve|duoc duyet|duyet|tra|chi tra"
    r"|giai quyet|len)\b",
    r"\bbi tra ve\b|\bbi tu choi\b|\bai xu ly\b|\bai giai quyet\b|\bgap nguoi giai quyet\b",
    r"\b(?:xem|kiem tra|tra)\s+(?:giup|gium|dum|ho)\b(?:\s+\w+){0,6}\s+(?:ho so|tien|tro cap)\b"
    r"(?:\s+\w+){0,4}\s+(?:cua|nha)\s+(?:toi|tui|minh|em|nha|me|bo|ong|ba)",
    r"\b(?:why|when)\b(?:\s+\S+){0,8}\s+(?:allowance|pension|payment|benefit|money)\b",
    r"\b(?:my|our|his|her)\b(?:\s+\S+){0,4}\s+(?:pension|allowance|benefit|payment)\b",
)
_CHECK_HOW = _any(r"\b(?:xem|tra cuu|tra|kiem tra|coi)\s+(?:o dau|the nao|bang cach nao|cach nao)\b",
                  r"\blam sao (?:biet|xem)\b|\bhow (?:can|do) i (?:check|see|track)\b")
_DISPUTE = _any(
    r"\btranh chap\b|\blan (?:dat|chiem|sang)\b|\bxay lan\b|\bhoa giai\b|\bkien tung\b|\bdanh nhau\b",
    r"\bhang xom\b(?:\s+\w+){0,6}\s+(?:lan|do rac|on ao|xay|chan|danh|no tien|chui)",
    r"\bdispute\b|\bneighbou?r\b(?:\s+\S+){0,6}\s+(?:built|fence|land|noise)",
    # asking the commune to step in: "nhờ xã giải quyết", "báo công an xử lý"
    r"\b(?:nho|de nghi|yeu cau|bao)\s+(?:xa|uy ban|chinh quyen|cong an|thon)\s+(?:giai quyet|xu ly|can thiep|xuong)",
)
_JOB = _any(r"\btuyen dung\b|\btuyen\s+(?:nguoi|them|nhan vien|can bo|tinh nguyen vien)\b|\bviec lam\b"
            r"|\btim viec\b|\bxin viec\b|\blam viec tai xa\b",
            r"\bapply for (?:a |the )?job\b|\bjob\b|\bhiring\b|\bvacanc")
_NOT_JOB = re.compile(r"\bly lich\b|\btu phap\b|\bcriminal record\b|\bcertificate\b")

_GREETING_WORDS = word_set(
    "xin chao chao hello hallo hi hey alo lo good morning afternoon evening there oi a da "
    "vang ok oke okay em anh chi ong ba co chu bac chau toi tui minh con ban bot ad admin "
    "muon hoi chut viec cai nay voi nhe nha ne ai khong o do day cho phep can giup gi duoc "
    "hieu biet dang moi nguoi it xiu ti are you anyone is me please test cam on camon thank "
    "thanks thx ty nhen nghen hen chiec truc vay bo tra loi")
# Only after thanks: "cảm ơn nhiều lắm", "thank you so much".
_THANKS_WORDS = word_set(
    "nhieu lam so much very")
_THANKS = re.compile(r"\bcam on\b|\bthank|\bthanks\b|\bthx\b|\bcamon\b")


def classify(text: str, vocabulary: Vocabulary) -> Reading:
    """The intent of one message (ID numbers already removed)."""
    rewritten = vocabulary.rewrite(text)
    if _REFUSE.search(rewritten):
        return Reading(Intent.REFUSE, scam=bool(_SCAM.search(rewritten)))
    words = rewritten.split()
    if asks_for_person_in(vocabulary.expand(text)):
        return Reading(Intent.PERSON if _has_topic(text, vocabulary) else Intent.ASK_TOPIC)
    if _MISCONDUCT.search(rewritten) or (_COMPLAINT.search(rewritten) and not _HOW_TO_SEND.search(rewritten)):
        return Reading(Intent.PERSON)
    if _OWN_CASE.search(rewritten) and not _CHECK_HOW.search(rewritten):
        return Reading(Intent.PERSON)
    if _DISPUTE.search(rewritten) or (_JOB.search(rewritten) and not _NOT_JOB.search(rewritten)):
        return Reading(Intent.PERSON)
    thanks = bool(_THANKS.search(rewritten))
    small = _GREETING_WORDS | _THANKS_WORDS if thanks else _GREETING_WORDS
    if len(words) <= 12 and all(word in small for word in words):
        return Reading(Intent.THANKS if thanks else Intent.GREETING)
    return Reading(Intent.QUESTION)


# Ways of asking for a person, removed to see whether anything else was said.
_PERSON_WORDS = word_set(
    "gap noi chuyen chat trao doi lien he lien lac truc tiep can bo nguoi that ho tro huong "
    "dan tu van nhan vien tong dai vien chuyen sang qua xa uy ban talk speak to with a an "
    "human person real someone officer staff agent operator connect transfer me i want need "
    "would like may")


def _has_topic(text: str, vocabulary: Vocabulary) -> bool:
    """True when a request for a person also says what it is about."""
    leftover = [w for w in vocabulary.rewrite(text).split()
                if w not in _PERSON_WORDS and w not in _GREETING_WORDS]
    return len(leftover) >= 2


# Terms a citizen uses for themselves, and how the assistant then addresses them.
_ADDRESS = {"bà": "Bà", "ông": "Ông", "chú": "Chú", "cô": "Cô", "bác": "Bác", "cháu": "Cháu"}
_SELF_TERM = re.compile(
    r"(?:^|[,.!?;:]\s*|\bơi\s+|\b(?:cho|giúp|giùm|dùm|nhờ|là)\s+)(bà|ông|chú|cô|bác|cháu)\b"
    r"(?!\s+(?:ơi|ấy|nội|ngoại|tôi|tui|em|mình|nó|ta|kia|đó|ý|nhà|của|với|và|hàng|xã|giáo|chủ|cán|trưởng))")


def address_of(text: str) -> str | None:
    """How to address the citizen ("Bà", "Chú"…) when they named themselves so; None otherwise."""
    found = _SELF_TERM.search(unicodedata.normalize("NFC", text.lower()).strip())
    return _ADDRESS[found.group(1)] if found else None


# Words that close or open a question; the last clause holding one is where the question is.
_QUESTION_CUE = re.compile(
    r"\?|\b(?:khong|sao|gi|dau|nao|chua|bao gio|bao nhieu|duoc khong|o dau|lam sao|the nao|ai"
    r"|how|what|where|why|when|can i|do i)\b")
_CLAUSE = re.compile(r"(?<=[.?!;\n])\s+|,\s*|\s+(?:nhưng|nhung|mà|giờ|vậy)\s+", re.IGNORECASE)
LONG_MESSAGE_WORDS = 25
_SHORT_CLAUSE_WORDS = 6


def focus(text: str, vocabulary: Vocabulary) -> str | None:
    """The question at the end of a long story (its last two clauses), or None for short messages."""
    if len(text.split()) <= LONG_MESSAGE_WORDS:
        return None
    clauses = [c for c in _CLAUSE.split(text) if c and c.strip()]
    asking = [i for i, clause in enumerate(clauses) if _QUESTION_CUE.search(vocabulary.rewrite(clause))]
    if not asking:
        return None
    last = asking[-1]
    # The asking clause alone, with the one before it when it is too short to say what about.
    first = last - 1 if len(clauses[last].split()) < _SHORT_CLAUSE_WORDS else last
    tail = " ".join(clauses[max(0, first): last + 1])
    return tail if len(tail.split()) < len(text.split()) else None
