"""Property-based tests of the parsers: whatever people paste, they answer sensibly."""

import re
from html.parser import HTMLParser

from hypothesis import example, given, settings
from hypothesis import strategies as st

from paperclub.markdown import render_markdown
from papers.identifiers import normalize_arxiv_id, normalize_url

new_ids = st.from_regex(r"\A(0[7-9]|1[0-9]|2[0-9])(0[1-9]|1[0-2])\.\d{5}\Z")
versions = st.one_of(st.just(""), st.integers(1, 30).map(lambda n: f"v{n}"))
spellings = st.sampled_from(
    [
        "{id}{v}",
        "arXiv:{id}{v}",
        "https://arxiv.org/abs/{id}{v}",
        "http://arxiv.org/pdf/{id}{v}.pdf",
        "arxiv.org/abs/{id}{v}",
        "https://www.arxiv.org/pdf/{id}{v}",
        "https://huggingface.co/papers/{id}",
        "https://www.alphaxiv.org/abs/{id}{v}",
    ]
)


@given(new_ids, versions, spellings)
def test_every_spelling_of_an_id_normalizes_to_the_bare_id(arxiv_id, version, spelling):
    assert normalize_arxiv_id(spelling.format(id=arxiv_id, v=version)) == arxiv_id


@given(st.text(max_size=400))
@example("\x00")
@example("https://arxiv.org/abs/" + "9" * 5000)
def test_normalizer_never_crashes_and_returns_a_canonical_id(text):
    result = normalize_arxiv_id(text)
    assert result is None or re.fullmatch(r"\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7}", result)
    if result is not None:
        assert normalize_arxiv_id(result) == result  # idempotent


@given(st.text(max_size=200))
def test_url_normalizer_is_idempotent_or_refuses(text):
    try:
        once = normalize_url("https://example.com/" + text)
    except ValueError:
        return
    assert normalize_url(once) == once


HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<a href="javascript&#58;alert(1)">x</a>',
        '<div hx-get="/admin/" hx-trigger="load">x</div>',
        '<svg onload="alert(1)"></svg>',
        "<iframe src=//evil.example>",
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<<script>script>alert(1)<</script>/script>",
        "<form action=/x><button>go</button></form>",
    ]
)


class Tags(HTMLParser):
    """The tags and attributes a browser would see (escaped text is not markup)."""

    def __init__(self, html):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))


@settings(max_examples=300)
@given(st.lists(st.one_of(HOSTILE, st.text(max_size=40)), max_size=8).map("".join))
def test_rendered_markdown_never_keeps_anything_executable(text):
    for tag, attrs in Tags(render_markdown(text)).found:
        assert tag not in {"script", "iframe", "svg", "form", "object", "embed", "style"}
        assert not [name for name in attrs if name.startswith(("on", "hx-", "data-", "style"))]
        for name in ("href", "src"):
            url = attrs.get(name, "").strip().lower()
            assert not url.startswith(("javascript:", "data:", "vbscript:"))
