"""Notes, rules and pitches speak GitHub's Markdown, and come out sanitized."""

import pytest

from paperclub.markdown import render_markdown

REL = 'rel="nofollow noopener noreferrer ugc"'


def test_a_github_table_renders_with_its_alignment():
    html = render_markdown("| Paper | Votes |\n|:--|--:|\n| Attention | 3 |\n")

    assert html == (
        "<table>\n<thead>\n<tr>\n"
        '<th align="left">Paper</th>\n<th align="right">Votes</th>\n'
        "</tr>\n</thead>\n<tbody>\n<tr>\n"
        '<td align="left">Attention</td>\n<td align="right">3</td>\n'
        "</tr>\n</tbody>\n</table>"
    )


def test_a_bare_url_becomes_a_link():
    html = render_markdown("Slides: https://example.org/slides.pdf, thanks")

    assert html == (
        f'<p>Slides: <a href="https://example.org/slides.pdf" {REL}>'
        "https://example.org/slides.pdf</a>, thanks</p>"
    )


def test_a_www_address_is_linked_but_a_file_name_is_not():
    html = render_markdown("See www.example.org and README.md")

    assert (
        html
        == f'<p>See <a href="http://www.example.org" {REL}>www.example.org</a> and README.md</p>'
    )


@pytest.mark.parametrize(
    "source",
    [
        "[the paper](javascript:alert(1))",
        "[the paper](JaVaScRiPt:alert(1))",
        "[the paper](javascript&#58;alert(1))",
        "[the paper](data:text/html;base64,PHNjcmlwdD4=)",
        "[the paper](vbscript:msgbox(1))",
        "[the paper][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_a_link_to_a_refused_scheme_is_plain_text(source):
    assert render_markdown(source) == "<p>the paper</p>"


def test_allowed_links_keep_their_address_and_rel():
    html = render_markdown("[a](https://a.example/) [b](/c/club/) [c](mailto:x@example.org)")

    assert html == (
        f'<p><a href="https://a.example/" {REL}>a</a> <a href="/c/club/" {REL}>b</a> '
        f'<a href="mailto:x@example.org" {REL}>c</a></p>'
    )


def test_a_list_indented_two_spaces_nests():
    html = render_markdown("- Method\n  - encoder\n  - decoder\n- Results\n")

    assert html == (
        "<ul>\n<li>Method\n<ul>\n<li>encoder</li>\n<li>decoder</li>\n</ul>\n</li>\n"
        "<li>Results</li>\n</ul>"
    )


def test_strikethrough_is_del():
    assert render_markdown("~~wrong~~ right") == "<p><del>wrong</del> right</p>"


def test_raw_html_is_sanitized_and_a_stripped_link_is_unstyled():
    html = render_markdown(
        '<b>ok</b> <a href="javascript:alert(1)">x</a> <script>alert(1)</script>'
    )

    assert html == f"<p><b>ok</b> <a {REL}>x</a> </p>"  # app.css: a:not([href]) is plain text
