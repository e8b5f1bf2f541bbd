"""The input rule, in one place: what any text typed by a person may hold.

- One-line text (names, titles, places, labels): line breaks, tabs and the other
  separators fold to one space, other control characters are dropped. Email subjects,
  calendar summaries and HTTP headers are built from these, and a line break there
  breaks them.
- Multi-line text (descriptions, rules, notes, summaries): CRLF and CR become LF; LF and
  tab are the only control characters kept.
- No text holds NUL: PostgreSQL cannot store it, and no person means to type it. Forms
  refuse it with a message; services, which the importer and commands also call, drop it.
- Every text has a maximum length, which the model enforces (max_length, or a
  CheckConstraint for a TextField, see `length_limit`) and the form reports.

The form side is `paperclub.fields`; services call `one_line`, `multi_line` and
`checked_text`.
"""

import re

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from paperclub.errors import RuleViolation

# Characters XML 1.0 cannot carry (feeds, calendars) and no person means to type:
# C0 controls other than tab, newline and carriage return; DEL and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Everything that ends or breaks a line somewhere: CR, LF, tab, vertical tab, form feed,
# NEL, and Unicode's line and paragraph separators.
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
_LINE_ENDS = re.compile(r"\r\n?|[\x85\u2028\u2029]")


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text or "")


def one_line(text: str | None) -> str:
    """`text` on one line: breaks folded to a space, control characters dropped, trimmed."""
    return strip_control(_BREAKS.sub(" ", text or "")).strip()


def multi_line(text: str | None) -> str:
    """`text` with LF line ends only and no control characters but LF and tab, trimmed."""
    return strip_control(_LINE_ENDS.sub("\n", text or "")).strip()


def checked_text(text: str | None, *, max_length: int, label: str, multiline: bool = False) -> str:
    """`text` cleaned by the rule; a RuleViolation (400) when it is still too long."""
    cleaned = multi_line(text) if multiline else one_line(text)
    if len(cleaned) > max_length:
        raise RuleViolation(
            f"{label} must be {max_length:,} characters or fewer (it has {len(cleaned):,}).",
            status=400,
        )
    return cleaned


def length_limit(field: str, max_length: int, *, name: str) -> models.CheckConstraint:
    """The database's own limit on a TextField, which `max_length` alone does not set."""
    return models.CheckConstraint(condition=LessThanOrEqual(Length(field), max_length), name=name)


def vote_word(count: int) -> str:
    """ "vote" or "votes", for a count in a sentence built in Python."""
    return "vote" if count == 1 else "votes"
