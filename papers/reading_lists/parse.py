"""Read a reading list: walk markdown-it's token tree for headings, lists, tables and
paragraphs, then decide line by line what is a paper.

Headings make sections; a single level-1 heading first is the list's title. List items and
table rows are candidates; so are paragraph lines, which are read as plain text (the shape
of "Title: takeaway" lines and of pasted web pages, see `text`). A candidate that reads as
prose, a question or a citation is skipped with its reason, and kept so a person can tick
it in. A list of discussion questions is offered as the club's questions.
"""

import re
from dataclasses import dataclass, field, replace

from markdown_it.token import Token

from papers.identifiers import arxiv_url, normalize_arxiv_id
from papers.reading_lists.items import (
    _LEADING_LINK,
    _MD,
    _SECTION_MAX,
    _SLOT,
    _SLOTS,
    MAX_BYTES,
    MAX_ENTRIES,
    TAKEAWAY_MAX,
    TITLE_MAX,
    Entry,
    Material,
    ParsedList,
    Problem,
    ReadingListError,
    _clean_input,
    _collapse,
    _finish_label,
    _is_generic,
    _Item,
    _label,
    _latex_as_text,
    _restore,
    _takeaway_text,
    _url_key,
    heading_text,
    inline_tokens,
    read_inline,
    read_item,
)
from papers.reading_lists.text import (
    NOT_A_PAPER,
    Line,
    authors_line,
    is_web_copy,
    prose_reason,
    read_runs,
    year_line,
)

_PROBLEM_TEXT_MAX = 200
_MAX_ITEMS = 5 * MAX_ENTRIES  # list items and lines read at most
_MAX_DEPTH = 16
_TOO_LARGE = "The file is larger than 512 KB."
_NO_TITLE = "No title could be found on this line."
_NOTHING = "This line has no paper link or title."
_GITHUB = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?(?=[/\s)\]>\"']|$)")
_LIVES_AT = re.compile(
    r"\b(?:lives|is kept|is hosted|is published)\s+at\s+<?(https?://\S+?)>?[\s.,)]*$", re.I
)
_IN_ORDER = re.compile(
    r"\b(?:read (?:them |these |the papers )?in order|in (?:this|that|the following) order"
    r"|reading order)\b",
    re.I,
)
_QUESTION_HEADING_WORDS = 5
# Reasons that keep a line under a paper's heading out of its description.
_NOT_DESCRIPTION = (
    "a footer",
    "part of a citation",
    "a citation",
    "a call to action",
    "a question",
)
_NUMBERED = re.compile(r"^\s*(?:#?\d{1,3}[.):]|\(\d{1,3}\))\s+")
# Sections whose items are about the club, not papers.
_RULES_SECTION = re.compile(
    r"\b(?:rules|guidelines|code of conduct|faq|about|contact|how (?:it|we|this) works?"
    r"|logistics|format|contributing|licen[cs]e|acknowledg(?:e)?ments|organi[sz]ers|format)\b",
    re.IGNORECASE,
)
_MARKER = re.compile(r"^[ \t>]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_EMPHASIZED = re.compile(r"\s*(?:\*|_|[\"“„«‘])")  # noqa: RUF001
# Bullets and numbers of text pasted from a web page, which Markdown does not read as lists.
_PASTED_BULLET = re.compile(r"^([ \t]*)[•‣◦▪●](?:[ \t]+|(?=\S))", re.MULTILINE)
_PASTED_NUMBER = re.compile(r"^([ \t]*)\((\d{1,9})\)[ \t]+", re.MULTILINE)


@dataclass
class _Node:
    line: int
    raw: str
    links: list
    rest: str
    section: str
    notes: list[str]
    children: list["_Node"] = field(default_factory=list)
    paragraphs: list[Line] = field(default_factory=list)  # the item's further paragraphs
    _item: _Item | None = None

    @property
    def item(self) -> _Item:
        if self._item is None:
            self._item = read_item(self.links, self.rest)
        return self._item

    @property
    def words(self) -> str:
        return Line(self.line, self.raw, self.links, self.rest).words

    def has_paper(self) -> bool:
        return bool(self.item.arxiv_id or self.item.url) or any(
            child.has_paper() for child in self.children
        )


@dataclass
class _Block:
    kind: str  # "list", "lines", "code"
    section: str
    nodes: list[_Node] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    line: int = 0
    text: str = ""


class _Reader:
    """Walks the block tokens once, building blocks of candidates in document order."""

    def __init__(
        self, source_lines: list[str], markdown_lines: list[str], base_url: str, env: dict
    ):
        self.env = env
        self.source_lines = source_lines  # as written, for the preview
        self.markdown_lines = markdown_lines  # with pasted bullets made Markdown ones
        self.base_url = base_url
        self.blocks: list[_Block] = []
        self.section = ""
        self.count = 0

    def raw(self, token: Token) -> tuple[int, str]:
        start = token.map[0] if token.map else 0
        return start + 1, self.source_lines[start] if start < len(self.source_lines) else ""

    def tick(self) -> None:
        self.count += 1
        if self.count > _MAX_ITEMS:
            raise ReadingListError(
                f"The list has more than {_MAX_ITEMS:,} items. Split it into smaller lists."
            )

    def lines_of(self, inline: Token, children: list[Token] | None = None) -> list[Line]:
        """A paragraph's lines, each with its own links."""
        start = inline.map[0] if inline.map else 0
        pieces: list[list[Token]] = [[]]
        for child in inline.children or [] if children is None else children:
            if child.type in ("softbreak", "hardbreak"):
                pieces.append([])
            else:
                pieces[-1].append(child)
        lines = []
        for offset, piece in enumerate(pieces):
            self.tick()
            notes: list[str] = []
            links, rest = read_inline(piece, base_url=self.base_url, notes=notes)
            number = start + offset + 1
            raw = self.source_lines[number - 1] if number - 1 < len(self.source_lines) else ""
            if _collapse(_restore(rest)) or links:
                lines.append(Line(number, raw, links, rest, notes))
        return lines

    def lines_block(self) -> _Block:
        if (
            not self.blocks
            or self.blocks[-1].kind != "lines"
            or (self.blocks[-1].section != self.section)
        ):
            self.blocks.append(_Block("lines", self.section))
        return self.blocks[-1]

    def walk(self, tokens: list[Token], title_index: int | None) -> None:
        stack: list[_Node] = []  # open list items, outermost first
        unfilled: _Node | None = None
        depth = 0
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                inline = tokens[i + 1]
                if i != title_index:
                    self.section = heading_text(inline.children or [], _SECTION_MAX)
                    number, raw = self.raw(token)
                    node = _Node(number, raw, [], "", self.section, [])
                    node.links, node.rest = read_inline(
                        inline.children or [], base_url=self.base_url, notes=node.notes
                    )
                    self.blocks.append(_Block("heading", self.section, nodes=[node]))
                stack = []
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                if depth == 0:
                    self.blocks.append(_Block("list", self.section))
                depth += 1
            elif kind in ("bullet_list_close", "ordered_list_close"):
                depth -= 1
            elif kind == "list_item_open":
                number, raw = self.raw(token)
                node = _Node(number, raw, [], "", self.section, [])
                del stack[min(depth - 1, _MAX_DEPTH - 1) :]  # deeper ones are siblings
                (stack[-1].children if stack else self.blocks[-1].nodes).append(node)
                stack.append(node)
                unfilled = node  # its first paragraph is its content
            elif kind == "list_item_close":
                del stack[min(depth - 1, _MAX_DEPTH - 1) :]
            elif kind == "inline" and depth > 0 and stack:
                node = stack[-1]
                if unfilled is node:
                    # The item's first line is the paper, read as one line of text after its
                    # marker (so "1. > a" is the title "> a"); lines under it describe it.
                    children = token.children or []
                    cut = next(
                        (n for n, c in enumerate(children) if c.type in ("softbreak", "hardbreak")),
                        len(children),
                    )
                    notes: list[str] = []
                    node.links, node.rest = read_inline(
                        inline_tokens(_after_marker(self.markdown_lines[node.line - 1]), self.env),
                        base_url=self.base_url,
                        notes=notes,
                    )
                    node.notes = notes
                    self.tick()
                    if cut < len(children):
                        later = self.lines_of(
                            token, [Token("softbreak", "", 0), *children[cut + 1 :]]
                        )
                        node.paragraphs += later
                    unfilled = None
                else:
                    node.paragraphs += self.lines_of(token)
            elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
                self.lines_block().lines += self.lines_of(token)
            elif kind == "table_open":
                i = self.table(tokens, i)
                continue
            elif kind in ("fence", "code_block", "html_block") and depth == 0:
                number, _ = self.raw(token)
                if kind == "html_block":
                    self.html(token, number)
                else:
                    self.blocks.append(
                        _Block("code", self.section, line=number, text=token.content)
                    )
            i += 1

    def html(self, token: Token, number: int) -> None:
        """HTML copied into the list: its text and links, read as Markdown lines."""
        import nh3

        text = nh3.clean(token.content, tags={"a"}, attributes={"a": {"href"}}, link_rel=None)
        text = re.sub(r'<a href="([^"]*)">(.*?)</a>', r"[\2](\1)", text, flags=re.S)
        text = nh3.clean(text, tags=set())
        for offset, line in enumerate(text.split("\n")):
            if not line.strip():
                continue
            inline = _MD.parseInline(line)[0]
            inline.map = [number - 1 + offset, number + offset]
            for line_obj in self.lines_of(inline):
                line_obj.number = number + offset
                line_obj.raw = line.strip()
                self.lines_block().lines.append(line_obj)

    def table(self, tokens: list[Token], i: int) -> int:
        """A table's rows as list items: title cell first, link cells, then the others."""
        header: list[str] = []
        rows: list[tuple[int, list[Token]]] = []
        row: list[Token] = []
        in_head = False
        row_line = 0
        while i < len(tokens) and tokens[i].type != "table_close":
            token = tokens[i]
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open":
                row = []
                row_line = (token.map[0] + 1) if token.map else 0
            elif token.type == "inline":
                if in_head:
                    header.append(heading_text(token.children or [], 60).casefold())
                else:
                    row.append(token)
            elif token.type == "tr_close" and not in_head:
                rows.append((row_line, row))
            i += 1
        block = _Block("list", self.section)
        self.blocks.append(block)
        for number, cells in rows:
            raw = self.source_lines[number - 1] if 0 < number <= len(self.source_lines) else ""
            year, authors, parts = None, "", []
            for index, cell in enumerate(cells):
                name = header[index] if index < len(header) else ""
                notes: list[str] = []
                links, rest = read_inline(cell.children or [], base_url=self.base_url, notes=notes)
                words = Line(number, "", links, rest).words
                if (
                    name in ("#", "no", "no.", "number", "week", "session", "")
                    and (words.isdigit() or not words)
                    and not links
                ):
                    continue  # the row's number
                if name in ("year", "date", "published") and year_line(words[:4] or "x"):
                    year = year_line(words[:4])
                    continue
                if "author" in name or (name == "" and index > 0 and authors_line(words)):
                    authors = words
                    continue
                parts.append((links, rest, notes))
            if not parts:
                continue
            links, rest, notes = [], "", []
            for index, (cell_links, cell_rest, cell_notes) in enumerate(parts):
                offset = len(links)
                for link in cell_links:
                    links.append(link)
                cell_rest = _SLOTS.sub(
                    lambda m, shift=offset: chr(ord(m.group(0)) + shift), cell_rest
                )
                rest += (cell_rest if index == 0 else f" — {cell_rest}") if cell_rest else ""
                notes += cell_notes
            node = _Node(number, raw, [], "", self.section, notes)
            node.links, node.rest = _renumber(links, rest)
            node._table_fields = (year, authors)  # type: ignore[attr-defined]
            block.nodes.append(node)
        return i + 1


def _after_marker(line: str) -> str:
    """A list item's line without its marker ("- ", "1. ", "2) ") and any blockquote marks."""
    return _MARKER.sub("", line, count=1)


def _renumber(links: list, rest: str) -> tuple[list, str]:
    """Links and slots of joined cells, their positions recomputed."""
    previous_end = 0
    for match in _SLOTS.finditer(rest):
        link = links[ord(match.group(0)) - _SLOT]
        link.position = match.start()
        link.leading = _LEADING_LINK.fullmatch(rest, 0, match.start()) is not None
        link.after_dot = re.search(r"(?:^|\s)·\s*$", rest[previous_end : match.start()]) is not None
        previous_end = match.end()
    return links, rest


# --- From candidates to entries ----------------------------------------------------------------


@dataclass
class _Candidate:
    line: int
    raw: str
    item: _Item
    section: str
    words: str
    extra: list[Material] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    year: int | None = None
    authors: str = ""
    description: list[str] = field(default_factory=list)
    reason: str | None = None  # why it is skipped, None when it is a paper
    rest: str = ""  # the line's protected text, for `emphasized`

    @property
    def emphasized(self) -> bool:
        return _EMPHASIZED.match(self.rest) is not None


def _walk(node: _Node, found: list[_Candidate]) -> None:
    """The node's candidate, then its nested items that are papers of their own.

    An item with no link whose nested items have links is a label ("Week 1"): only the nested
    items count. Otherwise nested items with an arXiv ID are papers of their own, and the
    links of the other nested items (slides, a recording) belong to this item, their text to
    its description.
    """
    if not (node.item.arxiv_id or node.item.url) and any(c.has_paper() for c in node.children):
        for child in node.children:
            _walk(child, found)
        return
    candidate = _Candidate(node.line, node.raw, node.item, node.section, node.words)
    candidate.rest = node.rest
    candidate.notes = list(node.notes)
    year, authors = getattr(node, "_table_fields", (None, ""))
    candidate.year, candidate.authors = year, authors
    separate: list[_Node] = []

    def take_line(links, words: str, title: str, notes: list[str]) -> None:
        for link in links:
            label = _label(link.text, link.url)
            if link.text is None and len(links) == 1 and title:
                label = _finish_label(title, link.url)  # "- Notes: https://…"
            candidate.extra.append(Material(label=label, url=link.url))
        candidate.notes += notes
        if not links and words:
            if authors_line(words) and not candidate.authors:
                candidate.authors = words
            elif year_line(words) and candidate.year is None:
                candidate.year = year_line(words)
            else:
                candidate.description.append(words)

    def gather(children: list[_Node]) -> None:
        for child in children:
            if child.item.arxiv_id:
                separate.append(child)
                continue
            take_line(child.item.links, child.words, child.item.title, child.notes)
            for line in child.paragraphs:
                take_line(line.links, line.words, "", line.notes)
            gather(child.children)

    for line in node.paragraphs:
        take_line(line.links, line.words, "", line.notes)
    gather(node.children)
    found.append(candidate)
    for child in separate:
        _walk(child, found)


def _question_list(nodes: list[_Node]) -> list[str] | None:
    """The questions of a list of discussion questions, or None when the list is not one.

    Items are questions ("What is the big idea?"), or short headings each followed by a
    question ("Big Idea: what …?", or "**Relevance**" with the question nested under it).
    """
    if len(nodes) < 2:
        return None
    questions = []
    for node in nodes:
        if node.item.arxiv_id or node.item.url:
            return None
        words = node.words
        follow = [c.words for c in node.children] + [p.words for p in node.paragraphs]
        if words.endswith("?") and len(words) <= 300:
            questions.append(words)
            continue
        heading = words.rstrip(":").strip("* ")
        if len(heading.split()) <= _QUESTION_HEADING_WORDS and follow and follow[0].endswith("?"):
            questions.append(f"{heading}: {follow[0]}")
            continue
        head, _, rest = words.partition(":")
        if len(head.split()) <= _QUESTION_HEADING_WORDS and rest.strip().endswith("?"):
            questions.append(f"{head.strip('* ')}: {rest.strip()}")
            continue
        return None
    return questions


def _paper_headings(blocks: list[_Block]) -> set[int]:
    """The headings that name papers, in a post that gives each paper a heading ("## 1.
    Attention Is All You Need", then paragraphs): numbered ones or ones with a paper link,
    when there are at least three."""
    found = {
        id(block)
        for block in blocks
        if block.kind == "heading"
        and (_NUMBERED.match(block.nodes[0].rest) or block.nodes[0].has_paper())
        and not prose_reason(block.nodes[0].words, block.nodes[0].item)
    }
    return found if len(found) >= 3 else set()


def _describe(candidate: _Candidate, lines: list[Line]) -> None:
    """The paragraphs under a paper's heading: its link, materials and description."""
    for line in lines:
        item = read_item(line.links, line.rest)
        reason = prose_reason(line.words, item) or ""
        if reason.startswith(_NOT_DESCRIPTION) and not (item.arxiv_id or item.url):
            continue
        paper = candidate.item
        for link in line.links:
            if not (paper.arxiv_id or paper.url) and (link.arxiv_id or _is_generic_link(link)):
                paper.arxiv_id = link.arxiv_id
                paper.url = arxiv_url(link.arxiv_id) if link.arxiv_id else link.url
                continue
            if paper.arxiv_id and link.arxiv_id == paper.arxiv_id:
                continue
            candidate.extra.append(Material(label=_label(link.text, link.url), url=link.url))
        words = _takeaway_text(_SLOTS.sub(" ", line.rest))
        before_link = line.links and line.words.endswith(":") and len(words.split()) <= 4
        if _is_generic(words) or before_link:
            continue  # "Read it here:" before the link
        if words and not authors_line(words) and len(candidate.description) < 20:
            candidate.description.append(words)
        elif words and authors_line(words) and not candidate.authors:
            candidate.authors = words


def _is_generic_link(link) -> bool:
    return link.text is not None and _is_generic(_restore(link.text))


def _lists_papers(block: _Block) -> bool:
    """Whether a list holds papers (not only rules, links or prose)."""
    for node in block.nodes:
        if node.has_paper():
            return True
        emphasized = _EMPHASIZED.match(node.rest) is not None
        reason = prose_reason(node.words, node.item, emphasized=emphasized)
        if node.item.title and not reason and not _rules_section(node.section):
            return True
    return False


def _rules_section(section: str) -> bool:
    return _RULES_SECTION.search(section) is not None


def _candidates_of_lines(
    lines: list[Line], section: str, in_list_document: bool, titles: list[str]
):
    """Candidates from paragraph lines: runs of a web page, or one line each. A web page's
    title is added to `titles`."""
    found: list[_Candidate] = []
    if is_web_copy(lines):
        runs, skipped, page_title = read_runs(lines)
        if page_title:
            titles.append(page_title)
        for run in runs:
            first = run.first
            candidate = _Candidate(first.number, first.raw, run.item, section, first.words)
            candidate.rest = first.rest
            candidate.year, candidate.authors = run.year, run.authors
            candidate.description = run.description
            candidate.notes = list(run.first.notes)
            for line in run.links:
                for link in line.links:
                    candidate.extra.append(
                        Material(label=_label(link.text, link.url), url=link.url)
                    )
            found.append(candidate)
        for line, reason in skipped:
            item = read_item(line.links, line.rest)
            found.append(
                _Candidate(line.number, line.raw, item, section, line.words, reason=reason)
            )
        found.sort(key=lambda c: c.line)
        return found
    for line in lines:
        item = read_item(line.links, line.rest)
        candidate = _Candidate(line.number, line.raw, item, section, line.words, notes=line.notes)
        candidate.rest = line.rest
        if in_list_document:
            reason = prose_reason(line.words, item) if (item.title or item.arxiv_id) else None
            candidate.reason = reason or "a paragraph of text outside the list."
        found.append(candidate)
    return found


def _base_url_in(text: str) -> str:
    """Where the list says it lives: "this list lives at …", else its GitHub repository."""
    for line in text.split("\n"):
        if match := _LIVES_AT.search(line):
            url = match.group(1)
            return url if url.endswith("/") else url + "/"
    if match := _GITHUB.search(text):
        owner, repo = match.groups()
        if owner not in ("orgs", "topics", "features", "sponsors"):
            return f"https://github.com/{owner}/{repo}/blob/main/"
    return ""


def _key(title: str, arxiv_id: str | None, url: str) -> tuple[str, str]:
    if arxiv_id:
        return ("arxiv", arxiv_id)
    if url:
        return ("url", _url_key(url))
    return ("title", title.casefold())


def _entry(candidate: _Candidate) -> Entry:
    item = candidate.item
    title = item.title
    takeaway, summary = item.takeaway, ""
    description = " ".join(d for d in candidate.description if d)
    if description:
        if not takeaway and len(description) <= TAKEAWAY_MAX:
            takeaway = description
        else:
            summary = description
    if item.long_text:
        summary = f"{item.long_text} {summary}".strip()
    materials, seen = [], {_url_key(item.url)} if item.url else set()
    for material in [*item.materials, *candidate.extra]:
        if item.arxiv_id and normalize_arxiv_id(material.url) == item.arxiv_id:
            continue
        if _url_key(material.url) not in seen:
            seen.add(_url_key(material.url))
            materials.append(material)
    return Entry(
        line=candidate.line,
        title=title[:TITLE_MAX],
        arxiv_id=item.arxiv_id,
        url=item.url,
        takeaway=takeaway,
        materials=tuple(materials),
        section=candidate.section,
        sections=(candidate.section,) if candidate.section else (),
        authors=(candidate.authors or item.authors)[:300],
        year=candidate.year or item.year,
        summary=summary,
        notes=tuple(dict.fromkeys(candidate.notes)),
        alternatives=tuple(item.alternatives) if not item.url and not item.arxiv_id else (),
    )


def parse_reading_list(text: str, *, base_url: str = "") -> ParsedList:
    """The papers in a reading list, the lines skipped (and why), and the questions found.

    A paper's title comes from its link's text, else from leading bold, italic or quoted
    text, else from the text before ":" or a dash, else from the whole line. An entry with an
    arXiv ID but no usable title gets the title "" (to be filled from arXiv). A paper listed
    in several sections is one entry in all of them; listed twice in one section, the second
    is a Problem. Relative links are resolved against `base_url`, else kept as notes.

    Raises ReadingListError when the text is larger than MAX_BYTES, holds more than
    MAX_ENTRIES papers, or holds none.
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ReadingListError(_TOO_LARGE)
    text = _latex_as_text(_clean_input(text.removeprefix("\ufeff")))
    written = text.split("\n")
    text = _PASTED_BULLET.sub(r"\1- ", _PASTED_NUMBER.sub(r"\1\2) ", text))
    env: dict = {}
    tokens = _MD.parse(text, env)
    headings = [i for i, t in enumerate(tokens) if t.type == "heading_open"]
    level_one = [i for i in headings if tokens[i].tag == "h1"]
    title_index = level_one[0] if len(level_one) == 1 and level_one[0] == 0 else None
    if title_index is None and headings == [0] and tokens[0].markup in ("=", "-"):
        title_index = 0  # one underlined heading, first: the list's name, whatever its level
    title = heading_text(tokens[1].children or [], TITLE_MAX) if title_index is not None else ""

    reader = _Reader(written, text.split("\n"), base_url, env)
    reader.walk(tokens, title_index)
    in_list_document = any(
        block.kind == "list" and _question_list(block.nodes) is None and _lists_papers(block)
        for block in reader.blocks
    )

    candidates: list[_Candidate] = []
    page_titles: list[str] = []
    questions: list[str] = []
    skipped_questions: list[Problem] = []
    paper_headings = _paper_headings(reader.blocks) if not in_list_document else set()
    current: _Candidate | None = None  # the paper a heading names, in a post of headings
    for block in reader.blocks:
        if block.kind == "heading":
            current = None
            if id(block) in paper_headings:
                node = block.nodes[0]
                node.rest = _NUMBERED.sub("", node.rest, count=1)
                node._item = None
                current = _Candidate(node.line, node.raw, node.item, "", node.words)
                current.rest = node.rest
                candidates.append(current)
            continue
        if block.kind == "lines" and current is not None:
            _describe(current, block.lines)
            continue
        if block.kind == "code":
            first = next((line for line in block.text.split("\n") if line.strip()), "")
            if first:
                reason = (
                    "part of a citation block (BibTeX)."
                    if re.match(r"\s*@\w+\s*[{(]", first)
                    else "a code block."
                )
                candidates.append(
                    _Candidate(block.line, first, _Item(), block.section, first, reason=reason)
                )
            continue
        if block.kind == "lines":
            candidates += _candidates_of_lines(
                block.lines, block.section, in_list_document, page_titles
            )
            continue
        asked = _question_list(block.nodes)
        if asked is not None:
            questions += asked
            for node in block.nodes:
                skipped_questions.append(
                    Problem(
                        node.line,
                        node.raw.strip()[:_PROBLEM_TEXT_MAX],
                        NOT_A_PAPER + "a discussion question (offered as the club's questions).",
                    )
                )
            continue
        found: list[_Candidate] = []
        for node in block.nodes:
            _walk(node, found)
        candidates += found

    title = title or (page_titles[0][:TITLE_MAX] if page_titles else "")
    return _assemble(title, candidates, questions, skipped_questions, text, base_url)


def _assemble(title, candidates, questions, skipped_questions, text, base_url) -> ParsedList:
    entries: list[Entry] = []
    problems: list[Problem] = []
    skipped: list[Problem] = list(skipped_questions)
    first: dict[tuple[str, str], int] = {}  # key -> index in entries
    in_order = _IN_ORDER.search(text) is not None
    for candidate in candidates:
        item = candidate.item
        problem_text = candidate.raw.strip()[:_PROBLEM_TEXT_MAX] or candidate.words[:200]
        reason = candidate.reason
        if reason is None and (item.title or item.arxiv_id):
            reason = prose_reason(candidate.words, item, emphasized=candidate.emphasized)
        if reason is None and not (item.arxiv_id or item.url) and _rules_section(candidate.section):
            reason = f"an item under “{candidate.section}”, about the club."
        if reason is not None:
            entry = _entry(candidate) if (item.title or item.arxiv_id) else None
            skipped.append(Problem(candidate.line, problem_text, NOT_A_PAPER + reason, entry))
            continue
        if not item.title and not item.arxiv_id:
            has_links = bool(item.links or candidate.extra)
            reason = _NO_TITLE if has_links else _NOTHING
            problems.append(Problem(candidate.line, problem_text, reason))
            continue
        key = _key(item.title, item.arxiv_id, item.url)
        if key in first:
            index = first[key]
            earlier = entries[index]
            if candidate.section and candidate.section not in earlier.sections:
                entries[index] = replace(earlier, sections=(*earlier.sections, candidate.section))
                continue
            reason = f"Already listed on line {earlier.line}."
            problems.append(Problem(candidate.line, problem_text, reason))
            continue
        first[key] = len(entries)
        entries.append(_entry(candidate))
        if len(entries) > MAX_ENTRIES:
            raise ReadingListError(
                f"The list has more than {MAX_ENTRIES:,} papers. Split it into smaller lists."
            )
    if not entries and not any(p.entry for p in skipped):
        raise ReadingListError("No papers were found in this list.")
    if in_order and entries and not any(e.section for e in entries):
        track = (title or "Reading order")[:_SECTION_MAX]
        entries = [replace(e, section=track, sections=(track,)) for e in entries]
    used = {s for entry in entries for s in entry.sections}
    sections = tuple(dict.fromkeys(c.section for c in candidates if c.section in used))
    problems.sort(key=lambda p: p.line)
    skipped.sort(key=lambda p: p.line)
    has_notes = any(e.notes for e in entries)
    return ParsedList(
        title=title,
        entries=tuple(entries),
        problems=tuple(problems),
        sections=sections,
        skipped=tuple(skipped),
        questions=tuple(dict.fromkeys(questions)),
        base_url=base_url or (_base_url_in(text) if has_notes else ""),
    )


__all__ = ["ParsedList", "ReadingListError", "parse_reading_list"]
