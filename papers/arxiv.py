"""Ask the arXiv API for a paper's title, authors, year and abstract.

The suggest form calls `fetch_metadata` to fill itself in when a member pastes an arXiv ID.
Every failure ends in an `ArxivError` whose `message` can be shown to the member as it is;
lookups by ID are not cached here (the catalog keeps what it fetched in the Paper row).
`search_title` finds the arXiv paper of a title typed without a link; its answers (found or
not) are kept in the Django cache, so a preview and the import after it ask once.
"""

import http.client
import logging
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.core.cache import cache

from papers.identifiers import arxiv_url, normalize_arxiv_id
from papers.titles import SEARCH_WORD, title_key, titles_match, without_nickname

logger = logging.getLogger(__name__)

# The same limits as the Paper model's columns.
TITLE_MAX = 300
AUTHORS_MAX = 1000
# An answer for one paper is a few kilobytes; anything near this is not one.
MAX_RESPONSE_BYTES = 1_000_000

_ATOM = "{http://www.w3.org/2005/Atom}"
# arXiv reports a bad ID as an entry whose id points here, not as an HTTP error.
_ERROR_ENTRY_ID = "http://arxiv.org/api/errors"
_YEAR = re.compile(r"^(\d{4})-")
_ET_AL = ", et al."

# Everything that a slow, broken or strange answer can raise on the way.
_FAILURES = (
    OSError,  # URLError, HTTPError, TimeoutError, ConnectionRefusedError, ssl.SSLError
    http.client.HTTPException,  # a connection cut mid-answer (IncompleteRead, BadStatusLine)
    ParseError,
    DefusedXmlException,  # entities or external references in the XML
    UnicodeDecodeError,
    ValueError,  # a malformed URL in ARXIV_API_URL, an answer we cannot use
)


class ArxivError(Exception):
    """A lookup that gave no details; `message` is a sentence to show the member."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ArxivUnavailable(ArxivError):
    """arXiv did not answer in time, or answered with something that is not a paper."""

    def __init__(
        self, message: str = "arXiv could not be reached just now; type the details yourself."
    ):
        super().__init__(message)


class ArxivNotFound(ArxivError):
    """arXiv answered, and has no paper with that ID."""

    def __init__(self, arxiv_id: str):
        super().__init__(f"arXiv has no paper with the ID {arxiv_id}.")
        self.arxiv_id = arxiv_id


@dataclass(frozen=True)
class ArxivMetadata:
    arxiv_id: str
    title: str
    authors: str
    year: int | None
    abstract: str
    url: str


def fetch_metadata(arxiv_id: str, *, timeout: float | None = None) -> ArxivMetadata:
    """The details arXiv has for `arxiv_id`, a bare ID without version (``1706.03762``).

    Waits at most `timeout` seconds (default ``settings.ARXIV_TIMEOUT``) to connect and
    about as long again for the whole answer. Raises ArxivNotFound when arXiv has no such
    paper (text that is not a bare ID is not sent at all), ArxivUnavailable for anything
    else that goes wrong; no other exception escapes. Side effects: one HTTP request to
    ``settings.ARXIV_API_URL``; a warning in the ``papers.arxiv`` log when it fails.
    """
    if normalize_arxiv_id(arxiv_id) != arxiv_id:
        raise ArxivNotFound(arxiv_id)
    if timeout is None:
        timeout = settings.ARXIV_TIMEOUT
    url = f"{settings.ARXIV_API_URL}?{urlencode({'id_list': arxiv_id, 'max_results': 1})}"
    try:
        status, body = _download(url, timeout)
        entry = _paper_entry(body, status)
        if entry is None:
            logger.info("arXiv has no paper %s", arxiv_id)
            raise ArxivNotFound(arxiv_id)
        return _metadata(entry, arxiv_id)
    except _FAILURES as error:
        logger.warning("arXiv lookup of %s failed: %r", arxiv_id, error)
        raise ArxivUnavailable() from error


SEARCH_RESULTS = 5  # entries asked for per title: the real paper is among the first
SEARCH_CACHE_SECONDS = 24 * 3600
_NOT_FOUND = "not-found"  # cached for a title arXiv has no confident match for
SEARCH_WORDS_MAX = 30


def search_title(title: str, *, timeout: float | None = None) -> ArxivMetadata | None:
    """The arXiv paper whose title is `title`, or None when arXiv has none that matches.

    Asks for the titles arXiv finds with every word of `title` (``ti:"…"``, at most
    SEARCH_RESULTS entries) and accepts one only when its normalized title matches
    (papers.titles.titles_match), so a near miss is no match. The answer, found or not, is
    cached for a day under the title's key. Raises ArxivUnavailable when arXiv cannot be
    reached or answers with something that is not a feed (nothing is cached then); waits
    at most about twice `timeout` (default ``settings.ARXIV_TIMEOUT``).
    Side effects: at most one HTTP request to ``settings.ARXIV_API_URL``; the cache entry.
    """
    key = title_key(title)
    # "InstructGPT: Training …" is searched as "Training …", which also finds a title that
    # has the nickname ("BERT: Pre-training …" contains "Pre-training …").
    phrase = without_nickname(title or "") or title or ""
    words = SEARCH_WORD.findall(phrase)[:SEARCH_WORDS_MAX]
    if not key or not words:
        return None
    cache_key = f"arxiv:title:{key[:200]}"
    cached = cache.get(cache_key)
    if cached == _NOT_FOUND:
        return None
    if isinstance(cached, ArxivMetadata):
        return cached
    if timeout is None:
        timeout = settings.ARXIV_TIMEOUT
    query = {"search_query": f'ti:"{" ".join(words)}"', "max_results": SEARCH_RESULTS}
    url = f"{settings.ARXIV_API_URL}?{urlencode(query)}"
    try:
        status, body = _download(url, timeout)
        found = _matching_entry(body, status, title)
    except _FAILURES as error:
        logger.warning("arXiv title search for %r failed: %r", title[:80], error)
        raise ArxivUnavailable() from error
    cache.set(cache_key, found or _NOT_FOUND, SEARCH_CACHE_SECONDS)
    return found


def _matching_entry(body: bytes, status: int, title: str) -> ArxivMetadata | None:
    if status != 200:
        raise ValueError(f"HTTP {status} from a title search")
    feed = fromstring(body)
    if feed.tag != f"{_ATOM}feed":
        raise ValueError(f"{feed.tag} instead of an Atom feed")
    for entry in feed.iterfind(f"{_ATOM}entry"):
        entry_id = _text(entry, "id")
        if entry_id.startswith(_ERROR_ENTRY_ID):
            return None
        arxiv_id = normalize_arxiv_id(entry_id)
        if arxiv_id and titles_match(title, _text(entry, "title")):
            return _metadata(entry, arxiv_id)
    return None


def _download(url: str, timeout: float) -> tuple[int, bytes]:
    """The status and body of a GET. Client errors (4xx) come back too: arXiv explains them
    in an Atom body. Other HTTP errors (5xx, 429, redirect loops) raise HTTPError."""
    request = urllib.request.Request(
        url, headers={"User-Agent": f"PaperClub/1.0 (+{settings.SITE_URL})"}
    )
    deadline = time.monotonic() + timeout
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if not 400 <= error.code < 500 or error.code == 429:
            error.close()
            raise
        response = error
    with response:
        return response.status, _read_capped(response, deadline)


def _read_capped(response, deadline: float) -> bytes:
    # The socket timeout bounds each read; the deadline bounds a server that trickles.
    chunks = []
    size = 0
    while chunk := response.read1(64 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise ValueError(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
        if time.monotonic() > deadline:
            raise TimeoutError("answer took too long to arrive")
        chunks.append(chunk)
    return b"".join(chunks)


def _paper_entry(body: bytes, status: int) -> Element | None:
    """The feed's entry for the paper, or None when arXiv says there is none."""
    try:
        feed = fromstring(body)
    except ParseError as error:
        if status != 200:
            raise ValueError(f"HTTP {status} with a body that is not XML") from error
        raise
    if feed.tag != f"{_ATOM}feed":
        raise ValueError(f"HTTP {status} with {feed.tag} instead of an Atom feed")
    entry = feed.find(f"{_ATOM}entry")
    if entry is None or _text(entry, "id").startswith(_ERROR_ENTRY_ID) or not _text(entry, "title"):
        return None
    if status != 200:
        raise ValueError(f"HTTP {status} with a paper in the body")
    return entry


def _metadata(entry: Element, arxiv_id: str) -> ArxivMetadata:
    year = _YEAR.match(_text(entry, "published"))
    names = [
        _collapse("".join(name.itertext())) for name in entry.iterfind(f"{_ATOM}author/{_ATOM}name")
    ]
    return ArxivMetadata(
        arxiv_id=arxiv_id,
        title=_shorten(_text(entry, "title"), TITLE_MAX),
        authors=_join_authors([name for name in names if name]),
        year=int(year.group(1)) if year else None,
        abstract=_text(entry, "summary"),
        url=arxiv_url(arxiv_id),
    )


def _text(element: Element, name: str) -> str:
    """The child's text with whitespace collapsed: arXiv wraps long titles and abstracts."""
    child = element.find(f"{_ATOM}{name}")
    return _collapse("".join(child.itertext())) if child is not None else ""


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _shorten(text: str, limit: int) -> str:
    """`text`, or its first words and an ellipsis within `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        # The cut fell inside a word: drop the piece of it.
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


def _join_authors(names: list[str]) -> str:
    """The names joined with commas, within AUTHORS_MAX characters.

    A longer list stops after the last whole name that fits and ends with ", et al.".
    """
    joined = ", ".join(names)
    if len(joined) <= AUTHORS_MAX:
        return joined
    kept: list[str] = []
    for name in names:
        if len(", ".join([*kept, name])) + len(_ET_AL) > AUTHORS_MAX:
            break
        kept.append(name)
    if not kept:
        # One name longer than the column: no whole name fits.
        return _shorten(names[0], AUTHORS_MAX)
    return ", ".join(kept) + _ET_AL
