"""Turn what people paste (arXiv links, IDs, paper URLs) into one canonical key per paper."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# New-style IDs (0704.0001 onwards): YYMM.NNNN or YYMM.NNNNN, optional version.
_NEW = r"(?P<new>\d{4}\.\d{4,5})"
# Old-style IDs: archive(.SUBJECT-CLASS)/YYMMNNN, e.g. cs/0207270, math.GT/0309136.
_OLD = r"(?P<old>[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7})"
_ID = rf"(?:{_NEW}|{_OLD})(?:v\d+)?"

_BARE = re.compile(rf"^(?:arxiv:\s*)?{_ID}$", re.IGNORECASE)
_HOSTS = (
    "arxiv.org",
    "export.arxiv.org",
    "huggingface.co",
    "alphaxiv.org",
    "doi.org",
    "dx.doi.org",
)
_PATH = re.compile(
    rf"^/(?:abs/|pdf/|html/|papers/|overview/|10\.48550/arxiv\.){_ID}(?:\.pdf)?/?$", re.IGNORECASE
)

_TRACKING_PARAMS = re.compile(r"^(utm_.*|ref|ref_src|fbclid|gclid)$")


def _canonical(match: re.Match) -> str:
    if match.group("new"):
        return match.group("new")
    archive, number = match.group("old").split("/")
    # The archive name is lower case; only the subject class keeps its capitals.
    if "." in archive:
        name, subject = archive.split(".")
        archive = f"{name.lower()}.{subject.upper()}"
    else:
        archive = archive.lower()
    return f"{archive}/{number}"


def normalize_arxiv_id(text: str) -> str | None:
    """The arXiv ID in `text` without its version, or None when `text` names no arXiv paper.

    Accepts bare IDs (``2305.18290``, ``2305.18290v3``, ``arXiv:cs/0207270``) and
    arXiv, Hugging Face papers and alphaXiv URLs (``/abs/``, ``/pdf/…v2.pdf``).
    """
    text = (text or "").strip()
    if not text or len(text) > 300:
        return None
    bare = _BARE.match(text)
    if bare:
        return _canonical(bare)
    if "://" not in text and text.split("/", 1)[0].lower().removeprefix("www.") in _HOSTS:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.scheme not in ("http", "https") or host not in _HOSTS:
        return None
    path = _PATH.match(parts.path)
    return _canonical(path) if path else None


def arxiv_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def normalize_url(url: str) -> str:
    """A key under which two spellings of the same link compare equal.

    Lower-cases scheme and host, drops ``www.``, the fragment, tracking parameters,
    default ports and a trailing slash, sorts the query, and treats http as https.
    Raises ValueError for text that is not a well-formed URL (a bad port, a broken IPv6 host).
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        raise ValueError("no host")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(key)
    )
    path = parts.path
    while (trimmed := path.strip().rstrip("/")) != path:  # "/ /" and "/\f" trim in steps
        path = trimmed
    return urlunsplit(("https", host, path, urlencode(query), ""))
