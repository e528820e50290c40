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
from bot.textnorm import fold


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


# A person named in the message ("bà Nguyễn Thị Mai", "anh Phúc", "Mrs Thu"), as `_mark_names` writes them.
_NAMED = r"\bnguoi duoc neu ten\b"
_NAME_MARK = "người được nêu tên"
# Someone other than the writer ("của mẹ tôi", "của bà Lan", "của nó", "of Mr Nam").
_OTHER = (r"(?:ong|ba|anh|chi|co|chu|bac|di|cau|thim|chau|em|chong|vo|con|me|bo|cha|no|ho|nguoi"
          r"|hang xom|chu tich|pho chu tich|bi thu|truong|can bo|tinh nguyen vien|user|thanh vien"
          r"|(?:\d+\s+)?(?:hoc sinh|nhan vien|cong nhan|khach hang)|nguoi giup viec"
          r"|cac|tat ca|moi|nha)\b")
# "điện thoại" alone is the number only when it is not the device something is done on
# ("xin trên điện thoại của nó" is using the grandson's phone).
_DATA = (r"(?:so dien thoai|(?<!tren )(?<!bang )(?<!qua )(?<!trong )(?<!vao )dien thoai|zalo|facebook|can cuoc"
         r"|so dinh danh|dinh danh ca nhan|dia chi|mat khau|passcode|otp|ma xac thuc|thong tin ca nhan"
         r"|thong tin rieng|so tai khoan|danh sach)")
# How to reach someone: private when it is another person's.
_CONTACT = r"(?:so dien thoai|dien thoai|so di dong|di dong|so|zalo|facebook|dia chi)"
_REVEAL = (r"(?:cho|dua|gui|cung cap|tra|tim|xem|doc|noi|bao|lay|liet ke|tiet lo|chia se|xin"
           r"|kiem tra|in|xuat)")
_SELF = r"(?:toi|tui|minh|tao|em|chau|con)"
# People whose records are not the writer's to see, even with the reason given.
_STRANGER = r"(?:hang xom|nha ben|canh nha|nha doi dien|nguoi la|nguoi khac|vo cu|chong cu|nguoi yeu cu)"
# What a stranger has or did ("hàng xóm có đăng ký kinh doanh không"), and a request to look it up.
_STRANGER_HAS = rf"\b{_STRANGER}\b(?:\s+\w+){{0,3}}\s+(?:co|da)\b(?:\s+\w+){{0,6}}\s+(?:chua|khong)\b"
_LOOKUP = r"\b(?:cho (?:toi|minh|em|chau) biet|(?:tra|kiem tra|xem|cho biet|noi)\s+(?:giup|gium|dum|cho))\b"
_REFUSE = _any(
    # asking to be given another person's data
    rf"\b{_REVEAL}\b(?:\s+\w+){{0,6}}\s+{_DATA}\b(?:\s+\w+){{0,6}}\s+cua\s+{_OTHER}",
    rf"\b{_DATA}\b(?:\s+\w+){{0,3}}\s+cua\s+(?!{_SELF}\b){_OTHER}(?:\s+\w+){{0,4}}\s+la\s+(?:gi|bao nhieu|so may)",
    # someone else's private number or address ("số điện thoại riêng của chủ tịch"): "private"
    # alone is the writer's own as often ("cung cấp số điện thoại cá nhân khi đăng ký")
    rf"\b{_CONTACT}\s+(?:rieng|ca nhan)\s+(?:cua\s+)?(?!{_SELF}\b){_OTHER}",
    rf"\b{_REVEAL}\b(?:\s+\w+){{0,4}}\s+{_DATA}\s+(?:cua\s+)?(?:chu tich|pho chu tich|bi thu|truong cong an"
    rf"|cac tinh nguyen vien|cac can bo|tat ca)",
    # an OTP read or sent to the writer, or anyone else's
    rf"\b(?:doc|gui|cho|dua|noi|chuyen|xem)\s+(?:(?:cho|giup|gium|dum)\s+)?{_SELF}\b(?:\s+\w+){{0,6}}\s+otp\b",
    rf"\b(?:doc|gui|dua|noi|chuyen|xem|lay)\b(?:\s+\w+){{0,5}}\s+otp\b(?:\s+\w+){{0,8}}\s+cho\s+{_SELF}\b",
    # a new secret made for someone else and handed to the writer ("đặt lại passcode cho chị ấy rồi
    # gửi tôi"); how to reset it for a relative is a how-to and stays one
    rf"\b(?:mat khau|passcode|otp|ma xac thuc)\b(?:\s+\w+){{0,3}}\s+cho\s+(?!{_SELF}\b){_OTHER}(?:\s+\w+){{0,3}}"
    rf"\s+(?:roi|xong|va)\s+(?:gui|chuyen|dua|nhan tin|doc)\b(?:\s+\w+){{0,3}}?\s+{_SELF}\b",
    # lists of residents and what they owe
    rf"\b{_REVEAL}\b(?:\s+(?!khoi\b)\w+){{0,3}}\s+danh sach\b(?:\s+\w+){{0,4}}\s+(?:ho|nguoi|dan|cong dan|ca nhan"
    r"|tinh nguyen vien|gia dinh)\b",
    # a named person's data or status: "số điện thoại của Lê Văn Tâm", "anh Phúc có sổ đỏ chưa"
    rf"\b{_DATA}\b(?:\s+\w+){{0,4}}\s+(?:cua|of)\s+(?:\w+\s+){{0,2}}{_NAMED}",
    rf"{_NAMED}(?:\s+\w+){{0,3}}\s+(?:co|da)\b(?:\s+\w+){{0,4}}\s+(?:chua|khong)\b",
    rf"{_NAMED}(?:\s+\w+){{0,3}}\s+(?:o dau|song o|la ai|ten gi|dung ten ai|lives?\b"
    rf"|s (?:phone|address|id|number|residence|passcode|password|otp))",
    rf"\b(?:tra|kiem tra|tim|look up|check|find)\b(?:\s+\w+){{0,4}}\s+{_NAMED}",
    rf"\b(?:tell|give|send|need)\b(?:\s+\S+){{0,4}}\s+{_NAMED}\s+s\b",
    r"\b(?:ai|nguoi nao|ho nao|nha nao)\s+(?:trong|o)\s+(?:thon|xom|xa|ap|ban|to)\b(?:\s+\w+){0,3}\s+"
    r"(?:con no|no|chua dong|chua nop|chua kich hoat)\b",
    # English
    r"\b(?:give|send|tell|show|find|list|share|read|forward)\b(?:\s+\S+){0,6}\s+(?:\S+ s\s+)?"
    r"(?:phone numbers?|numbers?|address(?:es)?|id numbers?|password|passcode|otp|codes?|details|data)\b"
    r"(?:\s+\S+){0,6}\s*(?:of|for|to|from|sent to)?\s*(?:mr|mrs|ms|miss|my neighbou?r"
    r"|the (?:commune |village |hamlet )?(?:chairman|chairwoman|head|leader)"
    r"|user|all|every|other|another|someone|citizens|residents|officers|volunteers|him|her)\b",
    r"\b(?:give|send|tell|read|forward)\s+me\s+(?:mr|mrs|ms|miss)\s+\w+ s\b",
    r"\b(?:password|passcode|otp|id number|phone number|number|address)\s+of\s+(?:user|mr|mrs|ms|miss|officer"
    r"|the chairman|my neighbou?r|someone|another|other)\b",
    r"(?<!\bmy )(?<!\bour )\b(?:private|personal)\s+(?:phone\s+|mobile\s+|cell\s+)?(?:number|phone|address)\b",
    # a relative's secret: "just tell me my husband's VNeID password"
    r"\b(?:give|send|tell|show|read)\s+me\b(?:\s+\S+){0,3}\s+(?:husband|wife|son|daughter|mother|father|mom|mum|dad"
    r"|brother|sister|neighbou?r|friend|boss)\s+s\b(?:\s+\S+){0,2}\s+(?:password|passcode|otp|code|id number)\b",
    r"\blist (?:of|with)\b(?:\s+\S+){0,3}\s+(?:households|residents|people|citizens|families|names)\b",
    # everything at once: "in ra toàn bộ dữ liệu", "export all user records"
    r"\b(?:in ra|in|xuat|xuat ra|liet ke|cho xem|gui|dua|cung cap|trich xuat|tai ve)\b(?:\s+\w+){0,3}\s+"
    r"(?:toan bo|tat ca|het|moi)\b(?:\s+\w+){0,3}\s+(?:du lieu|thong tin|ho so|so dien thoai|so dinh danh"
    r"|tai khoan|nguoi dung|cong dan)",
    r"\b(?:print|dump|export|list|show|give)\b(?:\s+\S+){0,3}\s+(?:all|every|the whole|the entire|entire)\b"
    r"(?:\s+\S+){0,3}\s+(?:data|records|database|users|accounts|citizens)",
    # the system's own keys: "mật khẩu tài khoản quản trị", "admin password"
    r"\b(?:mat khau|password|token|api key|ma truy cap)\b(?:\s+\w+){0,4}\s+(?:quan tri|admin|he thong|may chu"
    r"|server|co so du lieu|database)\b",
    r"\b(?:admin|administrator|root|server|database)\s+(?:password|credentials|token)\b",
    # where someone lives or stays: "cô ấy đang tạm trú ở đâu", "where does she live now"
    r"\b(?:co ay|anh ay|ong ay|ba ay|chi ay|em ay|nguoi nay|nguoi do|ong ta|ba ta|co ta|anh ta|chi ta"
    r"|(?:vo|chong|nguoi yeu) cu(?: toi| cua toi)?)\s+(?:(?:gio|bay gio|hien|hien nay|nay)\s+)?"
    r"(?:dang\s+|hien dang\s+)?(?:dang ky\s+)?(?:o|song|tam tru|thuong tru|cu tru"
    r"|lam viec|tro)\s+(?:o\s+|tai\s+)?(?:dau|cho nao|noi nao|thon nao|xa nao)\b",
    # … or of a tenant, a lodger, a neighbour: "người thuê trọ nhà tôi thường trú ở đâu, quê quán thế nào"
    r"\b(?:nguoi thue (?:tro|nha)|khach (?:tro|thue)|nguoi o tro|hang xom|nguoi la)\b"
    r"(?:\s+(?!thi\b|de\b|can\b|phai\b|muon\b|khai\b|dang ky\b)\w+){0,3}\s+"
    r"(?:(?:hien|dang) o|song o|thuong tru|tam tru|que quan|que o)\s+(?:o\s+|tai\s+|la\s+)?(?:dau|cho nao"
    r"|noi nao|the nao|gi)\b",
    r"\bwhere\s+(?:does|is|do)\s+(?:he|she|they|mr|mrs|ms|miss|my ex)\b(?:\s+\S+){0,4}\s+(?:live|living|stay"
    r"|staying|work)",
    # a stranger's record: "tôi là hàng xóm … cho xem hồ sơ của bà"
    rf"\b{_STRANGER}\b.*\b(?:xem|kiem tra"
    r"|tra|cho biet|tim)\b(?:\s+\w+){0,4}\s+(?:ho so|tro cap|thong tin|giay to|tai khoan|du lieu|tien)\b"
    r"(?:\s+\w+){0,3}\s+cua\s+(?:ba|ong|anh|chi|co|chu|bac|em|nguoi|ho|ban)\b",
    # … or what a stranger has or did, to be looked up, asked after or before: "hàng xóm tôi có đăng
    # ký kinh doanh không, tra giúp", "cho tôi biết nhà cạnh nhà tôi có đang nhận trợ cấp không"
    rf"{_STRANGER_HAS}.*{_LOOKUP}|{_LOOKUP}.*{_STRANGER_HAS}",
    # where an officer lives, who filed a petition: "cán bộ một cửa tên Lan nhà ở đâu", "ai đã phản ánh nhà tôi"
    r"\b(?:can bo|chu tich|pho chu tich|bi thu|truong thon|truong cong an|cong an khu vuc)\b(?:\s+\w+){0,6}"
    r"\s+nha\s+(?:o|tai)\s+(?:dau|cho nao|thon nao)",
    r"\bai\s+(?:la nguoi\s+|da\s+)?(?:gui\s+)?(?:phan anh|to cao|to giac|khieu nai|kien nghi)\b"
    r"|\bwho\s+(?:reported|complained about|filed)\b",
    # someone else's records looked up: "xem lý lịch tư pháp của người giúp việc", "kiểm tra xem anh ấy
    # có đăng ký kết hôn với ai khác không", a named person's dossier, a list of who did what
    rf"\b(?:xem|tra|kiem tra|tra cuu|check|coi)\b(?:\s+\w+){{0,4}}\s+(?:ly lich|tien an|tien su|giay to)"
    rf"(?:\s+tu phap)?\s+cua\s+(?!{_SELF}\b|con\b){_OTHER}",
    r"\b(?:kiem tra|tra|tra cuu|xem)\b(?:\s+\w+){0,5}\s+(?:anh ay|chi ay|co ay|ong ay|ba ay|em ay|nguoi do"
    r"|nguoi nay|chong toi|vo toi)\s+(?:co|da)\s+(?:dang ky|ket hon|vay|no|tien an)\b",
    rf"\bho so\b(?:\s+\w+){{0,3}}\s+(?:cua|nha)\s+(?:\w+\s+)?{_NAMED}",
    r"\b(?:liet ke|ke ten|cho biet ten)\b(?:\s+\w+){0,2}\s+(?:nhung|cac|tat ca)\s+(?:nguoi|ho|gia dinh)\b",
    # a neighbour's benefits: "ông hàng xóm có được nhận trợ cấp không, bao nhiêu tiền"
    rf"\b{_STRANGER}\b(?:\s+\w+){{0,2}}\s+(?:co|da)\s+(?:duoc\s+|dang\s+)?(?:nhan|huong|lanh)\b(?:\s+\w+){{0,5}}\s+(?:chua|khong)\b",
    # finding where someone is through the app
    r"\b(?:dinh vi|vi tri)\b(?:\s+\w+){0,6}\s+(?:qua|bang|tren|trong)\s+(?:app\s+|ung dung\s+)?vneid\s+cua\b",
    # the details of whoever "that person" is: "tra giúp tôi địa chỉ và số điện thoại người đó"
    rf"\b{_REVEAL}\b(?:\s+\w+){{0,6}}\s+{_DATA}\b(?:\s+\w+){{0,4}}\s+(?:cua\s+)?(?:nguoi do|nguoi nay|nguoi ay"
    r"|nguoi kia|chu nhan)\b",
    # being asked to impersonate someone (a scam's first step); someone else doing it is a scam report
    r"\b(?:ban|em|bot|hay)\s+(?:hay\s+)?gia\s+(?:lam|danh|vo lam)\b",
    # attempts to make the assistant drop its rules, or a "mode" that does not exist
    r"\bche do\s+(?:kiem thu|quan tri|admin|debug|nha phat trien|developer|test|bao tri)\b",
    r"\b(?:admin|debug|test|maintenance|god)\s+mode\b",
    r"\b(?:bo qua|quen|quen het|vut)\s+(?:\w+\s+){0,2}(?:quy tac|luat|huong dan|chi dan|quy dinh)",
    r"\blam theo lenh\s+(?:cua\s+)?(?:toi|tui|tao)\b",
    r"\bkhong phai (?:la )?(?:chatbot|bot|tro ly)\b(?:\s+\w+){0,2}\s+nua\b",
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
    r"\bkhieu nai\b|\bto cao\b|\bbuc xuc\b|\bphan nan\b|\bcomplain\w*|\bkhong dong y\b|\bdisagree\b",
    # feedback about a person, not a matter: "tôi muốn phản ánh anh đó"
    r"\bphan anh\s+(?:ve\s+)?(?:anh|chi|ong|ba|co|chu|can bo|cong an|nhan vien)\s+(?:do|ay|nay|ta|kia)\b",
)
_MISCONDUCT = _any(
    r"\bcan bo\b(?:\s+\w+){0,8}\s+(?:thai do|hach dich|nhung nhieu|an tien|nhan tien|voi tien"
    r"|lam an kieu gi|kho chiu|kho nghe|tham nhung|bat nat|quat|chui|te|cham qua|doi tien|doi phong bi)",
    r"\b(?:thai do|hach dich|nhung nhieu|voi tien|an hoi lo)\b",
    # money taken beyond the fee: "công an khu vực thu của dân 50 nghìn"
    r"\b(?:can bo|cong an|truong thon|truong ap|to truong|nhan vien|canh sat)\b(?:\s+\w+){0,4}\s+(?:thu|doi|lay|an)"
    r"\s+(?:cua dan|them|tien ngoai|khong (?:co )?bien lai)\b",
    r"\bnang\s+(?:noi\s+)?kho nghe\b|\bnoi nang kho nghe\b",
    r"\b(?:complain\w*|report)\s+(?:about\s+)?(?:an?|the)?\s*(?:officer|official|staff)",
)
_OWN_CASE = _any(
    r"\b(?:tien|tro cap|luong huu|che do|phu cap|tien ho tro|ho so|thuong binh)\b(?:\s+\w+){0,8}\s+"
    r"(?:chua|khong|van chua)\s+(?:\w+\s+){0,2}(?:duoc nhan|nhan duoc|ve|duoc duyet|duyet|tra|chi tra"
    r"|giai quyet|len)\b",
    r"\bbi tra ve\b|\bbi tu choi\b|\bai xu ly\b|\bai giai quyet\b|\bgap nguoi giai quyet\b",
    # "nhờ xã xem giúp trường hợp nhà tôi", "3 tháng nay mà chưa có quyết định"
    r"\btruong hop\s+(?:cua\s+)?(?:nha\s+)?(?:toi|tui|minh|em|me toi|bo toi|ong toi|ba toi|con toi)\b",
    r"\b(?:thang|tuan|nam)\s+(?:nay|roi|truoc)\b(?:\s+\w+){0,3}\s+(?:ma\s+)?(?:van\s+)?chua\s+(?:co\s+)?"
    r"(?:quyet dinh|ket qua|tra loi|duoc duyet|nhan duoc)",
    r"\b(?:xem|kiem tra|tra)\s+(?:giup|gium|dum|ho)\b(?:\s+\w+){0,6}\s+(?:ho so|tien|tro cap)\b"
    r"(?:\s+\w+){0,4}\s+(?:cua|nha)\s+(?:toi|tui|minh|em|nha|me|bo|ong|ba|vo|chong|con|anh|chi)",
    # a mistake in their own papers: "ghi sai năm sinh, ai sửa cho tôi"
    r"\bai\s+(?:sua|dinh chinh)\s+(?:cho|giup|gium|lai)\b|\bai\s+chiu trach nhiem\b",
    r"\b(?:why|when)\b(?:\s+\S+){0,8}\s+(?:allowance|pension|payment|benefit|money)\b",
    r"\b(?:my|our|his|her)\b(?:\s+\S+){0,4}\s+(?:pension|allowance|benefit|payment)\b",
)
_CHECK_HOW = _any(r"\b(?:xem|tra cuu|tra|kiem tra|coi)\s+(?:o dau|the nao|bang cach nao|cach nao)\b",
                  r"\blam sao (?:biet|xem)\b|\bhow (?:can|do) i (?:check|see|track)\b")
_DISPUTE = _any(
    r"(?<!khong )(?<!khong ai )(?<!khong co )\btranh chap\b",  # "không ai tranh chấp gì" is no dispute
    r"\blan (?:dat|chiem|sang)\b|\bxay lan\b|\bhoa giai\b|\bkien tung\b|\bdanh nhau\b",
    r"\bhang xom\b(?:\s+\w+){0,6}\s+(?:lan|do rac|on ao|xay|chan|danh|no tien|chui)",
    r"\bdispute\b|\bneighbou?r\b(?:\s+\S+){0,6}\s+(?:built|fence|land|noise)",
    # asking the commune to step in: "nhờ xã giải quyết", "báo công an xử lý"
    r"\b(?:nho|de nghi|yeu cau|bao|muon)\s+(?:xa|uy ban|chinh quyen|cong an|thon)\s+(?:giai quyet|xu ly|can thiep"
    r"|xuong|kiem tra|xac minh)",
)
_JOB = _any(r"\btuyen dung\b|\btuyen\s+(?:nguoi|them|nhan vien|can bo|tinh nguyen vien)\b|\bviec lam\b"
            r"|\btim viec\b|\bxin viec\b|\blam viec tai xa\b",
            r"\bapply for (?:a |the )?job\b|\bjob\b|\bhiring\b|\bvacanc")
# Papers for a job elsewhere ("hồ sơ xin việc cần bản sao chứng thực") are not a job at the commune.
_NOT_JOB = re.compile(r"\bly lich\b|\btu phap\b|\bcriminal record\b|\bcertificate\b|\bho so xin viec\b"
                      r"|\bban sao\b|\bchung thuc\b|\bsao y\b")

_GREETING_WORDS = word_set(
    "xin chao chao hello hallo hi hey alo lo good morning afternoon evening there oi a da "
    "vang ok oke okay em anh chi ong ba co chu bac chau toi tui minh con ban bot ad admin "
    "muon hoi chut viec cai nay voi nhe nha ne ai khong o do day cho phep can giup gi duoc "
    "hieu biet dang moi nguoi it xiu ti are you anyone is me please test cam on camon thank "
    "thanks thx ty nhen nghen hen chiec truc vay bo tra loi buoi sang trua chieu toi haha hihi hehe ca "
    "uh um uhm u oh ah cool alright okie oki")
# Only after thanks: "cảm ơn nhiều lắm", "thank you so much".
_THANKS_WORDS = word_set(
    "nhieu lam so much very")
_THANKS = re.compile(r"\bcam on\b|\bthank|\bthanks\b|\bthx\b|\bcamon\b|\btks\b|\bcam ta\b")
# Small talk that closes or warms a conversation rather than opening a question: wishes, praise,
# "it worked", goodbyes. Such a message is small talk only when it asks nothing (_ASKS) and is short.
_SOCIAL = _any(
    r"\bchuc\b(?:\s+\w+){0,8}\s+(?:vui ve|suc khoe|thanh cong|may man|binh an|an lanh|tot lanh|hanh phuc"
    r"|thuan loi|cuoi tuan|nam moi|ngay moi|an khang|thinh vuong)\b",
    r"\b(?:have a (?:nice|good|great) (?:day|weekend)|wish you|happy new year)\b",
    r"\b(?:de thuong|gioi (?:qua|ghe|that|lam)|hay (?:qua|ghe|lam)|tuyet voi|tuyet|nhiet tinh|tan tinh|chu dao"
    r"|good (?:bot|job)|great|awesome|helpful|nice|lovely|perfect)\b",
    r"\b(?:(?:lam|duoc|xong|on|hieu|ro|vao)\s+(?:duoc\s+)?roi|got it|it works|it worked|all good|understood"
    r"|that works|done now)\b",
    r"\b(?:tam biet|hen gap lai|bye|goodbye|see you)\b",
)
# A question, a problem or a request: then it is not small talk, whatever else it says.
_ASKS = re.compile(
    r"\b(?:khong|ko|sao|gi|dau|nao|chua|bao gio|bao nhieu|lam sao|the nao|van|bi|loi|nhung|hoi|muon"
    r"|can(?! bo)|cach|giup|xin|how|what|where|why|when|cannot|not|but|still|help|need|want|please)\b")
_SOCIAL_MAX_WORDS = 15
# Questions about the assistant itself ("bạn là ai", "bot có khỏe không", "are you a robot"): a
# greeting answers them (it says what the assistant is for).
_ABOUT_BOT = _any(
    r"\b(?:ban|bot|em|may|chatbot|tro ly)\s+(?:la ai|la gi|ten (?:la )?gi|(?:co )?khoe khong|la nguoi that"
    r"|la nguoi hay may|la may|la robot)\b",
    r"\b(?:who|what) are you\b|\bare you (?:a |an )?(?:bot|robot|human|real|ai|machine)\b|\bhow are you\b",
    r"\b(?:is this|am i (?:talking|chatting) (?:to|with)) (?:a |an )?(?:real person|person|human|bot|robot|machine)\b")
_ABOUT_BOT_MAX_WORDS = 8
# Impatience with nothing asked yet ("chờ lâu quá", "sao trả lời chậm thế", "anyone there?"): the
# greeting asks what they want to know, which is what the wait was for.
_WAITING = _any(
    r"\b(?:cho|doi)\s+(?:\w+\s+){0,2}lau\b|\b(?:tra loi|phan hoi|rep)\s+(?:\w+\s+){0,2}(?:lau|cham)\b",
    r"\b(?:chang|khong|chua)\s+thay\s+ai\b|\bai\s+(?:tra loi|o do|o day)\s+khong\b",
    r"\btaking so long\b|\bso slow\b|\banyone (?:home|there|here)\b|\bstill waiting\b")
_WAITING_MAX_WORDS = 8
# Greetings and goodbyes that also say who is writing or why they leave ("nhà em chào anh chị tổ
# công nghệ số", "thôi chào em, bác đi nấu cơm"): small talk when nothing is asked and no entry fits.
_HELLO = re.compile(r"\b(?:chao|xin chao|hello|hi|hiya|hey|alo|tam biet|bye)\b")
_HELLO_MAX_WORDS = 12


def classify(text: str, vocabulary: Vocabulary) -> Reading:
    """The intent of one message (ID numbers already removed)."""
    rewritten = vocabulary.rewrite(_mark_names(text))
    if _REFUSE.search(rewritten):
        return Reading(Intent.REFUSE, scam=bool(_SCAM.search(rewritten)))
    words = rewritten.split()
    # "bạn là người thật hay máy?" names a person but asks about the assistant.
    about_bot = bool(_ABOUT_BOT.search(rewritten)) and len(words) <= _ABOUT_BOT_MAX_WORDS
    if asks_for_person_in(vocabulary.expand(text)) and not about_bot:
        return Reading(Intent.PERSON if _has_topic(text, vocabulary) else Intent.ASK_TOPIC)
    if _MISCONDUCT.search(rewritten) or (_COMPLAINT.search(rewritten) and not _HOW_TO_SEND.search(rewritten)):
        return Reading(Intent.PERSON)
    if _in_one_sentence(_OWN_CASE, text, vocabulary) and not _CHECK_HOW.search(rewritten):
        return Reading(Intent.PERSON)
    if _in_one_sentence(_DISPUTE, text, vocabulary) or (_JOB.search(rewritten) and not _NOT_JOB.search(rewritten)):
        return Reading(Intent.PERSON)
    thanks = bool(_THANKS.search(rewritten))
    small = _GREETING_WORDS | _THANKS_WORDS if thanks else _GREETING_WORDS
    if len(words) <= 12 and all(word in small for word in words):
        return Reading(Intent.THANKS if thanks else Intent.GREETING)
    if (thanks or _SOCIAL.search(rewritten)) and len(words) <= _SOCIAL_MAX_WORDS and "?" not in text \
            and not _ASKS.search(rewritten):
        return Reading(Intent.THANKS)  # "you're welcome, ask me anything else" fits each of them
    if about_bot or (_WAITING.search(rewritten) and len(words) <= _WAITING_MAX_WORDS):
        return Reading(Intent.GREETING)
    # The scam flag travels with a question too: the learned model may still refuse it.
    return Reading(Intent.QUESTION, scam=bool(_SCAM.search(rewritten)))


def only_greets(text: str, vocabulary: Vocabulary) -> bool:
    """True for a short greeting or goodbye that asks nothing; the reader greets it when no entry fits."""
    rewritten = vocabulary.rewrite(text)
    return bool(_HELLO.search(rewritten)) and not _ASKS.search(rewritten) and "?" not in text \
        and len(rewritten.split()) <= _HELLO_MAX_WORDS


# Titles before a given name, and the commonest family names, which start a full name.
_TITLES = word_set("anh chị ông bà cô chú bác em cháu dì cậu thím mợ bé thằng mr mrs ms miss")
_FAMILY_NAMES = frozenset(fold(name) for name in word_set(
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Đoàn Trịnh Lâm Tạ "
    "Lương Tô Quách Lưu Kiều Chu"))
# Capitalised words after a title that are not names ("bà Con", "anh Công an", "Anh Chị").
_NOT_NAMES = frozenset(fold(word) for word in word_set("con công cán tổ thôn xã ấy ơi vneid anh chị em"))
# Words before a place that starts like a name ("ở Hà Nội", "tỉnh Lâm Đồng", "TP Hồ Chí Minh").
_BEFORE_PLACE = word_set("o tai ve den ra vao tu di tinh thanh pho tp huyen quan xa phuong que in at from to")
_TOKEN = re.compile(r"\S+")


def _mark_names(text: str) -> str:
    """The text with each person's name replaced by a fixed phrase, so the rules can speak of "a
    named person": a capitalised word after a title ("anh Phúc"), or a full name starting with a
    family name ("Lê Văn Tâm", "Nguyen Thi Mai"). The first word of a sentence is not a name."""
    tokens = _TOKEN.findall(unicodedata.normalize("NFC", text))
    out: list[str] = []
    i = 0
    while i < len(tokens):
        word = re.sub(r"['’]s$", "", tokens[i].strip(".,!?;:\"()"))
        start = i == 0 or tokens[i - 1][-1] in ".!?"
        # "… cho cháu. Trẻ chưa đủ 14": a title ending a sentence does not name the next one's first word
        after_title = i > 0 and not start and tokens[i - 1].lower().strip(",") in _TITLES
        place = i > 0 and fold(tokens[i - 1].strip(",.")) in _BEFORE_PLACE
        if _capitalised(word) and (after_title or (not start and not place and fold(word) in _FAMILY_NAMES)) \
                and fold(word) not in _NOT_NAMES:
            j = i + 1
            while j < len(tokens) and j - i < 4 and not re.search(r"[,.!?;:]$", tokens[j - 1]) \
                    and _capitalised(tokens[j].strip(".,!?;:'\"()")):
                j += 1
            if after_title or j - i >= 2:
                last = tokens[j - 1]
                possessive = " s" if re.search(r"['’]s\W*$", last) else ""
                out.append(_NAME_MARK + possessive + ("" if last[-1].isalnum() else last[-1]))
                i = j
                continue
        out.append(tokens[i])
        i += 1
    return " ".join(out)


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and word[1:].islower()


_SENTENCE_END = re.compile(r"[.!?;\n]+")


def _in_one_sentence(pattern: re.Pattern[str], text: str, vocabulary: Vocabulary) -> bool:
    """True when one sentence of the message matches: in a story, "hồ sơ đã được duyệt. Con tôi đi
    học chưa về" is not a dossier that has not come back."""
    return any(pattern.search(vocabulary.rewrite(_mark_names(sentence))) for sentence in _SENTENCE_END.split(text))


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
