import pytest

from papers.identifiers import normalize_arxiv_id, normalize_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2305.18290", "2305.18290"),
        ("2305.18290v3", "2305.18290"),
        ("arXiv:2305.18290v1", "2305.18290"),
        ("https://arxiv.org/abs/2305.18290", "2305.18290"),
        ("https://arxiv.org/abs/2305.18290v2", "2305.18290"),
        ("http://www.arxiv.org/pdf/2305.18290v2.pdf", "2305.18290"),
        ("https://arxiv.org/pdf/2305.18290", "2305.18290"),
        ("arxiv.org/abs/1706.03762", "1706.03762"),
        ("https://export.arxiv.org/abs/1706.03762v7", "1706.03762"),
        ("https://arxiv.org/html/2401.00001v1", "2401.00001"),
        ("0704.0001", "0704.0001"),
        ("cs/0207270", "cs/0207270"),
        ("cs/0207270v1", "cs/0207270"),
        ("https://arxiv.org/abs/cs/0207270", "cs/0207270"),
        ("https://arxiv.org/pdf/cs/0207270v2.pdf", "cs/0207270"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("https://huggingface.co/papers/2305.18290", "2305.18290"),
        ("https://www.alphaxiv.org/abs/2305.18290", "2305.18290"),
        ("  2305.18290  ", "2305.18290"),
    ],
)
def test_normalize_arxiv_id_accepts_every_spelling(text, expected):
    assert normalize_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "2305.182",
        "12345.67890",
        "https://example.com/abs/2305.18290",
        "https://arxiv.org/list/cs.LG/recent",
        "javascript:alert(1)//2305.18290",
        "https://arxiv.org/abs/2305.18290/../../etc",
        "x" * 1000,
    ],
)
def test_normalize_arxiv_id_rejects_non_arxiv_text(text):
    assert normalize_arxiv_id(text) is None


def test_normalize_url_makes_spellings_of_one_link_equal():
    variants = [
        "https://example.com/blog/post/",
        "http://www.example.com/blog/post",
        "HTTPS://Example.com/blog/post?utm_source=x#section",
        "https://example.com:443/blog/post",
    ]
    assert {normalize_url(v) for v in variants} == {"https://example.com/blog/post"}


def test_normalize_url_keeps_meaningful_query_parameters():
    assert normalize_url("https://example.com/p?id=2&a=1") == "https://example.com/p?a=1&id=2"
    assert normalize_url("https://example.com/p?id=2") != normalize_url(
        "https://example.com/p?id=3"
    )
