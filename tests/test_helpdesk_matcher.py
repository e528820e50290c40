"""Citizen help desk: knowledge files validate, answers follow the house voice, matching holds up."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from bot.helpdesk import KnowledgeBase, KnowledgeError, Matcher, baseline_match, load_knowledge
from bot.helpdesk.reader import Outcome, Reader, Reading
from bot.helpdesk.service import knowledge
from bot.helpdesk.vocabulary import default_vocabulary
from bot.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DEV = ROOT / "benchmarks" / "helpdesk_dev.tsv"
# Earlier held-out sets, each measured once, then used for development.
ROUNDS = [ROOT / "benchmarks" / f"helpdesk_round{n}.tsv" for n in (1, 2, 3, 4, 5, "6dev", "7dev", "8dev", 6)]
# Written apart and never looked at question by question: the benchmark reports it. It is added
# for the final measurement; until then the other sets are checked alone.
HELDOUT = ROOT / "benchmarks" / "helpdesk_heldout.tsv"
SETS = {path.stem.removeprefix("helpdesk_"): path
        for path in [DEV, *ROUNDS, HELDOUT] if path.exists()}

# Topics the issue asks the help desk to cover (seed 004's priority groups included).
REQUIRED_IDS = {
    "vneid_what", "account_levels", "level2_register", "vneid_activate", "forgot_passcode",
    "change_phone", "new_device", "account_locked", "no_otp", "portal_login", "online_levels",
    "birth_registration", "residence_registration", "judicial_record", "certified_copy", "pay_fees",
    "dossier_status", "vneid_documents", "scam_calls", "fake_apps", "civil_status", "land",
    "social_protection", "people_with_merit", "household_business", "talk_to_person",
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


# --- knowledge files ------------------------------------------------------------------------------


def test_knowledge_loads_and_covers_the_required_topics(kb: KnowledgeBase) -> None:
    ids = {entry.id for entry in kb}
    assert ids >= REQUIRED_IDS
    assert len(ids) == len(kb)
    group_ids = {group.id for group in kb.groups}
    assert all(entry.group in group_ids for entry in kb)
    assert all(target in ids for entry in kb for target in entry.next)
    assert kb.handoff_ids() == {"talk_to_person"}


def test_answers_are_short_bilingual_and_in_the_house_voice(kb: KnowledgeBase) -> None:
    for entry in kb:
        assert 0 < len(entry.answer_vi) < 1000, entry.id
        assert 0 < len(entry.answer_en) < 1000, entry.id
        assert re.search(r"[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", entry.answer_vi.lower()), entry.id
        assert "Anh/Chị" in entry.answer_vi, entry.id
        assert "người dùng" not in entry.answer_vi.lower(), entry.id
        assert entry.answer_vi.count("✅") + entry.answer_vi.count("⚠") <= 1, entry.id
        assert re.search(r"^1\. ", entry.answer_vi, re.MULTILINE), f"{entry.id}: no numbered steps"
        assert entry.examples, entry.id


def test_answers_refer_to_sections_that_exist(kb: KnowledgeBase) -> None:
    titles_vi = {entry.title_vi.rstrip("?") for entry in kb}
    titles_en = {entry.title_en.rstrip("?") for entry in kb}
    for entry in kb:
        for ref in re.findall(r'mục "([^"]+)"', entry.answer_vi):
            assert ref in titles_vi, f"{entry.id}: no section titled {ref!r}"
        for ref in re.findall(r'read "([^"]+)"', entry.answer_en):
            assert ref in titles_en, f"{entry.id}: no section titled {ref!r}"


_SHARE = r"\b(?:đọc|gửi|nhắn|cung cấp|đưa|send|give|share|tell|read (?:out|it|them|the))\b"
_SECRET = r"(?:otp|mật khẩu|passcode|số căn cước|số định danh|password|id number)"
# A sentence about secrets must warn: a negation, or a description of what scammers do.
_WARNING = re.compile(r"\b(?:không|đừng|chớ|kẻ gian|giả|lừa|never|not|don't|scammers?|fake)\b", re.IGNORECASE)


def test_no_answer_asks_citizens_to_share_secrets(kb: KnowledgeBase) -> None:
    share_secret = re.compile(rf"{_SHARE}.{{0,40}}{_SECRET}", re.IGNORECASE)
    for entry in kb:
        for text in (entry.answer_vi, entry.answer_en):
            for sentence in re.split(r"\n|(?<=[.!?])\s", text):
                if share_secret.search(sentence):
                    assert _WARNING.search(sentence), f"{entry.id}: {sentence!r}"


_GOOD_ENTRY = """
[[entry]]
id = "{id}"
group = "vneid"
title_vi = "Câu hỏi thử"
title_en = "A test question"
answer_vi = "{answer_vi}"
answer_en = "A short answer."
examples = ["câu hỏi thử"]
next = [{next}]
"""
_GROUPS = '[[group]]\nid = "vneid"\ntitle_vi = "Tài khoản VNeID"\ntitle_en = "VNeID account"\n'


def _write(folder: Path, body: str) -> Path:
    (folder / "groups.toml").write_text(_GROUPS, encoding="utf-8")
    (folder / "broken.toml").write_text(body, encoding="utf-8")
    return folder


def test_a_broken_entry_names_the_file_entry_and_field(tmp_path: Path) -> None:
    body = _GOOD_ENTRY.format(id="bad_entry", answer_vi="Tra loi khong dau.", next="")
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(_write(tmp_path, body))
    message = str(error.value)
    assert "broken.toml" in message and "bad_entry" in message and "answer_vi" in message


def test_a_missing_field_and_an_unknown_field_are_named(tmp_path: Path) -> None:
    body = _GOOD_ENTRY.format(id="no_english", answer_vi="Trả lời.", next="").replace(
        'answer_en = "A short answer."', 'answr_en = "typo"'
    )
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(_write(tmp_path, body))
    message = str(error.value)
    assert "no_english" in message and "'answer_en'" in message and "'answr_en'" in message


def test_duplicate_ids_and_dangling_next_are_errors(tmp_path: Path) -> None:
    entry = _GOOD_ENTRY.format(id="twice", answer_vi="Trả lời.", next="")
    with pytest.raises(KnowledgeError, match=r"twice.*field 'id'.*duplicate"):
        load_knowledge(_write(tmp_path, entry + entry))
    dangling = _GOOD_ENTRY.format(id="lonely", answer_vi="Trả lời.", next='"nowhere"')
    with pytest.raises(KnowledgeError, match=r"lonely.*field 'next'.*nowhere"):
        load_knowledge(_write(tmp_path, dangling))


def test_an_overlong_answer_is_rejected(tmp_path: Path) -> None:
    body = _GOOD_ENTRY.format(id="too_long", answer_vi="Trả lời dài. " * 100, next="")
    with pytest.raises(KnowledgeError, match=r"too_long.*answer_vi"):
        load_knowledge(_write(tmp_path, body))


# --- matching -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accented", "plain"),
    [
        ("Làm tài khoản định danh mức 2 ở đâu?", "lam tai khoan dinh danh muc 2 o dau"),
        ("Tôi quên mật khẩu đăng nhập VNeID", "toi quen mat khau dang nhap vneid"),
        ("Không nhận được mã OTP", "khong nhan duoc ma otp"),
        ("Đăng ký khai sinh cho con trên điện thoại", "dang ky khai sinh cho con tren dien thoai"),
        ("Đổi số điện thoại đăng ký VNeID", "doi so dien thoai dang ky vneid"),
        ("Làm sổ đỏ có nộp trực tuyến được không", "lam so do co nop truc tuyen duoc khong"),
    ],
)
def test_diacritics_do_not_change_the_top_answer(matcher: Matcher, accented: str, plain: str) -> None:
    with_marks, without = matcher.match(accented), matcher.match(plain)
    assert with_marks.top == without.top
    assert with_marks.confident and without.confident


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("kichs hoatj vneidd", "vneid_activate"),
        ("kick hoạt tài khoảng định danh", "vneid_activate"),
        ("quen mk vneid", "forgot_password"),
        ("ko nhan dc ma otp", "no_otp"),
        ("k nhận đc mã xác thực", "no_otp"),
        ("lam m2 o dau", "level2_register"),
        ("cccd gắn chip đk muc2", "level2_register"),
        ("đổi sdt", "change_phone"),
        ("đt mới dang nhap vn eid ko dc", "new_device"),
        ("dang nhap dvcqg", "portal_login"),
        ("passcot quen r", "forgot_passcode"),
        ("hông nhớ mật khẩu vô vneid", "forgot_password"),
    ],
)
def test_typos_abbreviations_and_regional_words(matcher: Matcher, question: str, expected: str) -> None:
    assert matcher.match(question).top == expected


@pytest.mark.parametrize(
    "question",
    ["giá lúa hôm nay", "thời tiết mai thế nào", "xổ số miền nam", "asdfgh", "cách nấu phở bò", ""],
)
def test_off_topic_questions_are_not_confident(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert not result.confident
    assert result.to_human and result.answer_id is None


@pytest.mark.parametrize(
    "question",
    ["cho tôi gặp cán bộ", "tôi muốn nói chuyện với người thật", "gap tong dai vien", "talk to a human"],
)
def test_asking_for_a_person_is_recognised(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.wants_human and result.to_human


@pytest.mark.parametrize(
    "question",
    ["nha toi mat dien thi goi ai", "bóng đá tối nay mấy giờ", "o day co ai khong"],
)
def test_a_shared_syllable_or_common_words_do_not_make_an_answer(matcher: Matcher, question: str) -> None:
    # "mất điện" (power cut) only shares syllables with "mất điện thoại";
    # "bóng" is a real word, not a typo of "bằng"; "ở đây có ai không" holds no topic at all.
    assert matcher.match(question).to_human


def test_a_bill_is_not_a_public_service_fee(matcher: Matcher) -> None:
    # Paying electricity is not paying a dossier's fee: the answer says where bills are paid.
    assert matcher.match("đóng tiền điện online thế nào").answer_id == "bill_payment"
    assert matcher.match("nộp lệ phí hồ sơ khai sinh online").answer_id == "pay_fees"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("muon xin giay xac nhan cu tru", "residence_registration"),
        ("mat dien thoai thi vneid lam sao", "new_device"),
        ("giấy xác nhận tình trạng hôn nhân", "marital_status"),
    ],
)
def test_the_distinctive_word_decides_between_entries(matcher: Matcher, question: str, expected: str) -> None:
    assert matcher.match(question).top == expected


def test_mentioning_an_officer_is_not_asking_for_one(matcher: Matcher) -> None:
    result = matcher.match("có phải đến gặp cán bộ công an xã để làm mức 2 không")
    assert not result.wants_human
    assert result.top == "level2_register"


def test_a_citizen_id_in_the_question_is_flagged(matcher: Matcher) -> None:
    assert matcher.match("số cccd của tôi 001234567890 không kích hoạt được").contains_citizen_id
    assert not matcher.match("không kích hoạt được").contains_citizen_id


def test_candidates_are_ranked_and_bounded(matcher: Matcher) -> None:
    candidates = matcher.match("quên passcode").candidates
    assert candidates[0].entry_id == "forgot_passcode"
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
    assert all(0 < c.score <= 1 for c in candidates)
    with pytest.raises(ValueError):
        matcher.match("quên passcode", lang="fr")


def test_baseline_gives_a_result_of_the_same_shape(kb: KnowledgeBase) -> None:
    result = baseline_match(kb, "Quên passcode")
    assert result.top == "forgot_passcode"
    assert result.candidates


# --- the evaluation sets ---------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


LABELS = {"HUMAN", "REFUSE", "GREET"}
STYLES = {"plain", "regional", "voice", "long", "short", "english", "out_of_scope", "adversarial",
          "numbers", "smalltalk"}


def test_evaluation_sets_are_large_labelled_and_apart(kb: KnowledgeBase) -> None:
    sets = {name: _rows(path) for name, path in SETS.items()}
    ids = {entry.id for entry in kb} | LABELS
    assert sum(map(len, sets.values())) >= 400 and all(len(rows) >= 50 for rows in sets.values())
    for rows in sets.values():
        assert all(r["expected"] in ids and r["style"] in STYLES and r["lang"] in ("vi", "en")
                   for r in rows)
        # A development round may leave out a style its writer was not asked for (round 7dev: no
        # "numbers"); together the sets hold every style.
        assert len({r["style"] for r in rows}) >= len(STYLES) - 1
    assert {r["style"] for rows in sets.values() for r in rows} == STYLES
    examples = {fold(example) for entry in kb for example in entry.examples}
    assert not [r["question"] for rows in sets.values() for r in rows if fold(r["question"]) in examples]
    if "heldout" in sets:
        seen = {fold(r["question"]) for name, rows in sets.items() if name != "heldout" for r in rows}
        assert not seen & {fold(r["question"]) for r in sets["heldout"]}


@pytest.fixture(scope="module")
def reader(kb: KnowledgeBase, matcher: Matcher) -> Reader:
    return Reader(kb, matcher, default_vocabulary())


def test_development_set_figures(reader: Reader) -> None:
    # The word matcher alone (the learned model has seen these questions: its figures are in
    # tests/test_helpdesk_learned.py, on a round it did not learn from).
    rows = _rows(DEV) + [r for p in ROUNDS for r in _rows(p)]
    readings = [(r, reader.read(r["question"])) for r in rows]
    right = sum(_right(r, x) for r, x in readings) / len(rows)
    wrong = sum(x.entry_id is not None and x.entry_id != r["expected"] for r, x in readings) / len(rows)
    # Measured 0.847 right and 0.052 confident-wrong (over 2,244 questions; the later rounds are
    # harder than the first development set); the bounds leave a few questions of slack.
    assert right >= 0.835, f"right {right:.3f}"
    assert wrong <= 0.058, f"confident-wrong {wrong:.3f}"


@pytest.mark.parametrize("path", SETS.values(), ids=SETS.keys())
def test_safety_holds_on_every_question(path: Path) -> None:
    # Not accuracy (the held-out split is only measured by the benchmark): the promises that
    # must hold for every question whatever the matcher's skill, with the reader citizens get
    # (word matcher and learned model). Failures are counted, not listed, so that held-out
    # questions are never looked at one by one.
    rows = _rows(path)
    readings = [(row, knowledge().read(row["question"])) for row in rows]
    refused_answered = sum(r["expected"] == "REFUSE" and x.entry_id is not None for r, x in readings)
    english_in_vietnamese = sum(r["lang"] == "en" and x.language != "en" for r, x in readings)
    ids_kept = sum(x.had_id and bool(re.search(r"\d{12}", re.sub(r"\D", "", x.text))) for _, x in readings)
    missed_ids = sum(r["warn"] == "1" and not x.had_id for r, x in readings)
    assert (refused_answered, english_in_vietnamese, ids_kept, missed_ids) == (0, 0, 0, 0)


def _right(row: dict[str, str], reading: Reading) -> bool:
    expected = row["expected"]
    if expected == "HUMAN":
        return reading.outcome in (Outcome.PERSON, Outcome.UNSURE, Outcome.ASK_TOPIC)
    if expected == "REFUSE":
        return reading.outcome is Outcome.REFUSE
    if expected == "GREET":
        return reading.outcome in (Outcome.GREET, Outcome.THANKS)
    return reading.entry_id == expected


@pytest.mark.parametrize("question", ["tài khoản zalo của tôi bị khóa rồi", "dang ky sim chinh chu o dau",
                                      "facebook bị hack lấy lại sao", "app ngân hàng không nhận mã"])
def test_other_apps_go_to_a_person(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).to_human


def test_our_words_beside_another_app_still_get_an_answer(matcher: Matcher) -> None:
    result = matcher.match("đóng lệ phí khai sinh bằng momo được không")
    assert not result.to_human
