"""One item of a reading list: its title, arXiv ID, link, takeaway and materials.

The document reader (`parse`) walks markdown-it's token tree; this module reads the inline
tokens of one item and decides, with plain text rules, which link is the paper, where the
title ends and what the takeaway is. No database.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pylatexenc.latex2text import LatexNodes2Text

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
    sections: tuple[str, ...] = ()  # every section that lists it (the first is `section`)
    authors: str = ""
    year: int | None = None
    summary: str = ""  # a description too long to be a takeaway
    notes: tuple[str, ...] = ()  # relative links kept as text, when no base URL was given
    # Other readings of a "Title: takeaway" line, (title, takeaway), for the catalog to pick.
    alternatives: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Problem:
    line: int
    text: str  # the offending line, at most 200 characters
    reason: str  # a sentence for the user
    entry: Entry | None = None  # what the line would import if a person ticks it in


@dataclass(frozen=True)
class ParsedList:
    title: str  # a single leading level-1 heading, "" if none
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    sections: tuple[str, ...]  # in order of first appearance, only those with entries
    skipped: tuple[Problem, ...] = ()  # lines that are not papers, each with its reason
    questions: tuple[str, ...] = ()  # a list of discussion questions found in the text
    base_url: str = ""  # where the list says it lives (a GitHub URL in its text), or ""


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


# --- Links and identifiers --------------------------------------------------------------------

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
# "( )" and "( , )": brackets that held only links, once the links are taken out.
_EMPTY_BRACKETS = re.compile(r"\([\s,;|/·]*\)|\[[\s,;|/·]*\]")
# "2024-01-10: ", "Week 3 - ", "Jan 31, 2024 — ": when the club read it, not the title.
_LEADING_DATE = re.compile(
    r"^\s*(?:(?:week|session|day|part)\s*\d{1,3}|\d{4}-\d\d-\d\d|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?)"
    r"\s*[:—–|.-]\s+(?=\S)",  # noqa: RUF001
    re.IGNORECASE,
)
_CLOSING_HASHES = re.compile(r"(?:^|\s)#+$")
_NEW_TAB = re.compile(r"\(?\s*opens? in (?:a )?new (?:tab|window)\s*\)?", re.IGNORECASE)
# LaTeX math written in a title: \(\text{REST}^{EM}\) or $\mathcal{O}(n)$, shown as text.
# Only spans with a command in them, so "(a)" escaped as "\(a\)" stays as it is.
_LATEX = re.compile(r"\\\((?P<a>.+?)\\\)|\$(?P<b>[^$\n]+?)\$")
_LATEX_COMMAND = re.compile(r"(?<!\\)\\[A-Za-z]+")
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


def _latex_as_text(text: str) -> str:
    if "\\" not in text:
        return text

    def plain(match: re.Match) -> str:
        inner = match.group("a") or match.group("b") or ""
        if not _LATEX_COMMAND.search(inner):
            return match.group(0)
        try:
            return _collapse(LatexNodes2Text(math_mode="verbatim").latex_to_text(inner))
        except Exception:  # pylatexenc raises several kinds on broken input
            return match.group(0)

    return _LATEX.sub(plain, text)


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
    """Remove "[pdf]"-style markers, "(Vaswani et al., 2017)"-style parentheticals and the
    "(opens in a new tab)" that links copied from web pages carry."""
    text = _NEW_TAB.sub("\x00", _MARKER.sub("\x00", text))
    text = _PARENTHETICAL.sub(
        lambda match: "\x00" if _AUTHOR_YEAR.search(match.group(1)) else match.group(0), text
    )
    text = _EMPTY_BRACKETS.sub("\x00", text)
    # "more tokens (arXiv 2203.15556)." loses the space before the full stop too.
    return _NOISE_GAP.sub("", text).replace("\x00", " ")


def _split_title(text: str) -> tuple[str, str]:
    """A plain line's title and the rest: the longest leading part that reads as a title.

    A colon or a spaced hyphen followed by a Title Case subtitle ("QLoRA: Efficient
    Finetuning of Quantized LLMs", "RWKV - Reinventing RNNs for the Transformer Era") is part
    of the title; one followed by an ordinary sentence is not. A short nickname before a
    colon ("InstructGPT: Training language models …: 40 labelers …") is part of the title
    when another separator follows: the full title runs to that one.
    """
    splits = list(_SPLIT.finditer(text))
    for i, split in enumerate(splits):
        mark = split.group(0).strip()
        end = splits[i + 1].start() if i + 1 < len(splits) else len(text)
        if mark in (":", "-", "–") and _is_subtitle(text[split.end() : end]):  # noqa: RUF001
            continue
        nickname = i == 0 and mark == ":" and len(splits) > 1
        nickname = nickname and len(_WORD.findall(text[split.end() : end])) >= 3
        if nickname and _is_nickname(text[: split.start()]):
            continue
        return text[: split.start()], text[split.end() :]
    return text, ""


def _is_nickname(text: str) -> bool:
    """ "InstructGPT", "GPT-4", "Chain-of-Thought": a name of one to three words."""
    text = _restore(text).strip(" *_")
    words = text.split()
    return (
        0 < len(words) <= 3
        and len(text) <= 40
        and all(w[0].isupper() or w[0].isdigit() for w in words)
    )


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
    text = _takeaway_text(text)
    return text if len(text) <= TAKEAWAY_MAX else ""


def _takeaway_text(text: str) -> str:
    text = _collapse(_EMPHASIS.sub("", _strip_noise(text)))
    text = _TAKEAWAY_EDGES.sub("", _SEPARATOR_RUN.sub(r"\1", text))
    return _collapse(_restore(text))


def _takeaway_of(item: "_Item", text: str) -> str:
    """The takeaway, or "" with the text kept in `item.long_text` when it is too long."""
    text = _takeaway_text(text)
    if len(text) > TAKEAWAY_MAX:
        item.long_text = text
        return ""
    return text


def _clean_heading(text: str, limit: int) -> str:
    """A heading's text, as the document reader reads the heading `# text`."""
    return heading_text(inline_tokens(_CLOSING_HASHES.sub("", text.rstrip())), limit)


def heading_text(tokens: Sequence[Token], limit: int) -> str:
    """A heading's words: links become their text, emphasis goes."""
    links, text = read_inline(tokens)
    for link in links:
        words = link.url if link.text is None else link.text
        text = text.replace(chr(_SLOT + links.index(link)), words)
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
    long_text: str = ""  # the text after the title when too long for a takeaway
    authors: str = ""  # from "(Vaswani et al., 2017)"
    year: int | None = None
    alternatives: list[tuple[str, str]] = field(default_factory=list)  # (title, takeaway)


def markdown_parser() -> MarkdownIt:
    """GitHub's dialect, as clubs write their READMEs: CommonMark, tables, strikethrough and
    bare links. Indented text is not code: pasted pages are indented at random.
    Link destinations are kept as written (not percent-encoded), so a link reads back as
    itself; `_is_web_url` decides what is a usable link.
    """
    md = MarkdownIt("gfm-like", {"linkify": True}).disable(["text_join", "code"])
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    md.normalizeLinkText = lambda url: url  # type: ignore[method-assign]
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_MD = markdown_parser()
_FORMATTING_TAG = re.compile(
    r"</?(?:a|b|i|em|strong|span|br|u|small|font|mark|cite)(?:\s[^<>]*)?/?>", re.IGNORECASE
)


def inline_tokens(content: str, env: dict | None = None) -> list[Token]:
    """The inline tokens of one line of Markdown (`env` holds the document's link
    reference definitions)."""
    tokens = _MD.parseInline(_latex_as_text(content), env if env is not None else {})
    return (tokens[0].children or []) if tokens else []


def _resolve(url: str, base_url: str) -> str:
    """A relative link made absolute against the list's base URL, or "" when it cannot be."""
    if not base_url or url.startswith(("#", "mailto:")) or ":" in url.split("/")[0]:
        return ""
    resolved = urljoin(base_url, url)
    return resolved if _is_web_url(resolved) else ""


def read_inline(
    tokens: Sequence[Token], *, base_url: str = "", notes: list[str] | None = None
) -> tuple[list[_Link], str]:
    """The links of a line's inline tokens, in order, and its text (escaped characters
    protected, emphasis written as "**" and "*") with one slot for each link.

    A relative link becomes a web link against `base_url`; without one its destination is
    added to `notes` and its words stay in the text.
    """
    links: list[_Link] = []
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "text":
            # A "*" or "_" the parser left as text is the author's, not emphasis: protected
            # like an escaped one, so cleaning the emphasis marks later keeps it.
            out.append("".join(_PROTECT.get(c, c) if c in "*_~" else c for c in token.content))
        elif kind == "text_special":
            text = _clean_input(token.content)
            out.append("".join(_PROTECT.get(char, char) for char in text))
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind in ("strong_open", "strong_close"):
            out.append("**")
        elif kind in ("em_open", "em_close"):
            out.append("*")
        elif kind in ("s_open", "s_close"):
            out.append("~~")
        elif kind == "code_inline":
            out.append("".join(_PROTECT.get(char, char) for char in token.content))
        elif kind == "image":
            out.append(token.content)
        elif kind == "link_open":
            end = next(
                (j for j in range(i + 1, len(tokens)) if tokens[j].type == "link_close"),
                len(tokens),
            )
            _, text = read_inline(tokens[i + 1 : end])
            href = str(token.attrGet("href") or "").strip()
            url = href if _is_web_url(href) else _resolve(href, base_url)
            if url and len(links) < _MAX_LINKS:
                auto = token.markup in ("autolink", "linkify")
                links.append(_Link(text=None if auto else text, url=url))
                out.append(chr(_SLOT + len(links) - 1))
            else:
                relative = href and not _is_web_url(href) and ":" not in href
                if notes is not None and relative:
                    notes.append(href)
                words = _restore(text)
                if not (relative and (_is_generic(words) or _is_material_label(words))):
                    out.append(text)  # not a link we can use (javascript:, a relative path)
            i = end
        elif kind == "html_inline" and not _FORMATTING_TAG.fullmatch(token.content):
            # Formatting tags copied from a page go; any other tag stays, as text.
            out.append("".join(_PROTECT.get(char, char) for char in token.content))
        i += 1
    rest = "".join(out)
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
    """Title, arXiv ID, link, takeaway and materials of one line of Markdown, as the list
    reader takes it: a line that reads as prose has no title."""
    from papers.reading_lists.text import prose_reason

    links, rest = read_inline(inline_tokens(content))
    item = read_item(links, rest)
    emphasized = re.match(r"\s*(?:\*|_|[\"“„«‘])", rest) is not None  # noqa: RUF001
    words = _collapse(_restore(_SLOTS.sub(" ", rest)))
    if item.title and prose_reason(words, item, emphasized=emphasized):
        item.title = ""
    return item


def read_item(links: list[_Link], rest: str) -> _Item:
    """Title, arXiv ID, link, takeaway and materials of one item, from `read_inline`."""
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

    rest = _LEADING_DATE.sub("", rest, count=1) if _LEADING_DATE.match(rest) else rest
    for match in _PARENTHETICAL.finditer(rest):
        inner = _collapse(_restore(_SLOTS.sub(" ", _without_ids(match.group(1)))))
        inner = re.sub(r"\barxiv\s*:?", "", inner, flags=re.IGNORECASE).strip()
        if _AUTHOR_YEAR.search(inner):
            years = re.findall(r"\b(?:19|20)\d\d\b", inner)
            item.year = int(years[-1]) if years else None
            names = re.sub(r"\b(?:19|20)\d\d\b", "", inner).strip(" ,;")
            item.authors = names if re.search(r"[^\W\d_]{2}", names) else ""
            break
    text = _strip_noise(_SLOTS.sub(" ", _without_ids(rest)))
    title = _link_text_title(paper.text) if paper and paper.text is not None else ""
    if not title and item.arxiv_id and others and others[0].leading and others[0].text:
        # "[Mamba](github…) ([paper](arxiv…))": the title is on the project's link.
        candidate = others[0]
        if not _is_material_label(_restore(candidate.text)):
            title = _link_text_title(candidate.text)
            if title:
                others[0] = _Link(text=None, url=candidate.url)
    if title and paper is not None:
        # "GPT-2: [Language Models are …](…)": a nickname before the title's link.
        before = _restore(rest[: paper.position]).strip(" *_")
        if before.endswith(":") and _is_nickname(before[:-1]):
            text = text.replace(_strip_noise(rest[: paper.position]), " ", 1)
    if title:
        item.title, item.takeaway = title, _takeaway_of(item, text)
    else:
        text = text.strip()
        emphasis = _LEADING_EMPHASIS.match(text)
        inner = next((group for group in emphasis.groups() if group), "") if emphasis else ""
        if emphasis and _clean_title(inner):
            item.title = _clean_title(inner)
            item.takeaway = _takeaway_of(item, text[emphasis.end() :])
        else:
            before, after = _split_title(text)
            item.title = _clean_title(before)
            if _is_generic(item.title):
                item.title = ""
            item.takeaway = _takeaway_of(item, after)
            # The other places the title could end, for the catalog to confirm one.
            for split in _SPLIT.finditer(text):
                other = _clean_title(text[: split.start()])
                if other and other != item.title:
                    rest = _takeaway_text(text[split.end() :])
                    item.alternatives.append((other, rest if len(rest) <= TAKEAWAY_MAX else ""))

    seen = {_url_key(item.url)} if item.url else set()
    for link in others:
        key = _url_key(link.url)
        if key not in seen:
            seen.add(key)
            item.materials.append(Material(label=_label(link.text, link.url), url=link.url))
    return item
