"""Form fields that apply the input rule (paperclub.text) with a message for each refusal.

Every form's text field is one of these, so a value is cleaned the same way wherever it
is typed; `tests/test_field_sweep.py` checks every form the site serves.
"""

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from paperclub.text import multi_line, one_line

NUL_MESSAGE = "This text holds a NUL character (\\0); remove it and try again."


def _refuse_nul(value) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise forms.ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")


class _RuleField(forms.CharField):
    fold = staticmethod(one_line)

    def __init__(self, *, max_length: int, **kwargs):
        # Cleaning already trims; the rule, not CharField, decides what whitespace stays.
        kwargs.setdefault("strip", False)
        super().__init__(max_length=max_length, **kwargs)
        # The rule says NUL in words (below); Django's own check would see it only after.
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]

    def to_python(self, value):
        _refuse_nul(value)
        return self.fold(super().to_python(value))


class OneLineField(_RuleField):
    """A name, a title, a place, a label: one line, at most `max_length` characters."""


class MultiLineField(_RuleField):
    """Descriptions, rules, notes: line breaks kept as LF, at most `max_length` characters."""

    fold = staticmethod(multi_line)

    def __init__(self, *, max_length: int, rows: int = 3, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        super().__init__(max_length=max_length, **kwargs)
