"""Errors services raise when a rule refuses an input; the text is already translated."""


class Refusal(Exception):
    """A rule said no; `str(self)` explains why in the user's language."""
