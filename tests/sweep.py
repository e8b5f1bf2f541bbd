"""What the field sweep needs besides the corpus: the forms a page serves, read with a real
HTML parser, and a snapshot of every row the project's apps hold."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes, urljoin, urlsplit

from django.apps import apps
from django.db import models

# Inputs a person types into; the others (hidden, radio, checkbox...) are set by the page.
TYPED = {"text", "search", "email", "url", "tel", "password", "number", "date", "time"}
TYPED |= {"datetime-local", "month", "week", ""}
NOT_SENT = {"submit", "button", "image", "reset", "file"}


@dataclass
class Control:
    name: str
    kind: str  # "text", "textarea", "select", "hidden", "checkbox", "radio", "button"...
    values: list[str] = field(default_factory=list)  # the options, for choices
    sent: list[str] = field(default_factory=list)  # what a browser would send as is

    @property
    def typed(self) -> bool:
        return self.kind in TYPED or self.kind == "textarea"


@dataclass
class Form:
    action: str
    method: str
    controls: dict[str, Control] = field(default_factory=dict)
    htmx: bool = False  # posted by htmx (an element with hx-post inside the form)
    last_button: tuple[str, str] | None = None

    def control(self, name: str, kind: str) -> Control:
        return self.controls.setdefault(name, Control(name, kind))


class FormParser(HTMLParser):
    """The page's <form>s with their named controls, and the hx-post elements inside them
    (htmx sends the enclosing form's values to that URL)."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.extra: list[str] = []
        self.textarea: Control | None = None
        self.select: Control | None = None
        self.option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self.current = Form(action=action, method=(a.get("method") or "get").lower())
            self.forms.append(self.current)
            self.extra = []
            return
        form = self.current
        if form is None:
            return
        if "hx-post" in a and tag != "form":
            self.extra.append(urljoin(self.page_url, a["hx-post"]))
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in NOT_SENT:
                return
            control = form.control(name, kind)
            if kind in ("checkbox", "radio"):
                control.values.append(a.get("value", "on"))
                if "checked" in a:
                    control.sent.append(a.get("value", "on"))
            else:
                control.sent.append(a.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = form.control(name, "textarea")
            self.textarea.sent.append("")
        elif tag == "select" and name:
            self.select = form.control(name, "select")
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            form.last_button = (name, a.get("value", ""))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.sent[-1] += data
        if self.option is not None:
            self.option["text"] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "option" and self.option is not None:
            self._end_option()
        elif tag == "select" and self.select is not None:
            if self.option is not None:
                self._end_option()
            chosen = [v for v in self.select.values if v] or self.select.values
            if not self.select.sent and chosen:
                self.select.sent.append(chosen[0])  # "---------" is no choice
            self.select = None
        elif tag == "form" and self.current is not None:
            for url in dict.fromkeys(self.extra):
                twin = Form(url, "post", dict(self.current.controls), htmx=True)
                twin.last_button = self.current.last_button
                self.forms.append(twin)
            self.current = None

    def _end_option(self):
        value = self.option["value"]
        value = self.option["text"].strip() if value is None else value
        self.select.values.append(value)
        if self.option["selected"]:
            self.select.sent.append(value)
        self.option = None


def forms_of(html: str, page_url: str) -> list[Form]:
    parser = FormParser(page_url)
    parser.feed(html)
    for form in parser.forms:
        for control in form.controls.values():
            if control.kind == "radio" and not control.sent and control.values:
                control.sent.append(control.values[0])
    return parser.forms


def encode(pairs: list[tuple[str, bytes]]) -> str:
    """An application/x-www-form-urlencoded body, byte for byte (invalid UTF-8 included)."""
    return "&".join(
        f"{quote_from_bytes(name.encode(), safe='')}={quote_from_bytes(value, safe='')}"
        for name, value in pairs
    )


def kind_of(form: Form, url_name: str) -> tuple:
    """What makes two forms the same form: where they go and what they send (a row's own
    ids, as in takeaway12, do not count)."""
    names = tuple(sorted({re.sub(r"\d+", "N", n) for n in form.controls}))
    return (url_name, names, form.htmx)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# ---------- The database, before and after ----------

PROJECT_APPS = ("accounts", "clubs", "papers", "meetings")


def project_models() -> list[type[models.Model]]:
    return [m for label in PROJECT_APPS for m in apps.get_app_config(label).get_models()]


def snapshot() -> dict[str, dict]:
    """Every row of the project's tables, by primary key."""
    rows = {}
    for model in project_models():
        names = [f.attname for f in model._meta.concrete_fields]
        rows[model._meta.label] = {
            values[0]: values
            for values in model.objects.order_by().values_list("pk", *names).iterator()
        }
    return rows


def changed_rows(before: dict, after: dict) -> list[tuple[type[models.Model], tuple]]:
    changed = []
    for model in project_models():
        old = before[model._meta.label]
        for pk, values in after[model._meta.label].items():
            if old.get(pk) != values:
                changed.append((model, values))
    return changed


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_ONE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Not typed by anyone: rendered from typed text, or written by the code.
DERIVED = {("meetings.NoteSection", "html"), ("papers.Poll", "tie_break_applied")}
DERIVED |= {("accounts.User", "password")}


def rule_breaches(model: type[models.Model], values: tuple) -> list[str]:
    """How a stored row breaks the input rule: a CharField holds one line within its
    max_length, a TextField keeps LF and tab only, nothing holds NUL."""
    problems = []
    fields = model._meta.concrete_fields
    label = model._meta.label
    for f, value in zip(fields, values[1:], strict=True):
        if (label, f.attname) in DERIVED or value is None:
            continue
        texts = []
        if isinstance(f, models.JSONField):
            texts = [v for v in (value if isinstance(value, list) else []) if isinstance(v, str)]
            one_line = True
        elif isinstance(f, (models.CharField, models.TextField)):
            texts = [value]
            one_line = isinstance(f, models.CharField)
        for text in texts:
            bad = _ONE_LINE_BAD if one_line else _CONTROL
            if bad.search(text):
                problems.append(f"{label}.{f.attname} holds {bad.search(text).group()!r}")
            if f.max_length and len(text) > f.max_length:
                problems.append(f"{label}.{f.attname} is {len(text)} > {f.max_length} long")
    return problems
