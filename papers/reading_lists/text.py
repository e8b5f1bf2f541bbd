"""Plain text inside a reading list: telling papers from prose, and the lines of a web page.

A line is a paper when it looks like one: a link to a paper, an arXiv ID, or a title-like
phrase (with or without a ": takeaway"). Questions, calls to action, citation blocks,
footers, signatures and sentences are prose. A list copied from a web page gives each paper
as a run of lines (year, title, authors, description, "Read on arXiv →"); `read_runs` reads
the run as one paper.
"""

import re
from dataclasses import dataclass, field

from papers.reading_lists.items import (
    _NEW_TAB,
    _SLOTS,
    _SMALL_WORDS,
    _WORD,
    _collapse,
    _Item,
    _Link,
    _restore,
    read_item,
)

# --- Prose ------------------------------------------------------------------------------------

_BIBTEX = re.compile(
    r"^\s*(?:@[A-Za-z]+\s*[{(]|[A-Za-z_-]+\s*=\s*[{\"\d]|[})]\s*,?\s*$)", re.IGNORECASE
)
_CITATION = re.compile(
    r"^\W*(?:please\s+)?(?:cite|citation|citing|bibtex|how to cite|to cite|if you (?:use|find))\b",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"©|\(c\)\s*\d{4}|\ball rights reserved\b|\bunsubscribe\b|\bnewsletter\b|\bpowered by\b"
    r"|\bmade with\b|\bwritten by\b|\bposted (?:by|on|in)\b|\bthanks for reading\b"
    r"|\buntil next (?:time|week)\b|\bprivacy policy\b|\bterms of (?:service|use)\b"
    r"|\bshare this\b|\bview (?:this email )?in (?:your )?browser\b|\bsign up\b|\bsubscribe\b"
    r"|\blast updated\b|\bedit this page\b|\bback to top\b|\bfollow (?:us|me)\b",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\W*(?:cheers|best|thanks|thank you|regards|best regards|kind regards|warmly|happy reading"
    r"|see you|xoxo|love)\b[\s,!.—-]*(?:\w+[\s,!.]*){0,3}$",
    re.IGNORECASE,
)
_CALL_TO_ACTION = {
    "see", "raise", "open", "subscribe", "follow", "join", "share", "sign", "click", "contact",
    "email", "reach", "star", "fork", "check", "feel", "please", "reply", "comment", "donate",
    "sponsor", "support", "submit", "send", "contribute", "visit", "want", "interested",
    "found", "spotted", "got", "register", "rsvp", "tap", "tell", "suggest", "add", "vote",
}  # fmt: skip
_PRONOUNS = {"we", "our", "us", "you", "your", "i", "me", "my", "they", "their", "this", "it"}
_LABEL_WORDS = {
    "note", "notes", "update", "updated", "edit", "source", "sources", "credit", "credits",
    "tags", "tag", "author", "authors", "by", "date", "posted", "published", "category",
    "categories", "related", "references", "reference", "contents", "toc", "summary", "tl;dr",
    "tldr", "disclaimer", "acknowledgements", "acknowledgments", "license", "introduction",
    "intro", "about", "overview", "faq", "contributing", "appendix",
}  # fmt: skip

NOT_A_PAPER = "Skipped, not a paper: "


def is_title_case(text: str) -> bool:
    """Most words capitalized, not counting those a sentence capitalizes anyway (the first,
    and each after a full stop or question mark)."""
    words = []
    for match in _WORD.finditer(text):
        before = text[: match.start()].rstrip()
        if not before or before[-1] in ".?!":
            continue
        if match.group(0).lower() not in _SMALL_WORDS:
            words.append(match.group(0))
    if not words:
        first = _WORD.search(text)
        return first is not None and first.group(0)[0].isupper()
    capital = sum(1 for w in words if w[0].isupper() or any(c.isupper() for c in w[1:]))
    return capital / len(words) >= 0.6


def prose_reason(text: str, item: _Item, *, emphasized: bool = False) -> str | None:
    """Why a line is not a paper ("a question", …), or None when it reads as one.

    `text` is the line's words, links taken out; `item` is what `read_item` made of it;
    `emphasized` says the title was set in bold or italics, which is how people mark a title.
    """
    text = _collapse(text)
    if _BIBTEX.match(text):
        return "part of a citation block (BibTeX)."
    if _CITATION.match(text):
        return "a citation note."
    has_paper = bool(item.arxiv_id or item.url)
    if _FOOTER.search(text) and not item.arxiv_id:
        return "a footer or signature."
    if _SIGN_OFF.match(text) and not has_paper:
        return "a footer or signature."
    if has_paper or emphasized:
        return None
    if not item.title:
        return None  # the caller reports "no title" itself
    words = _WORD.findall(text)
    lowered = [w.lower() for w in words]
    title_case = is_title_case(item.title)
    if text.rstrip().endswith(":") and not item.takeaway:
        return "an introduction to the list."
    if lowered and lowered[0] in _CALL_TO_ACTION and not title_case:
        return "a call to action."
    if "?" in text and (not title_case or len(words) > 15):
        return "a question."
    if item.title.casefold().strip(" .") in _LABEL_WORDS or (
        len(words) <= 2 and lowered and lowered[0] in _LABEL_WORDS and not item.takeaway
    ):
        return "a label, not a title."
    if (
        (len(words) > 30 or len(text) > 250)
        and not item.takeaway
        and text.startswith(item.title[:40])
        and len(_WORD.findall(item.title)) > 20
        and not title_case
    ):
        return "a paragraph of prose."
    # The title's own words decide: "Title: takeaway" may have a sentence after the colon.
    title_words = _WORD.findall(item.title)
    own = {word.lower() for word in title_words}
    whole_line = not item.takeaway and not item.long_text
    if not title_case and len(title_words) > 20:
        return "a sentence, not a title."
    if (
        not title_case
        and len(title_words) >= 8
        and ((whole_line and text.rstrip().endswith((".", "!"))) or own & _PRONOUNS)
    ):
        return "a sentence, not a title."
    return None


# --- A web page, copied ------------------------------------------------------------------------

_YEAR_LINE = re.compile(r"^\W*((?:19|20)\d\d)\W*$")
_ARROWS = "→↗➔➜›»⟶"  # noqa: RUF001
_LINK_LABEL_WORDS = {
    "read", "on", "the", "view", "open", "paper", "papers", "arxiv", "pdf", "full", "more",
    "article", "blog", "post", "link", "here", "openreview", "github", "code", "website",
    "download", "abstract", "abs", "go", "to", "see", "project", "page", "html",
}  # fmt: skip
_GLUED_YEAR = re.compile(r"^(?P<label>.*?)\s*(?P<year>(?:19|20)\d\d)\s*$")
_AUTHORS = re.compile(
    r"\bet\.?\s*al\b|^(?:[A-Z][\w'’.-]*\s+)*[A-Z][\w'’-]+(?:\s*(?:,|&|\band\b)\s*"  # noqa: RUF001
    r"(?:[A-Z][\w'’.-]*\s+)*[A-Z][\w'’-]+)+\s*(?:\([^()]+\))?\.?$"  # noqa: RUF001
)
_LAB = re.compile(r"^(?:[A-Z][\w'’.-]*\s+){0,3}[A-Z][\w'’-]+\s*\([^()]{2,60}\)\.?$")  # noqa: RUF001


def year_line(text: str) -> int | None:
    match = _YEAR_LINE.match(text)
    return int(match.group(1)) if match else None


def link_label(text: str) -> tuple[bool, int | None]:
    """Whether the line is a link's label ("Read on arXiv →"), and a year glued to it."""
    text = _collapse(_NEW_TAB.sub(" ", text))
    glued = _GLUED_YEAR.match(text)
    year = None
    if glued and glued.group("label") and not glued.group("label")[-1].isdigit():
        text, year = glued.group("label"), int(glued.group("year"))
    words = re.findall(r"[^\W_]+", text.lower())
    if not words or len(words) > 5:
        return False, None
    has_arrow = any(char in text for char in _ARROWS) or "->" in text
    generic = all(word in _LINK_LABEL_WORDS for word in words)
    if generic and (has_arrow or words[0] in ("read", "view", "open", "download")):
        return True, year
    return False, None


def authors_line(text: str) -> bool:
    text = _collapse(text)
    if len(text) > 300 or text.endswith("?"):
        return False
    return bool(_AUTHORS.search(text) or _LAB.match(text))


@dataclass
class Line:
    """One line of text with its links, as `read_inline` gives them."""

    number: int
    raw: str
    links: list[_Link]
    rest: str  # protected text, one slot per link
    notes: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return _collapse(_restore(_SLOTS.sub(" ", self.rest)))


@dataclass
class Run:
    """A paper read from several lines, or from one."""

    first: Line
    year: int | None = None
    authors: str = ""
    description: list[str] = field(default_factory=list)
    links: list[Line] = field(default_factory=list)  # label lines carrying a link
    item: _Item | None = None


def is_web_copy(lines: list[Line]) -> bool:
    """Whether the lines look like a list copied from a web page: years and link labels."""
    years = sum(1 for line in lines if year_line(line.words) is not None)
    labels = sum(1 for line in lines if link_label(line.words)[0])
    glued = sum(1 for line in lines if link_label(line.words)[1] is not None)
    return labels >= 2 or years + glued >= 2


def read_runs(lines: list[Line]) -> tuple[list[Run], list[tuple[Line, str]], str]:
    """The papers in lines copied from a web page, and the lines that are not papers.

    A run starts at a year (or at the first line after a link label) and ends at a link
    label; its first title-like line is the title, a line of names ("Vaswani et al.
    (Google)") is the authors, the other lines are the description. Lines before the first
    year are the page's heading: its first line is returned as the page's title.
    """
    runs: list[Run] = []
    skipped: list[tuple[Line, str]] = []
    current: Run | None = None
    pending_year: int | None = None
    page_title = ""
    first_year = next((n for n, line in enumerate(lines) if year_line(line.words)), None)
    if first_year is not None:
        for line in lines[:first_year]:
            item = read_item(line.links, line.rest)
            if item.arxiv_id or item.url:
                first_year = None  # a paper before the years: no heading to read
                break
    if first_year is not None:
        for n, line in enumerate(lines[:first_year]):
            words = line.words
            if n == 0 and len(words) <= 120 and not words.endswith((".", "?", "!")):
                page_title = words
                skipped.append((line, "the page's title."))
            else:
                skipped.append(
                    (
                        line,
                        prose_reason(words, read_item(line.links, line.rest))
                        or "the page's introduction.",
                    )
                )
        lines = lines[first_year:]

    def finish() -> None:
        nonlocal current
        if current is not None and current.item is not None:
            runs.append(current)
        current = None

    for line in lines:
        words = line.words
        year = year_line(words)
        is_label, glued = link_label(words)
        if year is not None:
            finish()
            pending_year = year
            continue
        if is_label:
            if current is not None:
                current.links.append(line)
            finish()
            pending_year = glued
            continue
        if current is None:
            item = read_item(line.links, line.rest)
            reason = prose_reason(words, item)
            if reason or not (item.title or item.arxiv_id):
                skipped.append((line, reason or "no title could be found on this line."))
                continue
            current = Run(first=line, year=pending_year, item=item)
            pending_year = None
            continue
        if not current.authors and not current.description and authors_line(words):
            current.authors = words
        elif _FOOTER.search(words) or _SIGN_OFF.match(words):
            finish()
            skipped.append((line, "a footer or signature."))
        else:
            current.description.append(words)
            current.links.append(line)
    finish()
    return runs, skipped, page_title
