"""Match a citizen's question to a knowledge entry, or decide that a person should answer.

Scoring mixes three signals over folded text (no diacritics, abbreviations expanded):
an IDF-weighted coverage of the question's words and word pairs by each entry's titles,
keywords and examples; a TF-IDF cosine over character n-grams (robust to typos and joined
words); and a rapidfuzz similarity to the entry's example questions. Questions typed without
diacritics match fully; when diacritics are typed they only break ties that folding creates
("sổ đỏ" against "số điện thoại").

Words are matched by sense: a syllable inside a two-syllable word ("điện" in "điện thoại") only
fully matches the same word, so "mất điện" does not pass for "mất điện thoại". An answer is
confident only when the score clears the threshold, word coverage (not spelling similarity)
carries it, and no other entry fits almost as well; otherwise a person takes over.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from rank_bm25 import BM25Okapi
from rapidfuzz import fuzz, process, utils

from bot.helpdesk.knowledge import Entry, KnowledgeBase
from bot.helpdesk.vocabulary import SYLLABLE, Vocabulary, default_vocabulary
from bot.textnorm import contains_citizen_id, fold, strip_telex

# ---------------------------------------------------------------------------------------------
# Normalisation: what people type → canonical folded words
# ---------------------------------------------------------------------------------------------

_STOPWORDS = frozenset(
    [
        "a", "ah", "oi", "nhe", "ne", "vay", "voi", "thi", "la", "cho", "hoi", "xin", "chao", "giup",
        "dum", "gium", "toi", "tui", "minh", "em", "anh", "chi", "ong", "co", "cac", "nhung", "nay", "kia",
        "roi", "di", "duoc", "nhi", "u", "nua", "gi", "nao", "ay", "day", "gio", "bay", "giu", "phai", "se",
        "da", "va", "hay", "hoac", "de", "ve", "muon", "biet", "ai", "please", "i", "is", "are", "does",
        "how", "what", "could", "would", "for", "of", "with", "and", "or", "you", "your", "there", "this",
        "have", "has", "get", "got", "im", "was", "ua", "chiec", "nhen", "ha",
    ]
)
# Kept although frequent, because folding merges them with topic words: "ma" (mã), "do" (đỏ),
# "dang" (đăng), "tu" (tử, tư), "vi" (ví), "sao" (sao y), "the" (thẻ), "ban" (bán), "cua" (cửa),
# and English words that are folded Vietnamese too: "can" (căn, cán), "to" (tờ), "me" (mẹ),
# "be" (bé), "that" (thật), "in", "on", "an", "my", "do", "it".

def content_words(words: Iterable[str]) -> list[str]:
    """Words that can carry a topic (stopwords removed)."""
    return [word for word in words if word not in _STOPWORDS]


def _bigrams(words: Sequence[str]) -> list[str]:
    """Adjacent word pairs, written "a_b"."""
    return [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def _char_grams(words: Sequence[str]) -> Counter[str]:
    """Character 3- and 4-grams of each word padded with spaces, so typos still share grams."""
    grams: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        for size in (3, 4):
            grams.update(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


# Two-syllable words whose syllables, alone, mean something else: "điện thoại" is not "điện",
# "cư trú" shares "trú" with "thường trú", "mất điện" is not "mất điện thoại". The base's own
# statistics find the words it uses often; these are common words, grouped by the syllable they
# share with the base, that it uses rarely or never, so that a question using one is not read as
# the base's other word.
_SEED_COMPOUNDS = (
    "dien tu", "goi dien", "tien dien", "mat dien", "cup dien", "dien luc", "tien nuoc", "tien mat",
    "tien lai", "tien hoc", "tien thue", "nha nuoc", "nuoc may", "nuoc ngoai", "nha mang", "nha tro",
    "nha dat", "nha hang", "thue tro", "o tro", "ho tro", "tro cap", "bao mat", "ho khau", "xuat khau",
    "nhap khau", "cu tru", "thuong tru", "tam tru", "hon nhan", "ket hon", "ly hon", "xac thuc",
    "ca nhan", "gia han", "lai suat", "khoa hoc", "so do", "so hong", "ho tich", "ho ngheo", "dat dai",
    "khai tu",
)
# A word pair is a compound when one of its syllables almost always comes with the other.
_COMPOUND_MIN_COUNT, _COMPOUND_MIN_SHARE = 3, 0.6


def _segments(words: Sequence[str], compounds: dict[str, float]) -> list[tuple[int, int]]:
    """Split words into compounds and single words, strongest compounds first: "so | dien_thoai"."""
    found = sorted(
        ((compounds[f"{a}_{b}"], -i) for i, (a, b) in enumerate(zip(words, words[1:], strict=False))
         if f"{a}_{b}" in compounds),
        reverse=True,
    )
    taken = [False] * len(words)
    starts: set[int] = set()
    for _, neg in found:
        i = -neg
        if not taken[i] and not taken[i + 1]:
            taken[i] = taken[i + 1] = True
            starts.add(i)
    spans, i = [], 0
    while i < len(words):
        end = i + 2 if i in starts else i + 1
        spans.append((i, end))
        i = end
    return spans


def _senses(words: Sequence[str], compounds: dict[str, float]) -> tuple[list[str], list[str]]:
    """Each word's sense key ("dien|dien_thoai", "mat|") and the pair terms between segments."""
    spans = _segments(words, compounds)
    senses: list[str] = []
    tokens = ["_".join(words[a:b]) for a, b in spans]
    for (a, b), token in zip(spans, tokens, strict=True):
        context = token if b - a > 1 else ""
        senses += [f"{word}|{context}" for word in words[a:b]]
    # A compound is itself a pair; two neighbouring segments make one ("mat_dien_thoai"), so a
    # lone "mất điện" never shares a pair with "mất điện thoại".
    pairs = [t for t in tokens if "_" in t] + [f"{x}_{y}" for x, y in zip(tokens, tokens[1:], strict=False)]
    return senses, pairs


def _skip_pairs(words: Sequence[str], compounds: dict[str, float]) -> list[str]:
    """Pairs of segments one word apart: "mat cai dien_thoai" also gives "mat_dien_thoai"."""
    spans = _segments(words, compounds)
    tokens = ["_".join(words[a:b]) for a, b in spans]
    return [f"{x}_{z}" for x, z in zip(tokens, tokens[2:], strict=False)]


# Tone marks (grave, acute, tilde, hook, dot below). Vowel marks (ă, â, ê, ô, ơ, ư) stay in the key.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_RAW_WORD = re.compile(r"\w+")


def _accent_key(word: str) -> str:
    """The word's letters and its tone, independent of where the tone is placed ("khoá" = "khóa")."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = "".join(sorted(ch for ch in decomposed if ch in _TONE_MARKS))
    letters = "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
    return f"{unicodedata.normalize('NFC', letters)}|{tones}"


def _accented_words(text: str) -> dict[str, set[str]]:
    """Folded word → accent keys of the words typed with diacritics in `text`."""
    found: dict[str, set[str]] = {}
    for raw in _RAW_WORD.findall(text.lower()):
        if not raw.isascii():
            found.setdefault(fold(raw), set()).add(_accent_key(raw))
    return found


# ---------------------------------------------------------------------------------------------
# Asking for a person
# ---------------------------------------------------------------------------------------------

_PERSON = (
    r"(?:can bo|nguoi that|nguoi ho tro|nguoi huong dan|nguoi tu van|nguoi|nhan vien|tong dai vien"
    r"|tu van vien|chuyen vien|admin|ai do|quan tri)"
)
_HUMAN_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        # "cho tôi gặp cán bộ", "muốn nói chuyện với người thật", "cần người hướng dẫn trực tiếp"
        rf"\b(?:cho|muon|can|xin|de nghi|mong|yeu cau|goi)\b(?:\s+\w+){{0,3}}\s+"
        rf"(?:gap|noi chuyen|chat|trao doi|lien he|lien lac)\s+(?:voi\s+|truc tiep\s+)?{_PERSON}\b",
        rf"\b(?:can|muon|xin)\s+(?:\w+\s+)?{_PERSON}\s+(?:huong dan|ho tro|giup)\b",
        # "tôi muốn hỏi cán bộ thuế": a question for a person, not for the assistant
        rf"\b(?:muon|can|xin)\s+hoi\s+(?:truc tiep\s+)?(?:{_PERSON}|nguoi phu trach)\b",
        rf"\bchuyen\s+(?:cho|sang|qua|toi|den)\s+{_PERSON}\b",
        r"\btong dai vien\b|\bnguoi that\b",
        r"\b(?:gap|goi) can bo\b\W*$|^\W*gap (?:can bo|nguoi|nhan vien)\b",
        r"\bkhong\s+(?:muon\s+)?(?:noi chuyen|chat|hoi|nhan tin|nhan)\s+(?:voi\s+|cung\s+)?(?:may|bot|robot|chatbot)\b",
        # "kêu người nào ở xã ra nói chuyện với tui": someone sent to talk to the writer
        r"\b(?:nguoi(?! ta\b)|can bo|nhan vien)\b(?:\s+\w+){0,4}\s+(?:ra\s+|vao\s+|vo\s+)?(?:noi chuyen|chat)"
        r"\s+(?:duoc\s+)?(?:voi|cho)\s+(?:toi|minh|em|chau|con|bac|ba|ong|co|chu|tao)\b",
        r"\b(?:bot|may) khong hieu\b",
        r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some\s+)?"
        r"(?:human|person|real person|someone|agent|officer|staff|operator|people)\b",
        r"\b(?:real person|live agent|human agent|a human|operator please)\b",
        r"\b(?:connect|transfer)\s+me\b",
        # "ai giúp tôi với", "someone help me": asking for anybody at all
        r"^\W*(?:co\s+)?(?:ai|someone|somebody)\s+(?:giup|ho tro|help)\b",
        # "cho tôi số điện thoại cán bộ": wants to reach an officer directly
        rf"\b(?:so dien thoai|dien thoai|hotline|lien lac|zalo)\s+(?:cua\s+)?(?:{_PERSON}|xa|uy ban|cong an)\b",
    )
)


def asks_for_person(question: str, vocabulary: Vocabulary | None = None) -> bool:
    """True when the citizen asks to talk to a person rather than the bot."""
    return asks_for_person_in((vocabulary or default_vocabulary()).expand(question))


def asks_for_person_in(expanded: Sequence[str]) -> bool:
    """`asks_for_person` on words already expanded by the vocabulary."""
    text = " ".join(expanded)
    return any(pattern.search(text) for pattern in _HUMAN_PATTERNS)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One ranked entry and its score between 0 and 1."""

    entry_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """Ranked candidates, whether the best one can be answered alone, and whether a person is wanted."""

    candidates: tuple[Candidate, ...]
    confident: bool
    wants_human: bool
    # The question held something shaped like a citizen ID number: warn, never echo or store it.
    contains_citizen_id: bool = False
    # "REFUSE" or "GREET" when the learned model is sure the message is a request to refuse or
    # small talk, not a question (the word matcher never says so).
    verdict: str | None = None

    @property
    def top(self) -> str | None:
        """Id of the best-ranked entry, confident or not."""
        return self.candidates[0].entry_id if self.candidates else None

    @property
    def answer_id(self) -> str | None:
        """Id of the entry to answer with, or None when a person should take over."""
        return None if self.to_human else self.top

    @property
    def to_human(self) -> bool:
        """True when the question should go to a person."""
        return self.wants_human or not self.confident


# ---------------------------------------------------------------------------------------------
# The matcher
# ---------------------------------------------------------------------------------------------

# Field weights: what officers wrote to describe the entry counts more than the answer's prose.
_W_TITLE, _W_KEYWORD, _W_EXAMPLE, _W_ANSWER = 3.0, 3.0, 2.0, 0.3
_SATURATION = 1.0  # BM25-style k1: the second mention of a word adds less than the first
_BIGRAM_WEIGHT = 0.6
# About four distinctive words: a long, rambling question is judged on whether it holds that much
# evidence for an entry, not on how much other context it gives.
_EVIDENCE_CAP = 12.0
# About two distinctive words: below that, a question of common words ("có ai ở đó không") cannot
# be fully covered, so it cannot look certain.
_EVIDENCE_FLOOR = 5.0
_REPAIRED_WEIGHT = 0.7  # a word we had to guess (typo, Telex) counts a little less
# Diacritics typed that differ from ours ("vàng" typed, we wrote "vắng"): folding made two words
# look alike, so such a match earns only a quarter of the credit.
_ACCENT_MISMATCH_WEIGHT = 0.25
# A syllable used in another word ("điện" alone against "điện thoại") earns this share of credit.
_SENSE_MISMATCH_WEIGHT = 0.25
# The two syllables of a compound share one word's weight: "bảo hiểm y tế" is two words, not four.
_COMPOUND_SHARE = 0.5
# Blend of the three signals; then the confidence threshold, calibrated on the tuning split.
_MIX_LEXICAL, _MIX_CHARS, _MIX_FUZZY = 0.65, 0.20, 0.15
_MIX_BM25 = 0.2
CONFIDENCE_THRESHOLD = 0.38
# Character and fuzzy similarity rank near-spellings, but only word evidence makes an answer sure:
# at least half the question's (capped) word weight must be the entry's. The largest value that
# costs no answer on the tuning split.
_MIN_LEXICAL = 0.5
# Two entries fitting almost equally means the question mixes topics or is too vague to pick one:
# a person decides, and both are shown as suggestions. Only exact ties on the tuning split fall below.
_MIN_MARGIN = 0.06
# An entry far ahead of the next (by _CLEAR_LEAD) may explain a little less of the question.
_LOW_LEXICAL, _CLEAR_LEAD = 0.38, 0.1
_MAX_CANDIDATES = 5
_SHORTLIST = 8  # entries that get the (slow) spelling similarity
_LONG_NUMBER = 9


@dataclass(frozen=True)
class _Query:
    """A question prepared once for scoring against every entry."""

    expanded: tuple[str, ...]  # every word after expansion, stopwords included
    words: list[str]
    weights: dict[str, float]  # IDF weight of each word, lowered for words we had to guess
    senses: dict[str, frozenset[str]]  # word → its sense keys in this question
    pairs: list[str]  # compounds and neighbouring-segment pairs
    accents: dict[str, frozenset[str]]  # folded word → accent keys, for words typed with diacritics
    chars: dict[str, float]
    text: str


@dataclass(frozen=True)
class _EntryIndex:
    """Precomputed features of one entry."""

    entry_id: str
    strong: dict[str, float]  # weighted term frequency in titles, keywords and examples
    weak: dict[str, float]  # weighted term frequency in the answers
    senses: dict[str, float]  # weighted frequency of each word sense, all fields together
    accents: dict[str, frozenset[str]]  # folded word → the accented spellings this entry uses
    words: tuple[str, ...]  # content words of titles, keywords and examples
    chars: dict[str, float]  # unit-length char n-gram TF-IDF vector
    phrases: tuple[str, ...]  # normalised titles and examples for rapidfuzz


@dataclass(frozen=True)
class _Fit:
    """How well one entry fits the question: the blended score and the word evidence alone."""

    score: float
    lexical: float


# Other apps and services people ask about with the same words ("khoá", "mật khẩu", "đổi số");
# the knowledge base covers none of them, so such questions go to a person unless they also
# name something of ours.
_OTHER_SERVICE = re.compile(
    r"\b(?:zalo|facebook|fb|messenger|tiktok|youtube|gmail|email|sim|nha mang|viettel"
    r"|vinaphone|mobifone|vietnamobile|ngan hang|banking|momo|zalopay|vi dien tu"
    r"|shopee|lazada|vssid|etax|icanhan)\b")
_OURS = re.compile(
    r"\b(?:vneid|dinh danh|dich vu cong|can cuoc|cong an|ho so|thu tuc|cong dich vu|muc 2"
    r"|khai sinh|cu tru|ly lich|chung thuc|le phi|tra phi|nop phi|doc than|hon nhan)\b")


def about_other_service(expanded: Sequence[str]) -> bool:
    """True when the question is about another app or service and names nothing of ours."""
    text = " ".join(expanded)
    return bool(_OTHER_SERVICE.search(text)) and not _OURS.search(text)


class Matcher:
    """Ranks knowledge entries for a question; build once, call `match` many times."""

    def __init__(self, kb: KnowledgeBase, threshold: float = CONFIDENCE_THRESHOLD,
                 vocabulary: Vocabulary | None = None) -> None:
        self._threshold = threshold
        self._vocabulary = vocabulary or default_vocabulary()
        self._expand = self._vocabulary.expand
        self._handoff = kb.handoff_ids()
        self._compounds = _find_compounds(kb, self._vocabulary)
        self._index = [self._entry_index(entry) for entry in kb.entries]
        self._vocab = frozenset(t for item in self._index for t in (*item.strong, *item.weak) if "_" not in t)
        self._vocab_list = sorted(self._vocab)
        self._idf = _idf_table([set(item.strong) | set(item.weak) for item in self._index])
        # A word the answers mention once in passing ("điền" tờ khai) is not what an entry is about.
        self._sense_idf = _soft_idf_table([item.senses for item in self._index])
        # With diacritics typed, "sổ" is far rarer than folded "so" (số, sổ, sơ): weigh it as such.
        self._accent_idf = _idf_table([set().union(*item.accents.values()) for item in self._index])
        self._accent_keys = frozenset(self._accent_idf)
        self._max_idf = math.log(1 + (len(self._index) + 0.5) / 0.5)
        self._char_idf = _idf_table([set(_char_grams(item.words)) for item in self._index])
        self._index = [replace(item, chars=self._char_vector(item.words)) for item in self._index]
        self._bm25 = BM25Okapi([list(item.words) or ["_"] for item in self._index])

    # -- public ---------------------------------------------------------------------------------

    def match(self, question: str, lang: str = "vi") -> MatchResult:
        """Rank entries for `question`; `lang` is the reply language (both languages are searched)."""
        if lang not in ("vi", "en"):
            raise ValueError(f"unsupported language {lang!r}")
        query = self._prepare(question)
        wants_human = asks_for_person_in(query.expanded)
        bm25 = self._bm25_shares(query.words)
        lexical = [self._lexical(item, query) if query.words else 0.0 for item in self._index]
        # Spelling similarity is the slow part: only entries the words point to get it.
        shortlist = set(sorted(range(len(self._index)), key=lambda i: lexical[i] + bm25[i],
                               reverse=True)[:_SHORTLIST])
        fits = sorted(
            ((item.entry_id, self._fit(item, query, lexical[i], bm25[i], spelling=i in shortlist))
             for i, item in enumerate(self._index)),
            key=lambda pair: pair[1].score,
            reverse=True,
        )
        candidates = tuple(
            Candidate(entry_id, round(fit.score, 4)) for entry_id, fit in fits[:_MAX_CANDIDATES] if fit.score > 0
        )
        runner_up = fits[1][1].score if len(fits) > 1 else 0.0
        confident = bool(candidates) and self._is_sure(fits[0][1], fits[0][1].score - runner_up)
        if confident and about_other_service(query.expanded):
            # "Zalo bị khoá", "đăng ký SIM": the words look like ours, the service is not.
            confident = False
        if confident and candidates[0].entry_id in self._handoff:
            wants_human = True
        return MatchResult(candidates, confident, wants_human, contains_citizen_id(question))

    # -- indexing -------------------------------------------------------------------------------

    def _entry_index(self, entry: Entry) -> _EntryIndex:
        """Weighted terms of an entry's describing fields and answers, its spellings and phrases."""
        strong: defaultdict[str, float] = defaultdict(float)
        senses: defaultdict[str, float] = defaultdict(float)
        words: list[str] = []
        # A keyword phrase is one unit of meaning: its words share the weight, its pairs keep it.
        fields = (
            ((entry.title_vi, entry.title_en), _W_TITLE, False),
            ((*entry.keywords_vi, *entry.keywords_en), _W_KEYWORD, True),
            (entry.examples, _W_EXAMPLE, False),
        )
        for texts, weight, shared in fields:
            for text in texts:
                content = content_words(self._expand(text))
                words += content
                share = weight / len(content) if shared and content else weight
                word_senses, pairs = _senses(content, self._compounds)
                for word, sense in zip(content, word_senses, strict=True):
                    strong[word] += share
                    senses[sense] += share
                for pair in pairs:
                    strong[pair] += weight
        weak: defaultdict[str, float] = defaultdict(float)
        for text in (entry.answer_vi, entry.answer_en):
            content = content_words(self._expand(text))
            word_senses, pairs = _senses(content, self._compounds)
            for term in (*content, *pairs):
                weak[term] += _W_ANSWER
            for sense in word_senses:
                senses[sense] += _W_ANSWER
        accents: dict[str, set[str]] = {}
        for text in (entry.title_vi, entry.answer_vi, *entry.keywords_vi, *entry.examples):
            for folded, keys in _accented_words(text).items():
                accents.setdefault(folded, set()).update(keys)
        phrases = tuple(
            " ".join(content_words(self._expand(text))) for text in (entry.title_vi, entry.title_en, *entry.examples)
        )
        frozen = {folded: frozenset(keys) for folded, keys in accents.items()}
        return _EntryIndex(entry.id, dict(strong), dict(weak), dict(senses), frozen, tuple(words), {}, phrases)

    def _char_vector(self, words: Sequence[str]) -> dict[str, float]:
        """Unit-length TF-IDF vector of character n-grams.

        Grams no entry has keep the highest weight, so off-topic text stays dissimilar.
        """
        grams = _char_grams(words)
        vector = {g: (1 + math.log(n)) * self._char_idf.get(g, self._max_idf) for g, n in grams.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {g: v / norm for g, v in vector.items() if v}

    # -- querying -------------------------------------------------------------------------------

    def _prepare(self, question: str) -> _Query:
        """Words, weights, senses, spellings, character vector and fuzzy text of a question."""
        typed = _accented_words(question)
        expanded = self._expand(question)
        words: list[str] = []
        repaired: set[str] = set()
        for word in content_words(expanded):
            if word.isdigit() and len(word) >= _LONG_NUMBER:
                continue  # ID or phone numbers say nothing about the topic (and must not be kept)
            fixed = self._repair(word)
            words += fixed
            if fixed != [word]:
                repaired.update(fixed)
        word_senses, pairs = _senses(words, self._compounds)
        # A word typed in between ("mất cái điện thoại") must not break a phrase the base knows.
        pairs += _skip_pairs(words, self._compounds)
        senses: dict[str, set[str]] = {}
        for word, sense in zip(words, word_senses, strict=True):
            senses.setdefault(word, set()).add(sense)
        weights: dict[str, float] = {}
        accents: dict[str, frozenset[str]] = {}
        for word, keys in senses.items():
            # A syllable used as the base never uses it ("điện" alone) is as telling as an unknown word.
            weight = max(self._sense_idf.get(key, self._max_idf) * _COMPOUND_SHARE ** ("_" in key) for key in keys)
            if word in repaired:
                weight *= _REPAIRED_WEIGHT
            elif word in typed:
                weight = self._accented_weight(word, typed[word], weight)
                if typed[word] & self._accent_keys:
                    # Only a spelling the base itself uses can tell two folded-alike words apart;
                    # an unknown one ("đinh" for "định") is a typo, not another word.
                    accents[word] = frozenset(typed[word])
            weights[word] = weight
        frozen = {word: frozenset(keys) for word, keys in senses.items()}
        return _Query(expanded, words, weights, frozen, pairs, accents, self._char_vector(words), " ".join(words))

    def _accented_weight(self, word: str, keys: set[str], plain: float) -> float:
        """Weight of a word typed with diacritics: the rarer of spelling and sense, or a doubtful one."""
        known = [self._accent_idf[key] for key in keys if key in self._accent_idf]
        if known:
            return max(plain, *known)
        if word in self._vocab:
            return plain * _REPAIRED_WEIGHT  # "đinh" typed, we only know "định": likely a typo
        return self._max_idf

    def _repair(self, word: str) -> list[str]:
        """Map an unknown word to known ones: Telex leftovers, joined words, then typos."""
        # A real Vietnamese syllable the base does not know ("bóng", "quay") is an unknown word, not a
        # typo: guessing "bằng", "qua" for it would invent evidence.
        if word in self._vocab or word.isdigit() or len(word) < 3 or SYLLABLE.fullmatch(word):
            return [word]
        telex = strip_telex(word)
        if telex in self._vocab:
            return [telex]
        for cut in range(2, len(word) - 1):  # "kichhoat" → "kich hoat"
            left, right = word[:cut], word[cut:]
            if left in self._vocab and right in self._vocab and min(len(left), len(right)) >= 2:
                return [left, right]
        if len(word) >= 4:
            cutoff = 80 if len(word) >= 5 else 75
            found = process.extractOne(word, self._vocab_list, scorer=fuzz.ratio, score_cutoff=cutoff)
            if found is not None:
                return [found[0]]
        return [word]

    def _bm25_shares(self, words: Sequence[str]) -> list[float]:
        """Each entry's BM25 score over its titles, keywords and examples, as a share of the best.

        BM25 adds up every mention (a story that says "tiền điện" twice is about it), which the
        capped coverage score leaves out; it only reorders entries that words already support.
        """
        scores = self._bm25.get_scores(list(words)) if words else []
        best = max(scores) if len(scores) else 0.0
        return [float(score) / best if best > 0 else 0.0 for score in scores] or [0.0] * len(self._index)

    @staticmethod
    def _fit(item: _EntryIndex, query: _Query, lexical: float, bm25: float, *, spelling: bool) -> _Fit:
        """Blend of word coverage, BM25, character similarity and fuzzy similarity to examples."""
        if not query.words:
            return _Fit(0.0, 0.0)
        chars = fuzzy = 0.0
        if spelling:
            chars = sum(weight * item.chars.get(gram, 0.0) for gram, weight in query.chars.items())
            # Unrelated strings of similar length already reach about 0.5: only the part above counts.
            best = max(fuzz.token_sort_ratio(query.text, phrase) for phrase in item.phrases) / 100
            fuzzy = max(0.0, best - 0.5) * 2
        blend = _MIX_LEXICAL * lexical + _MIX_CHARS * chars + _MIX_FUZZY * fuzzy
        return _Fit((1 - _MIX_BM25) * blend + _MIX_BM25 * bm25 * lexical, lexical)

    def _is_sure(self, fit: _Fit, margin: float) -> bool:
        """Confident only with a high score, carried by words rather than spelling, clear of the next.

        Word coverage is the share of the question the entry explains: half of it is enough when
        no other entry comes close; a little less will do when the entry leads by far.
        """
        if fit.score < self._threshold or margin < _MIN_MARGIN:
            return False
        return fit.lexical >= _MIN_LEXICAL or (fit.lexical >= _LOW_LEXICAL and margin >= _CLEAR_LEAD)

    def _lexical(self, item: _EntryIndex, query: _Query) -> float:
        """Share of the question's IDF weight (capped) that the entry covers, with BM25-style saturation."""
        gained = total = 0.0
        for word in dict.fromkeys(query.words):
            weight = query.weights[word]
            total += weight
            credit = self._word_credit(item, word, query.senses[word])
            gained += weight * credit * self._spelling_fit(item, word, query)
        for pair in dict.fromkeys(query.pairs):
            if pair in self._idf:  # pairs unknown to the whole base would only punish long questions
                weight = _BIGRAM_WEIGHT * self._idf[pair]
                total += weight
                gained += weight * _saturate(item.strong.get(pair, 0.0) + item.weak.get(pair, 0.0))
        if not total:
            return 0.0
        # Officers wrote this very question as an example: no need for more words to be sure.
        floor = total if query.text in item.phrases else _EVIDENCE_FLOOR
        return min(1.0, gained / min(max(total, floor), _EVIDENCE_CAP))

    @staticmethod
    def _word_credit(item: _EntryIndex, word: str, senses: frozenset[str]) -> float:
        """0..1 credit for a word: full where the entry uses it in the same sense, a little otherwise."""
        same = _saturate(sum(item.senses.get(key, 0.0) for key in senses))
        every = _saturate(item.strong.get(word, 0.0) + item.weak.get(word, 0.0))
        return same + _SENSE_MISMATCH_WEIGHT * max(0.0, every - same)

    @staticmethod
    def _spelling_fit(item: _EntryIndex, word: str, query: _Query) -> float:
        """1 when the entry spells the word as typed (or it was typed plain); less if only folding matches."""
        typed = query.accents.get(word)
        spelled = item.accents.get(word)
        if not typed or not spelled or typed & spelled:
            return 1.0
        return _ACCENT_MISMATCH_WEIGHT


def _saturate(frequency: float) -> float:
    """BM25-style saturation: the second mention of a term adds less than the first."""
    return frequency / (frequency + _SATURATION)


def _find_compounds(kb: KnowledgeBase, vocabulary: Vocabulary) -> dict[str, float]:
    """Two-syllable compounds of the Vietnamese text, each with how tightly its syllables stick."""
    single: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for entry in kb.entries:
        for text in (entry.title_vi, *entry.keywords_vi, *entry.examples, entry.answer_vi):
            content = content_words(vocabulary.expand(text))
            single.update(content)
            pairs.update(_bigrams(content))
    seeds = {"_".join(content_words(vocabulary.expand(seed))) for seed in _SEED_COMPOUNDS}
    # "online" is expanded to "online truc tuyen": the glued synonyms are not a word together.
    glued = vocabulary.glued()
    # Seeds the base never writes still split questions ("tiền điện"), with the lowest priority.
    compounds: dict[str, float] = dict.fromkeys(seeds, 0.0)
    for pair, count in pairs.items():
        first, second = pair.split("_")
        share = count / min(single[first], single[second])
        if pair in glued:
            continue
        if pair in seeds or (count >= _COMPOUND_MIN_COUNT and share >= _COMPOUND_MIN_SHARE):
            compounds[pair] = share
    return compounds


def _soft_idf_table(documents: list[dict[str, float]]) -> dict[str, float]:
    """Smoothed IDF where each document counts by how much it uses the term (saturated), not 0 or 1."""
    count = len(documents)
    frequency: defaultdict[str, float] = defaultdict(float)
    for doc in documents:
        for term, weight in doc.items():
            frequency[term] += _saturate(weight)
    return {term: math.log(1 + (count - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}


def _idf_table(documents: list[set[str]]) -> dict[str, float]:
    """BM25's smoothed inverse document frequency for every term."""
    count = len(documents)
    frequency = Counter(term for doc in documents for term in doc)
    return {term: math.log(1 + (count - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}


def baseline_match(
    kb: KnowledgeBase, question: str, lang: str = "vi", threshold: float = 70.0
) -> MatchResult:
    """Simple reference: rapidfuzz WRatio between the question and entry titles only."""
    titles = {entry.id: fold(entry.title(lang)) for entry in kb.entries}
    ranked = process.extract(
        fold(question), titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=_MAX_CANDIDATES
    )
    candidates = tuple(Candidate(key, round(score / 100, 4)) for _, score, key in ranked)
    confident = bool(candidates) and candidates[0].score * 100 >= threshold
    wants_human = confident and candidates[0].entry_id in kb.handoff_ids()
    return MatchResult(candidates, confident, wants_human, contains_citizen_id(question))
