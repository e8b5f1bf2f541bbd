"""papers.arxiv against a real local HTTP server that answers like the arXiv API.

The answers are the files in fixtures/arxiv/ (see its README); no test reaches the network.
"""

import socket
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from paperclub.env import env_float
from papers.arxiv import (
    ArxivMetadata,
    ArxivNotFound,
    ArxivUnavailable,
    fetch_metadata,
    search_title,
)
from tests.papers.conftest import FIXTURES, Reply, recorded

ATTENTION_ABSTRACT = (
    "The dominant sequence transduction models are based on complex recurrent or "
    "convolutional neural networks in an encoder-decoder configuration. The best performing "
    "models also connect the encoder and decoder through an attention mechanism. We propose a "
    "new simple network architecture, the Transformer, based solely on attention mechanisms, "
    "dispensing with recurrence and convolutions entirely. Experiments on two machine "
    "translation tasks show these models to be superior in quality while being more "
    "parallelizable and requiring significantly less time to train. Our model achieves 28.4 "
    "BLEU on the WMT 2014 English-to-German translation task, improving over the existing best "
    "results, including ensembles by over 2 BLEU. On the WMT 2014 English-to-French translation "
    "task, our model establishes a new single-model state-of-the-art BLEU score of 41.8 after "
    "training for 3.5 days on eight GPUs, a small fraction of the training costs of the best "
    "models from the literature. We show that the Transformer generalizes well to other tasks "
    "by applying it successfully to English constituency parsing both with large and limited "
    "training data."
)
UNAVAILABLE = "arXiv could not be reached just now; type the details yourself."


def feed_with_authors(names: list[str]) -> bytes:
    authors = "".join(f"<author><name>{name}</name></author>" for name in names)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<entry><id>http://arxiv.org/abs/2401.00001v1</id>"
        "<published>2024-01-01T00:00:00Z</published><title>A big collaboration</title>"
        f"<summary>Many hands.</summary>{authors}</entry></feed>"
    ).encode()


def test_fetch_metadata_reads_attention_is_all_you_need(arxiv_api):
    metadata = fetch_metadata("1706.03762")

    assert metadata == ArxivMetadata(
        arxiv_id="1706.03762",
        title="Attention Is All You Need",
        authors=(
            "Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones, "
            "Aidan N. Gomez, Lukasz Kaiser, Illia Polosukhin"
        ),
        year=2017,
        abstract=ATTENTION_ABSTRACT,
        url="https://arxiv.org/abs/1706.03762",
    )


def test_fetch_metadata_reads_an_old_style_id_with_a_wrapped_title(arxiv_api):
    metadata = fetch_metadata("hep-th/9711200")

    assert metadata.arxiv_id == "hep-th/9711200"
    assert metadata.title == "The Large N Limit of Superconformal Field Theories and Supergravity"
    assert metadata.authors == "Juan M. Maldacena"
    assert metadata.year == 1997
    assert metadata.abstract.startswith(
        "We show that the large $N$ limit of certain conformal field theories in various "
        "dimensions include in their Hilbert space"
    )
    assert "The 't Hooft limit of 4-d ${\\cal N} =4$ super-Yang-Mills" in metadata.abstract
    assert "\n" not in metadata.abstract
    assert "  " not in metadata.abstract
    assert metadata.url == "https://arxiv.org/abs/hep-th/9711200"


def test_fetch_metadata_lists_all_31_gpt3_authors(arxiv_api):
    metadata = fetch_metadata("2005.14165")

    assert metadata.title == "Language Models are Few-Shot Learners"
    assert metadata.year == 2020
    assert metadata.authors.split(", ")[:3] == ["Tom B. Brown", "Benjamin Mann", "Nick Ryder"]
    assert len(metadata.authors.split(", ")) == 31
    assert metadata.authors.endswith("Alec Radford, Ilya Sutskever, Dario Amodei")
    assert metadata.abstract.endswith("of this finding and of GPT-3 in general.")


def test_fetch_metadata_ends_a_long_author_list_at_a_whole_name(arxiv_api):
    names = [f"Author Number{i:03d}" for i in range(200)]  # 16 characters each
    arxiv_api.replies["2401.00001"] = Reply(body=feed_with_authors(names))

    authors = fetch_metadata("2401.00001").authors

    # 55 names take 55 * 16 + 54 * 2 = 988 characters, and ", et al." 8 more; 56 would not fit.
    assert authors == ", ".join(names[:55]) + ", et al."
    assert len(authors) <= 1000


def test_fetch_metadata_keeps_an_author_list_of_exactly_1000_characters(arxiv_api):
    names = ["A" * 98] * 10  # 10 * 98 + 9 * 2 = 998 characters
    names[-1] = "B" * 100
    arxiv_api.replies["2401.00001"] = Reply(body=feed_with_authors(names))

    authors = fetch_metadata("2401.00001").authors

    assert len(authors) == 1000
    assert not authors.endswith("et al.")


def test_fetch_metadata_shortens_a_long_title_at_a_word(arxiv_api):
    body = (FIXTURES / "1706.03762.xml").read_bytes()
    long_title = " ".join(["Attention"] * 40)  # 399 characters
    body = body.replace(b"Attention Is All You Need", long_title.encode())
    arxiv_api.replies["1706.03762"] = Reply(body=body)

    title = fetch_metadata("1706.03762").title

    # 30 words take 299 characters; the ellipsis makes 300.
    assert title == " ".join(["Attention"] * 30) + "…"
    assert len(title) == 300


@pytest.mark.parametrize(
    ("arxiv_id", "reply"),
    [
        ("1234.56789", recorded("not_found.xml")),
        ("1234.56789", recorded("not_found.xml", status=400)),
        ("2501.99999", recorded("empty.xml")),
    ],
)
def test_fetch_metadata_says_not_found_when_arxiv_has_no_such_paper(arxiv_api, arxiv_id, reply):
    arxiv_api.replies[arxiv_id] = reply

    with pytest.raises(ArxivNotFound) as caught:
        fetch_metadata(arxiv_id)

    assert caught.value.message == f"arXiv has no paper with the ID {arxiv_id}."


def test_fetch_metadata_sends_no_request_for_text_that_is_not_an_id(arxiv_api):
    with pytest.raises(ArxivNotFound):
        fetch_metadata("1706.03762&max_results=100")

    assert arxiv_api.requests == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=(FIXTURES / "garbage.txt").read_bytes(), content_type="text/html"),
        Reply(body=b""),
        Reply(status=500, body=b"Internal Server Error", content_type="text/plain"),
        Reply(status=503, body=(FIXTURES / "garbage.txt").read_bytes()),
        Reply(status=429, body=b"Rate exceeded.", content_type="text/plain"),
        Reply(status=404, body=b"<html><body>Not Found</body></html>", content_type="text/html"),
        # A paper in an error answer is not trusted.
        recorded("1706.03762.xml", status=404),
        Reply(body=b'<?xml version="1.0"?><rss><channel/></rss>'),
    ],
    ids=["garbage", "empty-body", "500", "503", "429", "404-html", "404-paper", "not-atom"],
)
def test_fetch_metadata_says_unavailable_for_a_broken_answer(arxiv_api, caplog, reply):
    arxiv_api.replies["1706.03762"] = reply

    with pytest.raises(ArxivUnavailable) as caught:
        fetch_metadata("1706.03762")

    assert caught.value.message == UNAVAILABLE
    assert [(r.name, r.levelname) for r in caplog.records] == [("papers.arxiv", "WARNING")]


def test_fetch_metadata_refuses_xml_entity_expansion(arxiv_api):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&b;</title></entry></feed>'
    )
    arxiv_api.replies["1706.03762"] = Reply(body=bomb)

    with pytest.raises(ArxivUnavailable):
        fetch_metadata("1706.03762")


def test_fetch_metadata_refuses_an_answer_over_1_mb(arxiv_api):
    body = (FIXTURES / "1706.03762.xml").read_bytes()
    padding = b"<!-- " + b"x" * 1_000_000 + b" -->"
    arxiv_api.replies["1706.03762"] = Reply(body=body.replace(b"<feed", padding + b"<feed", 1))

    with pytest.raises(ArxivUnavailable):
        fetch_metadata("1706.03762")


def test_fetch_metadata_gives_up_on_a_server_slower_than_the_timeout(arxiv_api, settings):
    settings.ARXIV_TIMEOUT = 0.3
    arxiv_api.replies["1706.03762"] = Reply(delay=10, body=b"never sent")

    started = time.monotonic()
    with pytest.raises(ArxivUnavailable):
        fetch_metadata("1706.03762")

    assert time.monotonic() - started < 2


def test_fetch_metadata_gives_up_on_a_server_that_trickles(arxiv_api):
    # Each byte comes well within the timeout; the whole answer would take minutes.
    arxiv_api.replies["1706.03762"] = Reply(body=b"x" * 10_000, trickle=True)

    started = time.monotonic()
    with pytest.raises(ArxivUnavailable):
        fetch_metadata("1706.03762", timeout=0.3)

    assert time.monotonic() - started < 2


def test_fetch_metadata_gives_up_on_a_redirect_loop(arxiv_api):
    loop = f"{arxiv_api.url}?id_list=1706.03762&max_results=1"
    arxiv_api.replies["1706.03762"] = Reply(status=302, location=loop)

    with pytest.raises(ArxivUnavailable):
        fetch_metadata("1706.03762")


def test_fetch_metadata_says_unavailable_when_the_connection_is_refused(settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    # Nothing listens on the port now.
    settings.ARXIV_API_URL = f"http://127.0.0.1:{port}/api/query"

    with pytest.raises(ArxivUnavailable) as caught:
        fetch_metadata("1706.03762", timeout=1)

    assert caught.value.message == UNAVAILABLE


@pytest.mark.parametrize("arxiv_id", ["1706.03762", "hep-th/9711200"])
def test_fetch_metadata_asks_for_one_id_and_names_the_site(arxiv_api, arxiv_id):
    fetch_metadata(arxiv_id)

    assert arxiv_api.requests == [
        {
            "query": {"id_list": [arxiv_id], "max_results": ["1"]},
            "user_agent": "PaperClub/1.0 (+https://paperclub.example.org)",
        }
    ]


def test_env_float_reads_a_number(monkeypatch):
    monkeypatch.setenv("SECONDS", " 2.5 ")

    assert env_float("SECONDS", 4.0) == 2.5


@pytest.mark.parametrize("raw", ["four", "nan", "inf", "4s"])
def test_env_float_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("SECONDS", raw)

    with pytest.raises(ImproperlyConfigured):
        env_float("SECONDS", 4.0)


# ---------- Looking a paper up by its title ----------

INSTRUCT = "Training language models to follow instructions with human feedback"
INSTRUCT_QUERY = f'ti:"{INSTRUCT}"'


@pytest.fixture
def title_search(arxiv_api):
    arxiv_api.replies[INSTRUCT_QUERY] = recorded("search_instructgpt.xml")
    return arxiv_api


def test_search_title_skips_a_near_miss_and_finds_the_paper(title_search):
    found = search_title(INSTRUCT.lower())

    assert found.arxiv_id == "2203.02155"
    assert found.title == INSTRUCT
    assert found.authors == "Long Ouyang, Jeff Wu, Xu Jiang"
    assert found.year == 2022
    assert found.url == "https://arxiv.org/abs/2203.02155"
    assert title_search.requests[0]["query"]["search_query"] == [INSTRUCT_QUERY.lower()]
    assert title_search.requests[0]["query"]["max_results"] == ["5"]


def test_search_title_asks_without_the_nickname(title_search):
    found = search_title(f"InstructGPT: {INSTRUCT}")

    assert found.arxiv_id == "2203.02155"


def test_search_title_answers_none_when_no_title_matches(title_search):
    # arXiv answers with papers whose titles only share words: none is accepted.
    title_search.replies['ti:"Training a helpful assistant"'] = recorded("search_instructgpt.xml")

    assert search_title("Training a helpful assistant") is None
    assert search_title("A paper arXiv does not have at all") is None  # an empty feed


def test_search_title_is_cached_found_or_not(title_search):
    search_title(INSTRUCT)
    search_title(INSTRUCT.upper() + ".")
    search_title("A paper arXiv does not have at all")
    search_title("A paper arXiv does not have at all")

    assert len(title_search.requests) == 2


def test_search_title_sends_only_the_words(title_search):
    assert search_title('Attention" OR au:"Vaswani') is None

    query = title_search.requests[0]["query"]["search_query"][0]
    assert query == 'ti:"Attention OR au Vaswani"'


def test_search_title_sends_nothing_for_a_title_without_words(title_search):
    assert search_title(" … ") is None
    assert title_search.requests == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=503, body=b"busy"),
        recorded("garbage.txt"),
        Reply(delay=5, body=(FIXTURES / "search_instructgpt.xml").read_bytes()),
    ],
)
def test_search_title_says_unavailable_and_caches_nothing(arxiv_api, reply):
    arxiv_api.replies[INSTRUCT_QUERY] = reply

    started = time.monotonic()
    with pytest.raises(ArxivUnavailable):
        search_title(INSTRUCT, timeout=0.5)
    assert time.monotonic() - started < 2

    arxiv_api.replies[INSTRUCT_QUERY] = recorded("search_instructgpt.xml")
    assert search_title(INSTRUCT).arxiv_id == "2203.02155"


def test_search_title_offline_fails_at_once(settings):
    started = time.monotonic()
    with pytest.raises(ArxivUnavailable):
        search_title(INSTRUCT)
    assert time.monotonic() - started < 1
