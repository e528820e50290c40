"""The citizen help desk's knowledge base: TOML files officers edit, validated by pydantic."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Letters only Vietnamese uses; an answer without any of them was typed without diacritics.
_VIETNAMESE_MARKS = frozenset(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
)
# Replies must fit one chat message on every channel (Zalo allows 2000), with room to spare.
MAX_ANSWER_CHARS = 1000
_SLUG = r"^[a-z][a-z0-9_]*$"
_M = TypeVar("_M", bound=BaseModel)


class KnowledgeError(ValueError):
    """A knowledge file is missing, unreadable or holds an invalid entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Group(_Strict):
    """A menu group the entries are listed under."""

    id: str = Field(pattern=_SLUG)
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class Entry(_Strict):
    """One question the help desk can answer, in Vietnamese and English."""

    id: str = Field(pattern=_SLUG)
    group: str = Field(pattern=_SLUG)
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    answer_vi: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    answer_en: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    keywords_vi: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    examples: tuple[str, ...] = Field(min_length=1)
    next: tuple[str, ...] = ()
    # True for the entry that hands the conversation to a person.
    handoff: bool = False

    @field_validator("answer_vi", "title_vi")
    @classmethod
    def _has_diacritics(cls, value: str) -> str:
        if not _VIETNAMESE_MARKS.intersection(value.lower()):
            raise ValueError("must be written with Vietnamese diacritics")
        return value

    @field_validator("keywords_vi", "keywords_en", "examples", "next")
    @classmethod
    def _no_blank_items(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("must not contain empty items")
        return tuple(item.strip() for item in value)

    def title(self, lang: str) -> str:
        """The title in `lang` ("vi" or "en")."""
        return self.title_en if lang == "en" else self.title_vi

    def answer(self, lang: str) -> str:
        """The answer in `lang` ("vi" or "en")."""
        return self.answer_en if lang == "en" else self.answer_vi


@dataclass(frozen=True)
class KnowledgeBase:
    """All groups and entries, checked for unique ids and known references."""

    groups: tuple[Group, ...]
    entries: tuple[Entry, ...]

    def get(self, entry_id: str) -> Entry:
        """The entry with this id; KeyError if there is none."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def in_group(self, group_id: str) -> tuple[Entry, ...]:
        """The entries of one menu group, in file order."""
        return tuple(entry for entry in self.entries if entry.group == group_id)

    def handoff_ids(self) -> frozenset[str]:
        """Ids of entries that hand the conversation to a person."""
        return frozenset(entry.id for entry in self.entries if entry.handoff)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def load_knowledge(path: str | Path) -> KnowledgeBase:
    """Load every `*.toml` file of a folder (or one file); raise KnowledgeError naming the fault."""
    root = Path(path)
    files = sorted(root.glob("*.toml")) if root.is_dir() else [root]
    if not files or not all(f.is_file() for f in files):
        raise KnowledgeError(f"{root}: no knowledge files found")
    groups: list[tuple[Path, Group]] = []
    entries: list[tuple[Path, Entry]] = []
    for file in files:
        data = _read_toml(file)
        groups += [(file, _parse(Group, file, "group", raw)) for raw in _tables(data, file, "group")]
        entries += [(file, _parse(Entry, file, "entry", raw)) for raw in _tables(data, file, "entry")]
    _check_references(groups, entries)
    return KnowledgeBase(groups=tuple(g for _, g in groups), entries=tuple(e for _, e in entries))


def _read_toml(file: Path) -> dict[str, Any]:
    """Parse one TOML file, turning syntax errors into a message with the file name."""
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{file}: {exc}") from exc


def _tables(data: dict[str, Any], file: Path, key: str) -> list[dict[str, Any]]:
    """The `[[key]]` tables of a parsed file; unknown top-level keys are errors (likely typos)."""
    unknown = set(data) - {"group", "entry"}
    if unknown:
        raise KnowledgeError(
            f"{file}: unknown top-level key(s) {sorted(unknown)}; write entries as [[entry]], groups as [[group]]"
        )
    tables = data.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise KnowledgeError(f"{file}: '{key}' must be written as [[{key}]] tables")
    return tables


def _parse(model: type[_M], file: Path, kind: str, raw: dict[str, Any]) -> _M:
    """Validate one table; the error names the file, the entry id and each bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        label = raw.get("id", "<no id>")
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc']) or '?'}': {err['msg']}" for err in exc.errors()
        )
        raise KnowledgeError(f"{file}: {kind} '{label}': {problems}") from exc


def _check_references(groups: list[tuple[Path, Group]], entries: list[tuple[Path, Entry]]) -> None:
    """Reject duplicate ids, unknown groups and `next` ids that point nowhere."""
    group_ids = _unique_ids(groups, "group")
    entry_ids = _unique_ids(entries, "entry")
    for file, entry in entries:
        if group_ids and entry.group not in group_ids:
            raise KnowledgeError(f"{file}: entry '{entry.id}': field 'group': unknown group '{entry.group}'")
        for target in entry.next:
            if target not in entry_ids:
                raise KnowledgeError(f"{file}: entry '{entry.id}': field 'next': unknown entry id '{target}'")
            if target == entry.id:
                raise KnowledgeError(f"{file}: entry '{entry.id}': field 'next': points to itself")


def _unique_ids(items: list[tuple[Path, Group]] | list[tuple[Path, Entry]], kind: str) -> set[str]:
    """The set of ids, raising on the first id seen twice (naming both files)."""
    seen: dict[str, Path] = {}
    for file, item in items:
        if item.id in seen:
            raise KnowledgeError(
                f"{file}: {kind} '{item.id}': field 'id': duplicate id (first defined in {seen[item.id]})"
            )
        seen[item.id] = file
    return set(seen)
