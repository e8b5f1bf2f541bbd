"""Read a club's reading list and write one back out: pure functions, no database.

`parse_reading_list` understands the shapes clubs keep their lists in: a Markdown README
(a numbered list of links with slides, recordings and chat links), themed sections under
headings, plain "Title: takeaway" lines, and messy text pasted from web pages. It returns
the papers it found and, line by line, what it could not use.

`to_markdown` writes a GitHub README that `parse_reading_list` reads back to the same
entries; `to_bibtex` writes a .bib file for reference managers.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from paperclub.text import strip_control
from papers.identifiers import arxiv_url, normalize_arxiv_id, normalize_url

MAX_BYTES = 512 * 1024
MAX_ENTRIES = 2000
TAKEAWAY_MAX = 200  # longer text after the title is not kept as a takeaway
TITLE_MAX = 300

_SECTION_MAX = 100
_LABEL_MAX = 120  # sessions.Material.label
_PROBLEM_TEXT_MAX = 200
# List items (nested ones too) or lines read at most: a bound on the time a 512 KB file takes.
_MAX_ITEMS = 5 * MAX_ENTRIES
_MAX_DEPTH = 16  # deeper list items count as siblings of the deepest


class ReadingListError(ValueError):
    """The whole input cannot be read as a reading list; `message` is a sentence for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Material:
    label: str
    url: str


@dataclass(frozen=True)
class Entry:
    line: int  # 1-based line number where the item starts
    title: str
    arxiv_id: str | None
    url: str  # arXiv abs URL when arxiv_id; else the first link that is not a material; else ""
    takeaway: str  # "" when none or longer than TAKEAWAY_MAX
    materials: tuple[Material, ...]
    section: str  # the heading above it, "" when none


@dataclass(frozen=True)
class Problem:
    line: int
    text: str  # the offending line, at most 200 characters
    reason: str  # a sentence for the user


@dataclass(frozen=True)
class ParsedList:
    title: str  # a single leading level-1 heading, "" if none
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    sections: tuple[str, ...]  # in order of first appearance, only those with entries


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


_TOO_LARGE = "The file is larger than 512 KB."
_NO_TITLE = "No title could be found on this line."
_NOTHING = "This line has no paper link or title."


# --- Upload -----------------------------------------------------------------------------------


def decode_upload(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (a byte-order mark is dropped), at most MAX_BYTES.

    Raises ReadingListError for a file that is too large, binary, or in another encoding.
    """
    if len(data) > MAX_BYTES:
        raise ReadingListError(_TOO_LARGE)
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadingListError(
            "The file is not UTF-8 text (it is UTF-16). Save it as UTF-8 and upload it again."
        )
    if b"\x00" in data or data.startswith((b"%PDF-", b"PK\x03\x04")):
        raise ReadingListError(
            "This looks like a binary file (a PDF, a Word document, an image). "
            "Upload the Markdown or plain-text file instead."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReadingListError(
            "The file is not UTF-8 text. Save it as UTF-8 and upload it again."
        ) from None
    # Text has a control character here and there at most; a file full of them is not text.
    controls = len(text) - len(strip_control(text))
    if controls > max(8, len(text) // 100):
        raise ReadingListError(
            "This looks like a binary file, not text. Upload the Markdown or plain-text file."
        )
    return text


# --- Escapes ----------------------------------------------------------------------------------
#
# While a line is parsed, a character written with a Markdown escape (\* or \[) or an HTML
# entity (&lt; or &#8212;) becomes a private-use stand-in that none of the patterns below
# match, so it stays part of the text; `_restore` turns stand-ins back at the end. This is
# also how `to_markdown` keeps titles exactly as they are.

_SPECIAL = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~—–·•‣◦▪●“”‘’«»„"  # noqa: RUF001
_PROTECT = {char: chr(0xF0000 + i) for i, char in enumerate(_SPECIAL)}
_RESTORE = str.maketrans({stand_in: char for char, stand_in in _PROTECT.items()})
# Link slots: one private-use character per link found on a line.
_SLOT = 0xF1000
_MAX_LINKS = 0xFFFFD - _SLOT
_SLOTS = re.compile("[\U000f1000-\U000ffffd]")
# Planes 15 and 16 are private use; nobody types them, and the parser needs them itself.
_PRIVATE = re.compile("[\U000f0000-\U0010ffff]")
_ESCAPE = re.compile(
    r"\\([!-/:-@\[-`{-~])|&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot|apos|nbsp);"
)
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "nbsp": " "}


def _clean_input(text: str) -> str:
    text = _PRIVATE.sub("", strip_control(text))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _unescape(match: re.Match) -> str:
    if match.group(1):
        return _PROTECT[match.group(1)]
    name = match.group(2)
    if name in _ENTITIES:
        char = _ENTITIES[name]
    else:
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return ""
        char = _clean_input(chr(code))
    return _PROTECT.get(char, char)


def _protect(text: str) -> str:
    return _ESCAPE.sub(_unescape, text)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- Lines ------------------------------------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_CLOSING_HASHES = re.compile(r"(?:^|\s)#+$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_LIST_ITEM = re.compile(
    r"^([ \t]*)"
    r"(?:[-*+–](?=[ \t]|$)|[•‣◦▪●]|\d{1,9}[.)](?=[ \t]|$)|\(\d{1,9}\)(?=[ \t]|$))"  # noqa: RUF001
    r"[ \t]*(.*)$"
)

# --- Links and identifiers --------------------------------------------------------------------

_IMAGE = re.compile(r"!\[([^\[\]\n]*+)\]\((?:[^\s()]|\([^\s()]*+\))*+\)")
_LINK = re.compile(
    r"\[(?P<text>[^\[\]\n]*+)\]\(\s*+"
    r"(?P<dest><[^<>\n]*+>|(?:[^\s()<>]|\([^\s()<>]*+\))++)"
    r"(?:\s++(?:\"[^\"\n]*+\"|'[^'\n]*+'))?\s*+\)"
    r"|<(?P<auto>https?://[^\s<>]++)>",
    re.IGNORECASE,
)
_BARE_URL = re.compile(
    r"(?<![\w/@])https?://[^\s<>\[\]\"`—–·•\U000f0000-\U0010ffff]++",  # noqa: RUF001
    re.IGNORECASE,
)
_URL_TRAIL = ".,;:!?'\"*_~"

_ARCHIVES = (
    "acc-phys|adap-org|alg-geom|ao-sci|astro-ph|atom-ph|bayes-an|chao-dyn|chem-ph|cmp-lg|"
    "comp-gas|cond-mat|cs|dg-ga|funct-an|gr-qc|hep-ex|hep-lat|hep-ph|hep-th|math-ph|math|"
    "mtrl-th|nlin|nucl-ex|nucl-th|patt-sol|physics|plasm-ph|q-alg|q-bio|q-fin|quant-ph|"
    "solv-int|stat|supr-con"
)
# An arXiv ID written in the text: "arXiv:1706.03762", "2305.18290v2", "hep-th/9901001",
# "arxiv.org/abs/…" without a scheme. A new-style ID needs a real month (YYMM), which keeps
# out numbers like 2023.12345.
_TEXT_ID = re.compile(
    r"(?:(?:www\.)?(?:export\.)?(?:arxiv\.org|huggingface\.co|alphaxiv\.org)"
    r"/(?:abs|pdf|html|papers|overview)/|\barxiv\s*:\s*)?"
    r"(?<![\w.])(?P<id>\d\d(?:0[1-9]|1[0-2])\.\d{4,5}"
    r"|(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Z]{2})?/\d{7})"
    r"(?:v\d+)?(?:\.pdf)?(?!\w|\.\d)",
    re.IGNORECASE,
)
_ARCHIVE_NAMES = set(_ARCHIVES.split("|"))

# Words a link to the paper itself is labelled with, and words of material labels.
_GENERIC = {"paper", "pdf", "arxiv", "link", "abs", "abstract", "here", "url", "html"}
_GENERIC |= {"preprint", "openreview", "full", "text", "read", "the", "this", "view"}
_MATERIAL_WORDS = {"slides", "slide", "deck", "recording", "recordings", "video", "videos"}
_MATERIAL_WORDS |= {"youtube", "vimeo", "discord", "chat", "thread", "code", "github"}
_MATERIAL_WORDS |= {"gitlab", "repo", "repository", "notes", "blog", "post", "tweet"}
_MATERIAL_WORDS |= {"twitter", "podcast", "audio", "transcript", "colab", "notebook", "demo"}
_MATERIAL_WORDS |= {"website", "homepage", "discussion", "talk", "livestream", "stream"}
_FILLER = {"the", "our", "session", "part", "and", "of", "pdf", "live", "google", "on", "full"}

_RECORDING_HOSTS = {"youtube.com", "m.youtube.com", "youtu.be", "vimeo.com", "loom.com"}
_CHAT_HOSTS = {"discord.com", "discord.gg", "discordapp.com", "ptb.discord.com"}
_CODE_HOSTS = {"github.com", "gist.github.com", "gitlab.com", "bitbucket.org"}
_SLIDE_HOSTS = {"docs.google.com", "slides.com", "speakerdeck.com", "slideshare.net"}

# --- Text around the links --------------------------------------------------------------------

_MARKER = re.compile(
    r"[\[(]\s*(?:pdf|arxiv|paper|link|abs|html|preprint|code|slides|video)\s*[\])]", re.IGNORECASE
)
_PARENTHETICAL = re.compile(r"\(([^()]*+)\)")
_AUTHOR_YEAR = re.compile(r"\bet\s+al\b|\b(?:19|20)\d\d\b", re.IGNORECASE)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_NOISE_GAP = re.compile(r"\s*\x00[\s\x00]*(?=[.,;:!?]|$)")
# Words a Title Case subtitle leaves in lower case.
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "of"}
_SMALL_WORDS |= {"on", "or", "over", "the", "to", "via", "vs", "with", "without", "are"}
_WORD = re.compile(r"[^\W\d_][\w'’-]*")  # noqa: RUF001
_EMPHASIS = re.compile(r"\*+|~~|`+|(?<!\w)_+|_+(?!\w)")
_QUOTES = "\"'“”‘’«»„"  # noqa: RUF001
_TITLE_EDGES = re.compile(
    rf"^[\s{_QUOTES}.,;:|·—–•\-]+|[\s{_QUOTES}.,;:|·—–\-]+$"  # noqa: RUF001
)
_TAKEAWAY_EDGES = re.compile(r"^[\s.,;:|·—–\-]+|[\s,;:|·—–\-]+$")  # noqa: RUF001
_SEPARATOR_RUN = re.compile(r"( [|·—–\-:])(?: [|·—–\-:])+(?= |$)")  # noqa: RUF001
# Between a plain title and its takeaway: "Title: takeaway", "Title — takeaway", "Title - …".
_SPLIT = re.compile(r"\s*—\s*|(?:^|\s)[–\-|·](?:\s|$)|:(?:\s|$)")  # noqa: RUF001
_LEADING_EMPHASIS = re.compile(
    r"^(?:\*\*(?P<b1>.+?)\*\*|__(?P<b2>.+?)__(?!\w)"
    r"|\*(?P<i1>[^\s*](?:.*?[^\s*])?)\*(?!\*)|_(?P<i2>[^\s_](?:.*?[^\s_])?)_(?!\w)"
    r"|[\"“„«‘](?P<q>.+?)[\"”“»’])"  # noqa: RUF001
)
_LEADING_LINK = re.compile(rf"[\s*_{_QUOTES}]*")
_URLISH = re.compile(r"\s*(?:[a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_INTRO = re.compile(r":\s*$")


def _text_ids(text: str) -> list[tuple[int, int, str]]:
    """Start, end and canonical ID of each arXiv ID written in `text`."""
    found = []
    for match in _TEXT_ID.finditer(text):
        archive, arxiv_id = match.group("archive"), normalize_arxiv_id(match.group("id"))
        if archive is None and arxiv_id:
            # Four-digit numbers ran until 1412, five-digit ones since 1501.
            month, number = arxiv_id.split(".")
            plausible = (len(number) == 5) == (month >= "1501")
        else:
            plausible = archive is not None and archive.lower() in _ARCHIVE_NAMES
        if arxiv_id and plausible:
            found.append((match.start(), match.end(), arxiv_id))
    return found


def _without_ids(text: str) -> str:
    pieces, end = [], 0
    for start, stop, _ in _text_ids(text):
        pieces += [text[end:start], " "]
        end = stop
    return "".join([*pieces, text[end:]])


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _has_alnum(text: str) -> bool:
    return re.search(r"[^\W_]", text) is not None


def _is_generic(text: str) -> bool:
    words = _words(text)
    return bool(words) and all(word in _GENERIC for word in words)


def _is_material_label(text: str) -> bool:
    words = _words(text)
    return (
        bool(words)
        and all(word in _MATERIAL_WORDS or word in _FILLER or word.isdigit() for word in words)
        and any(word in _MATERIAL_WORDS for word in words)
    )


def _is_web_url(url: str) -> bool:
    if not url or any(char.isspace() for char in url) or _clean_input(url) != url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _url_key(url: str) -> str:
    try:
        return normalize_url(url)
    except ValueError:
        return url


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def _guess_label(url: str) -> str:
    """A label for a bare link to a material, from where it points."""
    host = _host(url)
    if host in _RECORDING_HOSTS or host.endswith(".youtube.com"):
        return "Recording"
    if host in _CHAT_HOSTS:
        return "Chat"
    if host in _CODE_HOSTS:
        return "Code"
    path = urlsplit(url).path.lower() if host else ""
    if (
        host in _SLIDE_HOSTS
        or "slides" in host
        or (path.endswith(".pdf") and normalize_arxiv_id(url) is None)
    ):
        return "Slides"
    return host or "Link"


def _looks_like_material(url: str) -> bool:
    """Whether a link with no telling label points at a material rather than a paper.

    A PDF does not count: papers are PDFs too.
    """
    host = _host(url)
    return _guess_label(url) in ("Recording", "Chat", "Code") or (
        host in _SLIDE_HOSTS or "slides" in host
    )


def _finish_label(text: str, url: str) -> str:
    if text and not _DOMAIN.fullmatch(text):  # "example.com" keeps its spelling
        text = text[0].upper() + text[1:]
    text = text[:_LABEL_MAX].rstrip()
    return _guess_label(url) if not text or _URLISH.match(text) else text


def _label(text: str | None, url: str) -> str:
    """A material's label from its (protected) link text, or guessed from the URL."""
    if text is None or _URLISH.match(text):
        return _guess_label(url)
    return _finish_label(_collapse(_restore(_EMPHASIS.sub("", text))), url)


def _strip_noise(text: str) -> str:
    """Remove "[pdf]"-style markers and "(Vaswani et al., 2017)"-style parentheticals."""
    text = _MARKER.sub("\x00", text)
    text = _PARENTHETICAL.sub(
        lambda match: "\x00" if _AUTHOR_YEAR.search(match.group(1)) else match.group(0), text
    )
    text = _EMPTY_BRACKETS.sub("\x00", text)
    # "more tokens (arXiv 2203.15556)." loses the space before the full stop too.
    return _NOISE_GAP.sub("", text).replace("\x00", " ")


def _split_title(text: str) -> tuple[str, str]:
    """A plain line's title and the rest: split at the first ":" or dash between them.

    A colon followed by a Title Case subtitle ("QLoRA: Efficient Finetuning of Quantized
    LLMs") is part of the title; one followed by an ordinary sentence is not.
    """
    splits = list(_SPLIT.finditer(text))
    for i, split in enumerate(splits):
        if split.group(0).strip() == ":":
            end = splits[i + 1].start() if i + 1 < len(splits) else len(text)
            if _is_subtitle(text[split.end() : end]):
                continue
        return text[: split.start()], text[split.end() :]
    return text, ""


def _is_subtitle(text: str) -> bool:
    text = _restore(text).strip()
    words = [word for word in _WORD.findall(text) if word.lower() not in _SMALL_WORDS]
    return bool(words) and not text.endswith(".") and all(word[0].isupper() for word in words)


def _clean_title(text: str) -> str:
    text = _EMPHASIS.sub("", _strip_noise(text))
    text = _TITLE_EDGES.sub("", _collapse(text))
    text = _collapse(_restore(text))[:TITLE_MAX].rstrip()
    return text if _has_alnum(text) else ""


def _clean_takeaway(text: str) -> str:
    text = _collapse(_EMPHASIS.sub("", _strip_noise(text)))
    text = _TAKEAWAY_EDGES.sub("", _SEPARATOR_RUN.sub(r"\1", text))
    text = _collapse(_restore(text))
    return text if len(text) <= TAKEAWAY_MAX else ""


def _clean_heading(text: str, limit: int) -> str:
    text = _CLOSING_HASHES.sub("", text.rstrip())
    text = _LINK.sub(lambda match: match.group("auto") or match.group("text"), _protect(text))
    return _collapse(_restore(_EMPHASIS.sub("", text)))[:limit].rstrip()


def _link_text_title(text: str) -> str:
    """The title in a link's (protected) text, or "" when the text is a URL, ID or "paper"."""
    if _URLISH.match(text):
        return ""
    title = _clean_title(_without_ids(text))
    return "" if _is_generic(title) else title


# --- One item ---------------------------------------------------------------------------------


@dataclass
class _Link:
    text: str | None  # protected link text; None for a bare URL
    url: str
    arxiv_id: str | None = None
    position: int = 0  # where its slot is in the line
    leading: bool = False  # nothing but emphasis or quotes before it
    after_dot: bool = False  # written after a " · " separator: a material


@dataclass
class _Item:
    title: str = ""
    arxiv_id: str | None = None
    url: str = ""
    takeaway: str = ""
    materials: list[Material] = field(default_factory=list)
    links: list[_Link] = field(default_factory=list)


def _find_links(content: str) -> tuple[list[_Link], str]:
    """The links in a protected line, in order, and the line with one slot for each link."""
    links: list[_Link] = []

    def slot(link: _Link) -> str:
        links.append(link)
        return chr(_SLOT + len(links) - 1)

    def markdown(match: re.Match) -> str:
        if match.group("auto") is not None:
            text, dest = None, match.group("auto")
        else:
            text, dest = match.group("text"), match.group("dest")
            if dest.startswith("<"):
                dest = dest[1:-1]
        url = _restore(dest).strip()
        if len(links) >= _MAX_LINKS or not _is_web_url(url):
            return text or ""  # not a link we can use (javascript:, a relative path): its words
        return slot(_Link(text=text, url=url))

    def bare(match: re.Match) -> str:
        url = match.group(0)
        while url and (
            url[-1] in _URL_TRAIL or (url[-1] == ")" and url.count(")") > url.count("("))
        ):
            url = url[:-1]
        tail = match.group(0)[len(url) :]
        if len(links) >= _MAX_LINKS or not _is_web_url(_restore(url)):
            return match.group(0)
        return slot(_Link(text=None, url=_restore(url))) + tail

    rest = _IMAGE.sub(lambda match: match.group(1), content)
    rest = _BARE_URL.sub(bare, _LINK.sub(markdown, rest))
    ordered = []
    previous_end = 0
    for match in _SLOTS.finditer(rest):
        link = links[ord(match.group(0)) - _SLOT]
        link.position = match.start()
        link.leading = _LEADING_LINK.fullmatch(rest, 0, match.start()) is not None
        link.after_dot = re.search(r"(?:^|\s)·\s*$", rest[previous_end : match.start()]) is not None
        link.arxiv_id = normalize_arxiv_id(link.url)
        previous_end = match.end()
        ordered.append(link)
    return ordered, rest


def _is_paper_link(link: _Link) -> bool:
    """For a line without an arXiv ID: does this link point at the paper or at a material?"""
    if link.after_dot:
        return False
    if link.text is not None:
        if _is_generic(_restore(link.text)):
            return True
        if _is_material_label(_restore(link.text)):
            return False
        if link.leading:
            return True
    return not _looks_like_material(link.url)


def _parse_item(content: str) -> _Item:
    """Title, arXiv ID, link, takeaway and materials of one item (its list marker removed)."""
    links, rest = _find_links(_protect(content))
    item = _Item(links=links)

    # The first arXiv ID on the line, wherever it is written, is the paper's.
    found = [(link.position, link.arxiv_id) for link in links if link.arxiv_id]
    for link in links:
        found += [(link.position, arxiv_id) for _, _, arxiv_id in _text_ids(link.text or "")]
    found += [(start, arxiv_id) for start, _, arxiv_id in _text_ids(rest)]
    item.arxiv_id = min(found)[1] if found else None

    paper = None
    others = []
    for link in links:
        if item.arxiv_id:
            if link.arxiv_id == item.arxiv_id:
                if paper is None:
                    paper = link
                continue  # another link to the same paper (its PDF, its Hugging Face page)
        elif paper is None and _is_paper_link(link):
            paper = link
            continue
        others.append(link)
    if item.arxiv_id:
        item.url = arxiv_url(item.arxiv_id)
    elif paper:
        item.url = paper.url

    text = _strip_noise(_SLOTS.sub(" ", _without_ids(rest)))
    title = _link_text_title(paper.text) if paper and paper.text is not None else ""
    if not title and item.arxiv_id and others and others[0].leading and others[0].text:
        # "[Mamba](github…) ([paper](arxiv…))": the title is on the project's link.
        candidate = others[0]
        if not _is_material_label(_restore(candidate.text)):
            title = _link_text_title(candidate.text)
            if title:
                others[0] = _Link(text=None, url=candidate.url)
    if title:
        item.title, item.takeaway = title, _clean_takeaway(text)
    else:
        text = text.strip()
        emphasis = _LEADING_EMPHASIS.match(text)
        inner = next((group for group in emphasis.groups() if group), "") if emphasis else ""
        if emphasis and _clean_title(inner):
            item.title = _clean_title(inner)
            item.takeaway = _clean_takeaway(text[emphasis.end() :])
        else:
            before, after = _split_title(text)
            item.title = _clean_title(before)
            if _is_generic(item.title):
                item.title = ""
            item.takeaway = _clean_takeaway(after)

    seen = {_url_key(item.url)} if item.url else set()
    for link in others:
        key = _url_key(link.url)
        if key not in seen:
            seen.add(key)
            item.materials.append(Material(label=_label(link.text, link.url), url=link.url))
    return item


# --- The document -----------------------------------------------------------------------------


@dataclass
class _Node:
    line: int
    raw: str
    content: str
    indent: int
    section: str
    children: list["_Node"] = field(default_factory=list)
    _item: _Item | None = None

    @property
    def item(self) -> _Item:
        if self._item is None:
            self._item = _parse_item(self.content)
        return self._item

    def has_paper(self) -> bool:
        return bool(self.item.arxiv_id or self.item.url) or any(
            child.has_paper() for child in self.children
        )


def _read_lines(text: str) -> tuple[str, list[_Node]]:
    """The document title and the entry candidates, nested as the list nests them."""
    lines = text.split("\n")
    kinds: list[tuple[str, re.Match | None]] = []
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
            kinds.append(("fence", None))
        elif in_fence or not line.strip():
            kinds.append(("blank", None))
        elif heading := _HEADING.match(line):
            kinds.append(("heading", heading))
        elif _THEMATIC_BREAK.match(line):
            kinds.append(("blank", None))
        elif item := _LIST_ITEM.match(line):
            kinds.append(("item", item))
        else:
            kinds.append(("prose", None))

    first = next((i for i, (kind, _) in enumerate(kinds) if kind not in ("blank", "fence")), None)
    level_one = [i for i, (kind, m) in enumerate(kinds) if kind == "heading" and len(m[1]) == 1]
    title_line = first if level_one == [first] else None
    title = _clean_heading(kinds[first][1][2] or "", TITLE_MAX) if title_line is not None else ""

    has_items = any(kind == "item" for kind, _ in kinds)
    roots: list[_Node] = []
    stack: list[_Node] = []
    section = ""
    for number, (line, (kind, match)) in enumerate(zip(lines, kinds, strict=True), start=1):
        if kind == "heading":
            if number - 1 != title_line:
                section = _clean_heading(match[2] or "", _SECTION_MAX)
            stack = []
        elif kind == "item":
            indent = len(match[1].expandtabs(4))
            if not match[2].strip():
                continue
            node = _Node(number, line, match[2], indent, section)
            while stack and (stack[-1].indent >= indent or len(stack) >= _MAX_DEPTH):
                stack.pop()
            (stack[-1].children if stack else roots).append(node)
            stack.append(node)
        elif kind == "prose":
            if has_items:
                # Prose at the margin ends a list; indented prose continues an item.
                if not line[:1].isspace():
                    stack = []
                continue
            if _INTRO.search(line) and not _text_ids(line) and "://" not in line:
                continue  # "Papers we keep coming back to:" introduces the list
            roots.append(_Node(number, line, line.strip(), 0, section))
    return title, roots


def _walk(node: _Node, found: list[tuple[_Node, list[Material]]]) -> None:
    """Add the node's entry to `found`, then its nested items that are papers of their own.

    An item with no link whose nested items have links is a label ("Week 1"): only the nested
    items count. Otherwise nested items with an arXiv ID are papers of their own, and the
    links of the other nested items (slides, a recording) belong to this item.
    """
    if not (node.item.arxiv_id or node.item.url) and any(c.has_paper() for c in node.children):
        for child in node.children:
            _walk(child, found)
        return
    extra: list[Material] = []
    separate: list[_Node] = []

    def gather(children: list[_Node]) -> None:
        for child in children:
            if child.item.arxiv_id:
                separate.append(child)
                continue
            for link in child.item.links:
                label = _label(link.text, link.url)
                if link.text is None and len(child.item.links) == 1 and child.item.title:
                    label = _finish_label(child.item.title, link.url)  # "- Notes: https://…"
                extra.append(Material(label=label, url=link.url))
            gather(child.children)

    gather(node.children)
    found.append((node, extra))
    for child in separate:
        _walk(child, found)


def _count(nodes: list[_Node]) -> int:
    return sum(1 + _count(node.children) for node in nodes)


def _key(title: str, arxiv_id: str | None, url: str) -> tuple[str, str]:
    if arxiv_id:
        return ("arxiv", arxiv_id)
    if url:
        return ("url", _url_key(url))
    return ("title", title.casefold())


def parse_reading_list(text: str) -> ParsedList:
    """The papers in a reading list, and the lines that could not be used.

    Headings make sections; a single level-1 heading on the first line is the list's title.
    When the text has list items, only they are papers; otherwise every line is. A paper's
    title comes from its link's text, else from leading bold, italic or quoted text, else from
    the text before ":" or a dash, else from the whole line. An entry with an arXiv ID but no
    usable title gets the title "" (to be filled from arXiv). A line with neither a title nor
    an arXiv ID is a Problem, and so is a paper listed a second time.

    Raises ReadingListError when the text is larger than MAX_BYTES, holds more than
    MAX_ENTRIES papers, or holds none.
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ReadingListError(_TOO_LARGE)
    title, roots = _read_lines(_clean_input(text.removeprefix("\ufeff")))
    if _count(roots) > _MAX_ITEMS:
        raise ReadingListError(
            f"The list has more than {_MAX_ITEMS:,} items. Split it into smaller lists."
        )
    found: list[tuple[_Node, list[Material]]] = []
    for root in roots:
        _walk(root, found)

    entries: list[Entry] = []
    problems: list[Problem] = []
    first_lines: dict[tuple[str, str], int] = {}
    for node, extra in found:
        item = node.item
        problem_text = node.raw.strip()[:_PROBLEM_TEXT_MAX]
        if not item.title and not item.arxiv_id:
            reason = _NO_TITLE if item.links or extra else _NOTHING
            problems.append(Problem(line=node.line, text=problem_text, reason=reason))
            continue
        key = _key(item.title, item.arxiv_id, item.url)
        if key in first_lines:
            reason = f"Already listed on line {first_lines[key]}."
            problems.append(Problem(line=node.line, text=problem_text, reason=reason))
            continue
        first_lines[key] = node.line
        materials = list(item.materials)
        seen = {_url_key(material.url) for material in materials}
        seen |= {_url_key(item.url)} if item.url else set()
        for material in extra:
            if normalize_arxiv_id(material.url) == item.arxiv_id and item.arxiv_id:
                continue
            if _url_key(material.url) not in seen:
                seen.add(_url_key(material.url))
                materials.append(material)
        entries.append(
            Entry(
                line=node.line,
                title=item.title,
                arxiv_id=item.arxiv_id,
                url=item.url,
                takeaway=item.takeaway,
                materials=tuple(materials),
                section=node.section,
            )
        )
        if len(entries) > MAX_ENTRIES:
            raise ReadingListError(
                f"The list has more than {MAX_ENTRIES:,} papers. Split it into smaller lists."
            )
    if not entries:
        raise ReadingListError("No papers were found in this list.")
    sections = tuple(dict.fromkeys(entry.section for entry in entries if entry.section))
    return ParsedList(
        title=title, entries=tuple(entries), problems=tuple(problems), sections=sections
    )


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


def _escape(text: str, everything: bool = False, lead: str = "", trail: str = "") -> str:
    """`text` for Markdown, read back as itself.

    Always escaped: backslashes, brackets, emphasis, "<" (so no HTML tag appears), entities,
    URLs, arXiv IDs, parentheticals the parser drops, and a first character in `lead` or a
    last one in `trail` (those the parser strips). With `everything`, all punctuation.
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
    return "".join(_escape_char(char) if i in marks else char for i, char in enumerate(text))


def _escape_url(url: str) -> str:
    url = re.sub(r"[\\()<>]", lambda match: "\\" + match.group(0), url)
    return _ENTITY_AHEAD.sub(r"\\&", url)


def _escape_prose(line: str) -> str:
    """A line of the introduction, plain text that stays a paragraph of text: no list item,
    heading, HTML, link or image (brackets and emphasis escaped; a bare http(s) address
    may still be linked by GitHub, which links no other scheme)."""
    marks = {i for i, char in enumerate(line) if char in "\\[]*_`~<!"}
    marks |= {match.start() for match in _ENTITY_AHEAD.finditer(line)}
    if line[0] in _PROTECT:
        marks.add(0)
    elif ordered := _ORDERED_MARKER.match(line):
        marks.add(ordered.start(1))
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
            attempts.append(f"{title}{tail}")
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
