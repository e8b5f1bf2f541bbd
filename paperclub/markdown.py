"""Markdown written by people, rendered to HTML and then sanitized.

One dialect for the whole app, GitHub's (the one clubs write their READMEs in): CommonMark
with tables, strikethrough and bare links, parsed by markdown-it-py.

Sanitizing happens after rendering, on the final HTML, with an allow-list (nh3):
no scripts, no event handlers, no `javascript:`/`data:` links, no `hx-*` attributes.
A Markdown link to a scheme outside the allow-list is rendered as its text alone, so it
does not look like a link that goes nowhere.
"""

import re

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from paperclub.text import strip_control

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer ugc"

# A scheme as a browser reads one: letters first, then letters, digits, "+", "-", ".".
# Browsers drop tabs and newlines inside a URL, so those are removed before looking.
_SCHEME = re.compile(r"\A\s*([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def _allowed_url(url: str) -> bool:
    match = _SCHEME.match(re.sub(r"[\t\n\r]", "", url))
    return match is None or match.group(1).lower() in URL_SCHEMES  # no scheme: relative


def _bare_name(link, following) -> bool:
    """A bare name linkify took for a web address ("README.md", "notes.io"): GitHub links
    only what starts with a scheme or "www.", and email addresses."""
    if link.markup != "linkify" or str(link.attrGet("href") or "").startswith("mailto:"):
        return False
    text = following[0].content.lower() if following else ""
    return not text.startswith(("http://", "https://", "www."))


def _tidy_tokens(state: StateCore) -> None:
    """Links to a refused scheme become their text; strikethrough is GitHub's `<del>`;
    table alignment is the `align` attribute (the sanitizer keeps no `style`)."""
    for block in state.tokens:
        if block.type in ("th_open", "td_open"):
            style = str(block.attrs.pop("style", ""))
            if style.startswith("text-align:"):
                block.attrs["align"] = style.removeprefix("text-align:")
        if block.type != "inline" or not block.children:
            continue
        kept, refused = [], 0  # refused: how many refused links are open (they can nest)
        for i, token in enumerate(block.children):
            if token.type == "link_open" and (
                refused
                or not _allowed_url(str(token.attrGet("href") or ""))
                or _bare_name(token, block.children[i + 1 : i + 2])
            ):
                refused += 1
                continue
            if token.type == "link_close" and refused:
                refused -= 1
                continue
            if token.type in ("s_open", "s_close"):
                token.tag = "del"
            kept.append(token)
        block.children = kept


def _parser() -> MarkdownIt:
    parser = MarkdownIt("gfm-like")
    parser.validateLink = lambda url: (
        True
    )  # judged in _tidy_tokens, so a refused link keeps its text
    parser.core.ruler.push("paperclub_tidy", _tidy_tokens)
    return parser


_MARKDOWN = _parser()


def render_markdown(text: str) -> SafeString:
    html = _MARKDOWN.render(strip_control(text))
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(clean.strip())
