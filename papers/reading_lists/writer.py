"""Write a club's reading list back out: a GitHub README and a .bib file. Pure functions.

Reading lists in is `parse` and `text` beside it (markdown-it's token tree, then plain-text rules);
the names it shares with the writer are imported here, so `to_markdown` checks each item by
reading it back with the parser itself.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from papers.identifiers import arxiv_url, normalize_arxiv_id
from papers.reading_lists.items import (  # noqa: F401 (re-exported for callers of this module)
    _ARCHIVES,
    _AUTHOR_YEAR,
    _EMPTY_BRACKETS,
    _MARKER,
    _PARENTHETICAL,
    _PROTECT,
    _QUOTES,
    _SECTION_MAX,
    MAX_BYTES,
    MAX_ENTRIES,
    TAKEAWAY_MAX,
    TITLE_MAX,
    Entry,
    Material,
    ParsedList,
    Problem,
    ReadingListError,
    _clean_heading,
    _clean_input,
    _collapse,
    _finish_label,
    _has_alnum,
    _is_web_url,
    _parse_item,
    _url_key,
    decode_upload,
)
from papers.reading_lists.parse import _key, parse_reading_list  # noqa: F401


@dataclass(frozen=True)
class ExportItem:
    title: str
    arxiv_id: str | None
    url: str
    authors: str
    year: int | None
    takeaway: str
    materials: tuple[Material, ...]
    section: str  # "" = not in a track


# --- Markdown out -----------------------------------------------------------------------------

_ENTITY_AHEAD = re.compile(r"&(?=#\d|#[xX][0-9a-fA-F]|lt;|gt;|amp;|quot;|apos;|nbsp;)")
_ID_SEPARATOR = re.compile(rf"\d{{4}}(\.)\d{{4}}|(?:{_ARCHIVES})(?:\.[A-Z]{{2}})?(/)\d{{7}}", re.I)
_ORDERED_MARKER = re.compile(r"^\d+([.)])")
# The characters the parser strips from either end of a title or a takeaway.
_TITLE_LEAD = _QUOTES + ".,;:|·—–•-"  # noqa: RUF001
_TITLE_TRAIL = _QUOTES + ".,;:|·—–-"  # noqa: RUF001
_TAKEAWAY_LEAD = ".,;:|·—–-"  # noqa: RUF001
_TAKEAWAY_TRAIL = ",;:|·—–-"  # noqa: RUF001


def _escape_char(char: str) -> str:
    if char == "<":
        return "&lt;"
    if char == "&":
        return "&amp;"
    if char.isascii():
        return "\\" + char
    return f"&#{ord(char)};"


def _escape(
    text: str,
    everything: bool = False,
    lead: str = "",
    trail: str = "",
    opens_item: bool = False,
) -> str:
    """`text` for Markdown, read back as itself.

    Always escaped: backslashes, brackets, emphasis, "<" (so no HTML tag appears), entities,
    URLs, arXiv IDs, parentheticals the parser drops, and a first character in `lead` or a
    last one in `trail` (those the parser strips). With `opens_item`, the text starts its
    list item, so a start that would open a block inside it ("# a", "1. a", "+ a") is
    escaped too. With `everything`, all punctuation.
    """
    if everything:
        marks = {i for i, char in enumerate(text) if char in _PROTECT}
    else:
        marks = {i for i, char in enumerate(text) if char in "\\[]*_`~<"}
        marks |= {match.start() for match in _ENTITY_AHEAD.finditer(text)}
        marks |= {match.start() for match in re.finditer("://", text)}
        marks |= {m.start(1) if m.group(1) else m.start(2) for m in _ID_SEPARATOR.finditer(text)}
        marks |= {match.start() for match in _MARKER.finditer(text)}
        marks |= {match.start() for match in _EMPTY_BRACKETS.finditer(text)}
        marks |= {
            match.start()
            for match in _PARENTHETICAL.finditer(text)
            if _AUTHOR_YEAR.search(match.group(1))
        }
        if text and text[0] in lead:
            marks.add(0)
        if text and text[-1] in trail:
            marks.add(len(text) - 1)
        if opens_item and (mark := _block_mark(text)) is not None:
            marks.add(mark)
    return "".join(_escape_char(char) if i in marks else char for i, char in enumerate(text))


def _escape_url(url: str) -> str:
    url = re.sub(r"[\\()<>]", lambda match: "\\" + match.group(0), url)
    return _ENTITY_AHEAD.sub(r"\\&", url)


def _block_mark(line: str) -> int | None:
    """Where `line` would open a block (heading, list item, quote, rule, table), as the
    position of the character to escape, or None: a first punctuation mark, or the mark
    after a leading number ("1." or "1)")."""
    if line and line[0] in _PROTECT:
        return 0
    if ordered := _ORDERED_MARKER.match(line):
        return ordered.start(1)
    return None


def _escape_prose(line: str) -> str:
    """A line of the introduction, plain text that stays a paragraph of text: no list item,
    heading, HTML, link or image (brackets and emphasis escaped; a bare http(s) address
    may still be linked by GitHub, which links no other scheme)."""
    marks = {i for i, char in enumerate(line) if char in "\\[]*_`~<!"}
    marks |= {match.start() for match in _ENTITY_AHEAD.finditer(line)}
    if (mark := _block_mark(line)) is not None:
        marks.add(mark)
    return "".join(_escape_char(char) if i in marks else char for i, char in enumerate(line))


def _normal_text(text: str) -> str:
    return _collapse(_clean_input(text or ""))


def _normalized(item: ExportItem) -> ExportItem | None:
    """The item as the parser reads it back, or None when it has neither title nor arXiv ID."""
    title = _normal_text(item.title)[:TITLE_MAX].rstrip()
    title = title if _has_alnum(title) else ""
    arxiv_id = normalize_arxiv_id(item.arxiv_id or "") or normalize_arxiv_id(item.url or "")
    url = item.url if _is_web_url(item.url or "") else ""
    url = arxiv_url(arxiv_id) if arxiv_id else url
    if not title and not arxiv_id:
        return None
    takeaway = _normal_text(item.takeaway)
    materials = []
    seen = {_url_key(url)} if url else set()
    for material in item.materials:
        material_id = normalize_arxiv_id(material.url or "")
        if not _is_web_url(material.url or "") or (material_id and not arxiv_id):
            continue
        key = _url_key(material.url)
        if key in seen or (material_id and material_id == arxiv_id):
            continue
        seen.add(key)
        label = _finish_label(_normal_text(material.label), material.url)
        materials.append(Material(label=label, url=material.url))
    return ExportItem(
        title=title,
        arxiv_id=arxiv_id,
        url=url,
        authors=item.authors,
        year=item.year,
        takeaway=takeaway if len(takeaway) <= TAKEAWAY_MAX else "",
        materials=tuple(materials),
        section=_normal_text(item.section)[:_SECTION_MAX].rstrip(),
    )


def _item_markdown(item: ExportItem) -> str:
    """One list item's text, checked by reading it back; escapes more when that differs."""
    wanted = (item.title, item.arxiv_id, item.url, item.takeaway, list(item.materials))
    paper_link = ""
    if item.url:
        text = "arXiv" if item.arxiv_id else "link"  # words that are not a title
        paper_link = f"[{text}]({_escape_url(item.url)})"
    tail = ""
    attempts = []
    for everything in (False, True):
        takeaway = _escape(item.takeaway, everything, _TAKEAWAY_LEAD, _TAKEAWAY_TRAIL)
        tail = f" — {takeaway}" if item.takeaway else ""
        for material in item.materials:
            tail += f" · [{_escape(material.label, everything)}]({_escape_url(material.url)})"
        title = _escape(item.title, everything, _TITLE_LEAD, _TITLE_TRAIL)
        if item.url and item.title:
            attempts.append(f"[{title}]({_escape_url(item.url)}){tail}")
        if not item.title:
            attempts.append(f"{paper_link}{tail}")
        elif not item.url:
            opening = _escape(item.title, everything, _TITLE_LEAD, _TITLE_TRAIL, opens_item=True)
            attempts.append(f"{opening}{tail}")
        attempts.append(f"**{title}** {paper_link}".rstrip() + tail)
    for attempt in attempts:
        parsed = _parse_item(attempt)
        found = (parsed.title, parsed.arxiv_id, parsed.url, parsed.takeaway, parsed.materials)
        if found == wanted:
            return attempt
    return attempts[-1]


def to_markdown(
    *,
    title: str,
    items: Sequence[ExportItem],
    intro: str = "",
    groups: Sequence[tuple[str, Sequence[ExportItem]]] | None = None,
) -> str:
    """A GitHub README for the list: title, introduction, then numbered lists of papers.

    Each paper is `1. [Title](link) — takeaway · [Slides](url) · [Recording](url)`; authors
    and year are left out. Without `groups`, items are grouped by their `section` in order of
    first appearance, items without one first and unheaded. With `groups`, the groups decide
    what is written (`items` and each item's `section` are not used): a group named "" is
    unheaded, a group whose name starts with "*" ("*Read*") gets a bold label (`**Read**`),
    which is not a section, and any other group gets a `## Name` heading. Unheaded groups come
    first, then bold-label groups, then headed ones, each kind in the order given, so that
    reading the README back puts the papers of unheaded and bold-label groups in no section.

    `parse_reading_list` reads the result back to entries equal to the items, in order, once
    the items are in the form the parser produces: whitespace collapsed; title at most
    TITLE_MAX and with a letter or digit, else ""; takeaway at most TAKEAWAY_MAX, else "";
    url the arXiv abs URL when there is an arXiv ID, else an http(s) URL or ""; material
    labels with a capital first letter (a bare domain as it is, an empty or URL label guessed
    from the link); material links http(s), each once, none to the paper itself or, for a
    paper without an arXiv ID, to arXiv; section at most 100 characters. Items are put in that
    form here; items with neither a title nor an arXiv ID, and repeats of a paper already
    written, are left out. At most MAX_ENTRIES items read back.
    """
    unheaded: list[tuple[str, Sequence[ExportItem]]] = []
    labelled: list[tuple[str, Sequence[ExportItem]]] = []
    headed: list[tuple[str, Sequence[ExportItem]]] = []
    if groups is None:
        by_section: dict[str, list[ExportItem]] = {}
        for item in filter(None, map(_normalized, items)):
            by_section.setdefault(item.section, []).append(item)
        unheaded = [("", by_section.pop(""))] if "" in by_section else []
        headed = list(by_section.items())
    else:
        for name, group in groups:
            group = list(filter(None, map(_normalized, group)))
            name = _normal_text(name)
            if name.startswith("*"):
                label = name.strip("*").strip()
                (labelled if label else unheaded).append((label, group))
            elif name:
                headed.append((name[:_SECTION_MAX].rstrip(), group))
            else:
                unheaded.append(("", group))

    lines = []
    document_title = _normal_text(title)[:TITLE_MAX].rstrip()
    if document_title:
        lines += [_heading("#", document_title, TITLE_MAX), ""]
    for line in _normal_intro(intro):
        lines.append(_escape_prose(line) if line else "")
    if lines and lines[-1]:
        lines.append("")

    seen: set[tuple[str, str]] = set()
    for kind, batch in (("", unheaded), ("**", labelled), ("##", headed)):
        for name, group in batch:
            written = []
            for item in group:
                if _key(item.title, item.arxiv_id, item.url) in seen:
                    continue
                seen.add(_key(item.title, item.arxiv_id, item.url))
                written.append(f"{len(written) + 1}. {_item_markdown(item)}")
            if not written:
                continue
            if kind == "**":
                lines += [f"**{_escape(name)}**", ""]
            elif kind == "##":
                lines += [_heading("##", name, _SECTION_MAX), ""]
            lines += [*written, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _heading(marker: str, text: str, limit: int) -> str:
    heading = f"{marker} {_escape(text, trail='#')}"
    if _clean_heading(heading.removeprefix(marker), limit) != text:
        heading = f"{marker} {_escape(text, everything=True)}"
    return heading


def _normal_intro(intro: str) -> list[str]:
    lines: list[str] = []
    for line in _clean_input(intro or "").split("\n"):
        line = _collapse(line)
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


# --- BibTeX out -------------------------------------------------------------------------------

_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_ET_AL = re.compile(r"(?:,\s*)?\bet\s+al\b\.?", re.IGNORECASE)
_STOPWORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "is", "are"}


def _bibtex_text(text: str) -> str:
    """Text for a braced BibTeX value; any braces in it come in pairs (BibTeX counts them)."""
    return "".join(_BIBTEX_ESCAPES.get(char, char) for char in _normal_text(text))


def _bibtex_url(url: str) -> str:
    url = _normal_text(url).replace("{", "%7B").replace("}", "%7D").replace("\\", "%5C")
    return url.replace("%", r"\%").replace("#", r"\#")


def _author_names(authors: str) -> list[str]:
    """ "A, B, et al." or "A and B" as a list of names, "others" standing for "et al."."""
    authors = _normal_text(authors)
    has_others = _ET_AL.search(authors) is not None
    authors = _ET_AL.sub("", authors)
    if re.search(r"\sand\s", authors, re.IGNORECASE):
        names = re.split(r"\s+and\s+", authors, flags=re.IGNORECASE)
    else:
        names = re.split(r"\s*[,;]\s*", authors)
    names = [name.strip(" ,;") for name in names if name.strip(" ,;")]
    return [*names, "others"] if has_others and names else names


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _citation_key(item: ExportItem) -> str:
    names = _author_names(item.authors)
    last_name = ""
    if names and names[0] != "others":
        first = names[0]
        last_name = first.split(",")[0] if "," in first else first.split()[-1]
    title_words = [_ascii_word(word) for word in _normal_text(item.title).split()]
    title_word = next((w for w in title_words if w and w not in _STOPWORDS), "")
    year = str(item.year) if item.year else ""
    return _ascii_word(last_name) + year + title_word or "paper"


def to_bibtex(items: Sequence[ExportItem]) -> str:
    """A .bib file: @misc entries (with eprint) for arXiv papers, @article for the others.

    Keys are last name, year and first title word ("vaswani2017attention"), with a, b, …
    added to repeats. Special characters are escaped, so braces always balance.
    """
    used: set[str] = set()
    entries = []
    for item in items:
        key = base = _citation_key(item)
        number = 0
        while key in used:
            number += 1
            suffix, n = "", number
            while n:
                n, rest = divmod(n - 1, 26)
                suffix = chr(ord("a") + rest) + suffix
            key = base + suffix
        used.add(key)

        arxiv_id = normalize_arxiv_id(item.arxiv_id or "")
        url = arxiv_url(arxiv_id) if arxiv_id else _normal_text(item.url)
        names = _author_names(item.authors)
        fields = [("title", "{" + _bibtex_text(item.title) + "}")]
        if names:
            fields.append(("author", " and ".join(_bibtex_text(name) for name in names)))
        if item.year:
            fields.append(("year", str(item.year)))
        if arxiv_id:
            fields += [("eprint", arxiv_id), ("archivePrefix", "arXiv")]
        if url:
            fields.append(("url", _bibtex_url(url)))
        if _normal_text(item.takeaway):
            fields.append(("note", _bibtex_text(item.takeaway)))
        kind = "misc" if arxiv_id else "article"
        body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields)
        entries.append(f"@{kind}{{{key},\n{body}}}\n")
    return "\n".join(entries)
