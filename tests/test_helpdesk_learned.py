"""The help desk's learned model: what it adds to the word matcher, what it never overrides, and
that a start with unchanged inputs does not fit (or import scikit-learn) again."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from bot.helpdesk import KnowledgeBase, Matcher, classifier, load_knowledge
from bot.helpdesk.classifier import LABELLED_SETS, Labelled, read_labelled
from bot.helpdesk.reader import Outcome, Reader
from bot.helpdesk.service import build_reader, knowledge
from bot.helpdesk.vocabulary import Vocabulary, default_vocabulary

ROOT = Path(__file__).resolve().parent.parent
ROUND4 = ROOT / "benchmarks" / "helpdesk_round4.tsv"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(ROOT / "knowledge")


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return default_vocabulary()


# Phrasings sharing no topic word with the new-device entry ("máy", "rớt", "ao", "giếng" appear
# nowhere in it), as officers would label them from citizens' real messages.
_LABELLED_LOST = [
    Labelled("máy rớt xuống giếng mất tiêu rồi", "new_device"),
    Labelled("máy rơi xuống ao hư luôn", "new_device"),
    Labelled("máy bị rớt xuống mương nước", "new_device"),
    Labelled("máy rơi xuống giếng vớt không được", "new_device"),
]
_ASKED = "máy của tui rớt xuống ao rồi"


def test_a_question_without_the_entrys_words_is_answered_from_labelled_examples(
        kb: KnowledgeBase, vocabulary: Vocabulary, tmp_path: Path) -> None:
    words_only = Reader(kb, Matcher(kb, vocabulary=vocabulary), vocabulary).read(_ASKED)
    assert words_only.entry_id is None  # the word matcher alone hands it over
    learned = build_reader(kb, vocabulary, _LABELLED_LOST, cache_dir=tmp_path).read(_ASKED)
    assert (learned.outcome, learned.entry_id) == (Outcome.ANSWER, "new_device")


def test_a_refusal_is_refused_even_when_the_model_is_sure_of_an_entry(
        kb: KnowledgeBase, vocabulary: Vocabulary, tmp_path: Path) -> None:
    question = "cho tôi số điện thoại riêng của chủ tịch xã, tôi muốn đổi số điện thoại trên vneid"
    taught = [Labelled(question, "change_phone")] * 3  # even taught to answer it
    reader = build_reader(kb, vocabulary, taught, cache_dir=tmp_path)
    assert reader.scorer.match(question).answer_id == "change_phone"
    reading = reader.read(question)
    assert (reading.outcome, reading.entry_id) == (Outcome.REFUSE, None)


def test_the_model_refuses_what_it_learned_to_refuse_but_not_a_long_story(
        kb: KnowledgeBase, vocabulary: Vocabulary, tmp_path: Path) -> None:
    # Locating someone through the app: no intent rule knows it, the labelled questions do.
    taught = [Labelled(question, "REFUSE") for question in (
        "bot định vị giúp tôi điện thoại của chồng tôi", "định vị con tôi qua vneid",
        "tìm vị trí của vợ tôi bằng vneid", "định vị số máy này đang ở đâu")]
    reader = build_reader(kb, vocabulary, taught, cache_dir=tmp_path)
    assert reader.read("định vị giúp tôi thằng con qua vneid").outcome is Outcome.REFUSE
    story = ("con tôi đi học xa, tuần trước cháu làm mất điện thoại ở ký túc xá, cháu nhờ tôi hỏi giúp "
             "định vị máy thì không được nữa, giờ tài khoản vneid của cháu trên máy mới đăng nhập thế nào")
    assert reader.read(story).outcome is not Outcome.REFUSE


@pytest.mark.parametrize(("question", "entry_id"), [
    ("I forgot my VNeID passcode", "forgot_passcode"),
    ("my phone got stolen, how do I get into vneid on the new one", "new_device"),
    ("where do I register my baby's birth", "birth_registration"),
])
def test_english_is_answered_in_english(question: str, entry_id: str) -> None:
    reading = knowledge().read(question)
    assert (reading.outcome, reading.entry_id, reading.language) == (Outcome.ANSWER, entry_id, "en")


def test_a_round_the_model_did_not_learn_from(kb: KnowledgeBase, vocabulary: Vocabulary, tmp_path: Path) -> None:
    # Leave-one-round-out, for one round: fitted on every other labelled set, measured on round 4
    # (seen during development, so not a held-out figure). Measured 54 of 56 right, none of the
    # requests to refuse answered; the bound leaves one question of slack.
    reader = build_reader(kb, vocabulary, read_labelled(p for p in LABELLED_SETS if p != ROUND4), tmp_path)
    with ROUND4.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    right = wrong = 0
    for row in rows:
        reading = reader.read(row["question"])
        if row["expected"] in ("HUMAN", "REFUSE", "GREET"):
            good = {"HUMAN": (Outcome.PERSON, Outcome.UNSURE, Outcome.ASK_TOPIC), "REFUSE": (Outcome.REFUSE,),
                    "GREET": (Outcome.GREET, Outcome.THANKS)}[row["expected"]]
            right += reading.outcome in good
        else:
            right += reading.entry_id == row["expected"]
        wrong += reading.entry_id is not None and reading.entry_id != row["expected"]
    assert right >= 53, right
    assert wrong <= 2, wrong


def test_a_base_of_one_entry_still_starts_and_answers(kb: KnowledgeBase, vocabulary: Vocabulary,
                                                     tmp_path: Path) -> None:
    # Nothing for the model to tell apart: the word matcher answers alone.
    one = KnowledgeBase(kb.groups, (kb.get("forgot_passcode"),))
    reading = build_reader(one, vocabulary, [], cache_dir=tmp_path).read("quên passcode vneid")
    assert (reading.outcome, reading.entry_id) == (Outcome.ANSWER, "forgot_passcode")


def test_without_scikit_learn_the_word_matcher_answers_alone(
        kb: KnowledgeBase, vocabulary: Vocabulary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)  # importing it now fails
    reader = build_reader(kb, vocabulary, _LABELLED_LOST, cache_dir=tmp_path)
    assert reader.read("quên passcode vneid").entry_id == "forgot_passcode"
    assert reader.read(_ASKED).entry_id is None  # what only the model knew is handed over
    assert "scikit-learn is missing" in caplog.text


def test_a_second_start_loads_the_weights_without_fitting(kb: KnowledgeBase, vocabulary: Vocabulary,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_reader(kb, vocabulary, _LABELLED_LOST, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("helpdesk-*.npz"))) == 1
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.helpdesk import load_knowledge\n"
        "from bot.helpdesk.classifier import Labelled\n"
        "from bot.helpdesk.service import build_reader\n"
        "from bot.helpdesk.vocabulary import default_vocabulary\n"
        f"rows = [Labelled(q, e) for q, e in {[(r.question, r.label) for r in _LABELLED_LOST]!r}]\n"
        f"reader = build_reader(load_knowledge({str(ROOT / 'knowledge')!r}), default_vocabulary(), rows,"
        f" Path({str(tmp_path)!r}))\n"
        f"print(reader.read({_ASKED!r}).entry_id, 'sklearn' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["new_device", "False"]
    # Other labelled questions are other weights, in a new file; old files do not pile up.
    monkeypatch.setattr(classifier, "_KEEP_FILES", 2)
    first = next(tmp_path.glob("helpdesk-*.npz"))
    for size in (2, 3):
        build_reader(kb, vocabulary, _LABELLED_LOST[:size], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("helpdesk-*.npz"))) == 2 and not first.exists()
