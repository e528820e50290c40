"""Citizen help desk: knowledge base and question matching (plain functions, no chat library)."""

from bot.helpdesk.knowledge import Entry, Group, KnowledgeBase, KnowledgeError, load_knowledge
from bot.helpdesk.matcher import Candidate, Matcher, MatchResult, asks_for_person, baseline_match

__all__ = [
    "Candidate",
    "Entry",
    "Group",
    "KnowledgeBase",
    "KnowledgeError",
    "MatchResult",
    "Matcher",
    "asks_for_person",
    "baseline_match",
    "load_knowledge",
]
