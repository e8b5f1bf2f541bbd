"""The hostile corpus: values an attacker or a clumsy paste sends, shared by every sweep.

Each value is the bytes a client sends (so invalid UTF-8 can be sent as it is), with a
name for test ids. `text` is what Django hands a view: invalid bytes become U+FFFD.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    name: str
    raw: bytes

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


def _value(name: str, text: str) -> Hostile:
    return Hostile(name, text.encode())


CORPUS = [
    _value("crlf", "first line\r\nsecond line"),
    _value("lf", "first line\nsecond line"),
    _value("lone-cr", "first\rsecond"),
    _value("nul", "before\x00after"),
    Hostile("invalid-utf8", b"bad \xff\xfe bytes \xc3"),
    _value("huge", "x" * 100_000),
    _value("rtl-override", "\u202eevil.exe\u202c right-to-left"),
    _value("zero-width", "zero\u200bwidth\u200d\ufeffjoiner"),
    _value("script", "<script>alert('x')</script>"),
    _value("img-onerror", '"><img src=x onerror=alert(1)>'),
    _value("template", "{{ 7|add:7 }} {% now 'Y' %}"),
    _value("emoji", "emoji 📄🧠 and combining e\u0301\u0301"),
    _value("controls", "bell\x07 escape\x1b[31m tab\t del\x7f"),
    _value("unicode-lines", "line\u2028separator\u2029paragraph\x85next"),
]
