"""Reading lists in and out: the shapes clubs keep them in, and README/BibTeX export.

The fixtures in `fixtures/reading_lists/` are written by hand in the shapes clubs use:
a numbered "LLM paper club" README, themed sections, a writer's "Title: takeaway" list and
text pasted from a newsletter. The papers and arXiv IDs are real; the slide, recording and
chat links are made up.
"""

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from papers.identifiers import arxiv_url, normalize_url
from papers.reading_lists.writer import (
    MAX_BYTES,
    MAX_ENTRIES,
    TAKEAWAY_MAX,
    TITLE_MAX,
    Entry,
    ExportItem,
    Material,
    ParsedList,
    Problem,
    ReadingListError,
    decode_upload,
    parse_reading_list,
    to_bibtex,
    to_markdown,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reading_lists"


def read(name: str) -> ParsedList:
    return parse_reading_list((FIXTURES / name).read_text(encoding="utf-8"))


def paper(line, title, arxiv_id, takeaway="", materials=(), section="", url=None, **more) -> Entry:
    return Entry(
        sections=(section,) if section else (),
        **more,
        line=line,
        title=title,
        arxiv_id=arxiv_id,
        url=arxiv_url(arxiv_id) if url is None else url,
        takeaway=takeaway,
        materials=tuple(Material(label, link) for label, link in materials),
        section=section,
    )


def item(title, arxiv_id=None, url="", takeaway="", materials=(), section="", **more):
    return ExportItem(
        title=title,
        arxiv_id=arxiv_id,
        url=arxiv_url(arxiv_id) if arxiv_id else url,
        authors=more.get("authors", ""),
        year=more.get("year"),
        takeaway=takeaway,
        materials=tuple(Material(label, link) for label, link in materials),
        section=section,
    )


def only(text: str) -> Entry:
    (entry,) = parse_reading_list(text).entries
    return entry


# The four shapes


DISCORD = "https://discord.com/channels/1168579740391710851/1169072223/"
SLIDES = "https://docs.google.com/presentation/d/"


def test_numbered_readme_gives_each_paper_with_its_slides_recording_and_chat():
    parsed = read("llm_paper_club_readme.md")

    assert parsed.title == "LLM Paper Club"
    assert parsed.sections == ()
    assert list(parsed.entries) == [
        paper(
            8,
            "Attention Is All You Need",
            "1706.03762",
            materials=[
                ("Slides", SLIDES + "1aTtN/edit"),
                ("Recording", "https://youtu.be/iDulhoQ2pro"),
                ("Discord", DISCORD + "1170001"),
            ],
        ),
        paper(
            9,
            "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
            "1810.04805",
            materials=[
                ("Slides", SLIDES + "1bErT/edit"),
                ("Recording", "https://www.youtube.com/watch?v=xbhEmRRQgsU"),
            ],
        ),
        paper(
            10,
            "Language Models are Unsupervised Multitask Learners",
            None,
            url="https://cdn.openai.com/better-language-models/"
            "language_models_are_unsupervised_multitask_learners.pdf",
            takeaway="(GPT-2)",
            materials=[("Recording", "https://youtu.be/gpt2club")],
        ),
        paper(
            11,
            "Language Models are Few-Shot Learners",
            "2005.14165",
            materials=[
                ("Slides", "https://speakerdeck.com/club/gpt-3"),
                ("Recording", "https://youtu.be/gpt3club"),
                ("Discord", DISCORD + "1170004"),
            ],
        ),
        paper(
            12,
            "Scaling Laws for Neural Language Models",
            "2001.08361",
            materials=[("Recording", "https://youtu.be/scaling")],
        ),
        paper(
            13,
            "Training Compute-Optimal Large Language Models",
            "2203.15556",
            takeaway="(Chinchilla)",
            materials=[("Slides", SLIDES + "1cHiN/edit")],
        ),
        paper(
            14,
            "Training language models to follow instructions with human feedback",
            "2203.02155",
            materials=[
                ("Slides", SLIDES + "1iNsT/edit"),
                ("Recording", "https://youtu.be/instructgpt"),
                ("Discord", DISCORD + "1170007"),
            ],
        ),
        paper(
            15,
            "LLaMA: Open and Efficient Foundation Language Models",
            "2302.13971",
            materials=[("Code", "https://github.com/facebookresearch/llama")],
        ),
        paper(
            16,
            "LoRA: Low-Rank Adaptation of Large Language Models",
            "2106.09685",
            takeaway="fine-tune a tiny fraction of the weights",
            materials=[("Slides", SLIDES + "1lOrA/edit"), ("Recording", "https://youtu.be/lora")],
        ),
        paper(
            19,
            "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
            "2305.18290",
            materials=[("Recording", "https://youtu.be/dpo"), ("Discord", DISCORD + "1170010")],
        ),
        paper(
            20,
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
            "2312.00752",
            materials=[("Slides", SLIDES + "1mAmBa/edit")],
        ),
    ]
    assert parsed.problems == (
        Problem(
            line=21,
            text="12. [Attention Is All You Need](https://arxiv.org/abs/1706.03762v7) — "
            "[recording](https://youtu.be/attention-rerun) (we read it again in 2024)",
            reason="Already listed on line 8.",
        ),
    )


def test_themed_headings_become_sections_in_order():
    parsed = read("themed_tracks.md")

    assert parsed.title == "LLM Reading Tracks"
    assert parsed.sections == (
        "Intro to Modern LLMs",
        "Retrieval",
        "RLHF",
        "Optional extras",
        "Agents",
    )
    intro, retrieval, rlhf = "Intro to Modern LLMs", "Retrieval", "RLHF"
    assert list(parsed.entries) == [
        paper(7, "Attention Is All You Need", "1706.03762", "the Transformer.", section=intro),
        paper(
            8,
            "Language Models are Few-Shot Learners",
            "2005.14165",
            "scale gives in-context learning.",
            section=intro,
        ),
        paper(
            9, "Llama 2: Open Foundation and Fine-Tuned Chat Models", "2307.09288", section=intro
        ),
        paper(
            13,
            "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks",
            "2005.11401",
            "retrieve, then generate.",
            section=retrieval,
        ),
        paper(
            14,
            "Dense Passage Retrieval for Open-Domain Question Answering",
            "2004.04906",
            materials=[("Code", "https://github.com/facebookresearch/DPR")],
            section=retrieval,
        ),
        paper(
            15,
            "ColBERT: Efficient and Effective Passage Search via Contextualized Late "
            "Interaction over BERT",
            "2004.12832",
            section=retrieval,
        ),
        paper(19, "Deep Reinforcement Learning from Human Preferences", "1706.03741", section=rlhf),
        paper(
            20,
            "Training language models to follow instructions with human feedback",
            "2203.02155",
            "InstructGPT: SFT, reward model, PPO.",
            section=rlhf,
        ),
        paper(
            21,
            "Direct Preference Optimization",
            "2305.18290",
            "no reward model, no RL.",
            section=rlhf,
        ),
        paper(
            25,
            "Constitutional AI: Harmlessness from AI Feedback",
            "2212.08073",
            section="Optional extras",
        ),
        paper(
            29,
            "ReAct: Synergizing Reasoning and Acting in Language Models",
            "2210.03629",
            "interleave thoughts and actions.",
            section="Agents",
        ),
        paper(
            30,
            "Toolformer: Language Models Can Teach Themselves to Use Tools",
            "2302.04761",
            section="Agents",
        ),
        paper(
            31,
            "Voyager: An Open-Ended Embodied Agent with Large Language Models",
            None,
            url="https://voyager.minedojo.org/",
            materials=[("Code", "https://github.com/MineDojo/Voyager")],
            section="Agents",
        ),
    ]
    assert parsed.problems == ()


def test_title_and_takeaway_lines_without_list_markers():
    parsed = read("writers_list.txt")

    assert (parsed.title, parsed.sections, parsed.problems) == ("", (), ())
    assert list(parsed.entries) == [
        paper(
            3,
            "Attention Is All You Need",
            None,
            "attention alone is enough for sequence transduction.",
            url="",
        ),
        paper(
            4,
            "BERT",
            "1810.04805",
            "masked language modelling makes bidirectional pretraining work.",
            authors="Devlin et al.",
            year=2018,
        ),
        paper(
            5,
            "Deep Residual Learning for Image Recognition",
            "1512.03385",
            "skip connections let very deep networks train.",
        ),
        paper(
            6,
            "Scaling Laws for Neural Language Models",
            None,
            "loss falls as a power law in parameters, data and compute.",
            url="",
        ),
        paper(
            7,
            "Chinchilla",
            "2203.15556",
            "for a fixed compute budget, train a smaller model on more tokens.",
        ),
        paper(
            8,
            "The Bitter Lesson",
            None,
            "general methods that use computation win in the end.",
            url="http://www.incompleteideas.net/IncIdeas/BitterLesson.html",
        ),
        paper(
            9,
            "Denoising Diffusion Probabilistic Models",
            "2006.11239",
            "generation as learned denoising",
        ),
        paper(
            10,
            "Constitutional AI",
            None,
            "a model critiques its own answers against written principles.",
            url="",
        ),
        paper(
            11,
            "Quantum tunnelling in old preprints",
            "hep-th/9901001",
            "is just here to test old IDs.",
        ),
        # The text after the title is longer than TAKEAWAY_MAX: the summary, not a takeaway.
        paper(
            12,
            "Sparks of Artificial General Intelligence",
            None,
            "",
            url="",
            summary="a long, breathless tour of GPT-4's abilities that argues, across more than "
            "a hundred pages of examples from mathematics, coding, vision, medicine and law, "
            "that the model shows early signs of general intelligence, though nobody outside "
            "could check.",
        ),
    ]


def test_pasted_web_text_with_mixed_bullets_bare_links_and_a_duplicate():
    parsed = read("pasted_web_text.txt")

    assert (parsed.title, parsed.sections) == ("", ())
    assert list(parsed.entries) == [
        paper(
            5,
            "Attention Is All You Need",
            "1706.03762",
            "the paper that started it all.",
            authors="Vaswani et al.",
            year=2017,
        ),
        paper(6, "Direct Preference Optimization", "2305.18290", "RLHF without the RL"),
        paper(7, "Language Models are Few-Shot Learners", "2005.14165"),
        paper(
            9,
            "QLoRA: Efficient Finetuning of Quantized LLMs",
            "2305.14314",
            authors="Dettmers et al.",
            year=2023,
        ),
        # The line under it says how to read it: kept as its takeaway.
        paper(10, "Mistral 7B", "2310.06825", "(read the sliding-window section)"),
        paper(15, "Mixtral of Experts", "2401.04088", "sparse mixture of experts"),
        paper(
            16,
            "The Illustrated Transformer",
            None,
            url="https://jalammar.github.io/illustrated-transformer/",
        ),
    ]
    assert parsed.problems == (
        Problem(12, "• 🔥🔥🔥", "This line has no paper link or title."),
        Problem(
            13,
            "- [slides](https://speakerdeck.com/someone/talk)",
            "No title could be found on this line.",
        ),
        Problem(
            14,
            "• Attention is all you need — again, because everyone shares it. "
            "https://arxiv.org/abs/1706.03762v5",
            "Already listed on line 5.",
        ),
    )


# Parsing rules, one at a time


@pytest.mark.parametrize(
    "line",
    [
        "- [arXiv](https://arxiv.org/abs/2305.18290)",
        "- [2305.18290](https://arxiv.org/abs/2305.18290v2)",
        "- [https://arxiv.org/abs/2305.18290](https://arxiv.org/abs/2305.18290)",
        "- [PDF](https://arxiv.org/pdf/2305.18290.pdf)",
        "- arXiv:2305.18290",
        "- https://huggingface.co/papers/2305.18290",
    ],
)
def test_line_with_an_arxiv_id_but_no_title_gets_an_empty_title(line):
    assert only(line) == paper(1, "", "2305.18290")


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://www.youtube.com/watch?v=abc", "Recording"),
        ("https://youtu.be/abc", "Recording"),
        ("https://vimeo.com/123", "Recording"),
        ("https://discord.gg/invite", "Chat"),
        ("https://discord.com/channels/1/2/3", "Chat"),
        ("https://github.com/karpathy/nanoGPT", "Code"),
        ("https://gitlab.com/group/project", "Code"),
        ("https://docs.google.com/presentation/d/1x/edit", "Slides"),
        ("https://speakerdeck.com/someone/deck", "Slides"),
        ("https://example.com/talks/dpo.pdf", "Slides"),
        ("https://lilianweng.github.io/posts/2023-06-23-agent/", "lilianweng.github.io"),
    ],
)
def test_bare_material_links_get_a_label_from_their_host(url, label):
    entry = only(f"- [DPO](https://arxiv.org/abs/2305.18290) {url}")

    assert entry.materials == (Material(label, url),)


def test_link_text_labels_a_material_and_the_same_link_counts_once():
    entry = only(
        "- [DPO](https://arxiv.org/abs/2305.18290) — [notes](https://example.com/n) · "
        "[**our slides**](https://example.com/s.pdf) https://example.com/n "
        "[HF](https://huggingface.co/papers/2305.18290)"
    )

    assert entry.materials == (
        Material("Notes", "https://example.com/n"),
        Material("Our slides", "https://example.com/s.pdf"),
    )


def test_first_link_that_is_not_a_material_is_the_papers_link():
    entry = only(
        "- [slides](https://example.com/s) [Hyena Hierarchy](https://hazyresearch.stanford.edu/"
        "blog/hyena) https://github.com/HazyResearch/safari"
    )

    assert (entry.title, entry.arxiv_id, entry.url) == (
        "Hyena Hierarchy",
        None,
        "https://hazyresearch.stanford.edu/blog/hyena",
    )
    assert entry.materials == (
        Material("Slides", "https://example.com/s"),
        Material("Code", "https://github.com/HazyResearch/safari"),
    )


def test_project_link_before_the_arxiv_link_gives_the_title():
    entry = only(
        "- [Mamba](https://github.com/state-spaces/mamba) ([paper](https://arxiv.org/abs/2312.00752))"
    )

    assert entry == paper(
        1, "Mamba", "2312.00752", materials=[("Code", "https://github.com/state-spaces/mamba")]
    )


ATTENTION = "Attention Is All You Need"


@pytest.mark.parametrize(
    ("line", "takeaway"),
    [
        ("- **Attention Is All You Need** 1706.03762", ""),
        ("- __Attention Is All You Need__, 1706.03762", ""),
        ("- *Attention Is All You Need* — 1706.03762 read it", "read it"),
        ('- "Attention Is All You Need." arXiv:1706.03762', ""),
        ("- “Attention Is All You Need” (Vaswani et al., 2017) 1706.03762", ""),
        ("- Attention Is All You Need (pdf) 1706.03762", ""),
        ("- Attention Is All You Need [arXiv] 1706.03762", ""),
        ("- Attention Is All You Need - short, 1706.03762", "short"),
        ("- Attention Is All You Need | 1706.03762 | the Transformer", "the Transformer"),
    ],
)
def test_title_from_emphasis_quotes_or_the_text_before_a_separator(line, takeaway):
    entry = only(line)

    assert (entry.title, entry.arxiv_id, entry.takeaway) == (ATTENTION, "1706.03762", takeaway)


def test_colon_before_a_title_case_subtitle_stays_in_the_title():
    parsed = parse_reading_list(
        "LoRA: Low-Rank Adaptation of Large Language Models: freeze the weights, train a delta.\n"
        "LoRA: freeze the weights, train a low-rank delta.\n"
    )

    assert [(e.title, e.takeaway) for e in parsed.entries] == [
        (
            "LoRA: Low-Rank Adaptation of Large Language Models",
            "freeze the weights, train a delta.",
        ),
        ("LoRA", "freeze the weights, train a low-rank delta."),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "- GPT-3.5 turned 3.1415 into 2023.12345 in 1999.0001",
        "- Version 12.0001 of the 2017 model",
        "- Compare page 1706.0376 or 1706.037621",
    ],
)
def test_years_decimals_and_near_misses_are_not_arxiv_ids(text):
    assert only(text).arxiv_id is None


def test_old_style_ids_are_found_in_links_and_text():
    parsed = parse_reading_list(
        "- [Maldacena](https://arxiv.org/abs/hep-th/9711200v3)\n"
        "- The topology of 4-manifolds math.GT/0309136\n"
        "- arXiv:cond-mat/0102536 on networks\n"
    )

    assert [e.arxiv_id for e in parsed.entries] == [
        "hep-th/9711200",
        "math.GT/0309136",
        "cond-mat/0102536",
    ]


def test_nested_items_are_materials_of_their_parent_unless_they_link_to_arxiv():
    parsed = parse_reading_list(
        "1. [Attention Is All You Need](https://arxiv.org/abs/1706.03762)\n"
        "   - [slides](https://example.com/attention.pdf)\n"
        "   - Notes: https://example.com/notes\n"
        "   - follow-up: [Transformer-XL](https://arxiv.org/abs/1901.02860)\n"
        "     - [recording](https://youtu.be/txl)\n"
        "   - a sub-bullet with no link\n"
        "   continuation text with https://example.com/ignored\n"
        "2. [BERT](https://arxiv.org/abs/1810.04805)\n"
    )

    assert list(parsed.entries) == [
        paper(
            1,
            "Attention Is All You Need",
            "1706.03762",
            # Nothing under the item is dropped: its words are the takeaway, its links kept.
            takeaway="a sub-bullet with no link",
            materials=[
                ("Slides", "https://example.com/attention.pdf"),
                ("Notes", "https://example.com/notes"),
                ("example.com", "https://example.com/ignored"),
            ],
        ),
        paper(
            4,
            "Transformer-XL",
            "1901.02860",
            takeaway="follow-up",
            materials=[("Recording", "https://youtu.be/txl")],
        ),
        paper(8, "BERT", "1810.04805"),
    ]


def test_item_without_a_link_above_papers_is_a_label_not_a_paper():
    parsed = parse_reading_list(
        "- Week 1\n"
        "  - [Attention Is All You Need](https://arxiv.org/abs/1706.03762)\n"
        "- Week 2\n"
        "  - [GPT-2](https://cdn.openai.com/gpt-2.pdf)\n"
        "- Mamba, if there is time\n"
        "  - [slides](https://example.com/mamba.pdf)\n"
    )

    assert [(e.line, e.title, e.url) for e in parsed.entries] == [
        (2, "Attention Is All You Need", "https://arxiv.org/abs/1706.03762"),
        (4, "GPT-2", "https://cdn.openai.com/gpt-2.pdf"),
        (5, "Mamba, if there is time", ""),
    ]
    assert parsed.entries[2].materials == (Material("Slides", "https://example.com/mamba.pdf"),)


def test_prose_and_bold_labels_are_ignored_when_the_text_has_a_list():
    parsed = parse_reading_list(
        "Intro with a link https://arxiv.org/abs/1706.03762\n"
        "**Read**\n"
        "- [BERT](https://arxiv.org/abs/1810.04805)\n"
        "\n"
        "```\n"
        "- [Not a paper](https://arxiv.org/abs/2005.14165)\n"
        "```\n"
        "---\n"
    )

    assert [(e.line, e.arxiv_id) for e in parsed.entries] == [(3, "1810.04805")]


def test_plain_lines_that_introduce_a_list_are_not_papers():
    parsed = parse_reading_list("My favourites:\n\nAttention Is All You Need\n")

    assert [(e.line, e.title) for e in parsed.entries] == [(3, "Attention Is All You Need")]


def test_several_level_one_headings_are_all_sections():
    parsed = parse_reading_list(
        "# Retrieval\n- [RAG](https://arxiv.org/abs/2005.11401)\n"
        "# [**RLHF**](https://example.com) #\n- [DPO](https://arxiv.org/abs/2305.18290)\n"
        "# Empty\n"
    )

    assert parsed.title == ""
    assert parsed.sections == ("Retrieval", "RLHF")
    assert [e.section for e in parsed.entries] == ["Retrieval", "RLHF"]


def test_section_names_are_cut_at_100_characters():
    entry = only(f"## {'Retrieval ' * 20}\n- [RAG](https://arxiv.org/abs/2005.11401)")

    assert entry.section == ("Retrieval " * 10).strip()


def test_title_heading_must_be_the_first_line_to_be_the_title():
    parsed = parse_reading_list("Reading list\n# Papers\n- [DPO](https://arxiv.org/abs/2305.18290)")

    assert (parsed.title, parsed.sections) == ("", ("Papers",))


def test_duplicates_by_url_and_by_title_are_problems():
    parsed = parse_reading_list(
        "- [Hyena](https://example.com/post/)\n"
        "- [Hyena, again](https://www.example.com/post?utm_source=x)\n"
        "- **Attention Is All You Need**\n"
        "- *attention is all you need*\n"
    )

    assert [(e.line, e.title) for e in parsed.entries] == [
        (1, "Hyena"),
        (3, "Attention Is All You Need"),
    ]
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (2, "Already listed on line 1."),
        (4, "Already listed on line 3."),
    ]


def test_long_titles_are_cut_and_long_problem_lines_too():
    parsed = parse_reading_list(f"- {'Word ' * 100}\n- {'🔥' * 500}\n")

    assert parsed.entries[0].title == ("Word " * 60).strip()
    assert len(parsed.problems[0].text) == 200


def test_only_web_links_count():
    entry = only(
        "- [Title](javascript:alert(1)) [slides](data:text/html,x) [notes](notes.md) "
        "arXiv:1706.03762"
    )

    # A relative link to notes is kept as a note; its label is not part of the title.
    assert (entry.title, entry.materials, entry.notes) == ("Title slides", (), ("notes.md",))


def test_empty_list_and_too_many_papers_are_errors():
    with pytest.raises(ReadingListError) as empty:
        parse_reading_list("# Our list\n\n## Coming soon\n\n---\n- 🔥\n")
    with pytest.raises(ReadingListError) as many:
        parse_reading_list("".join(f"- Paper {n}\n" for n in range(MAX_ENTRIES + 1)))

    assert empty.value.message == "No papers were found in this list."
    assert many.value.message == "The list has more than 2,000 papers. Split it into smaller lists."
    assert len(parse_reading_list("".join(f"- P{n}\n" for n in range(MAX_ENTRIES))).entries) == (
        MAX_ENTRIES
    )


def test_text_larger_than_the_limit_is_an_error():
    with pytest.raises(ReadingListError) as error:
        parse_reading_list("- é\n" * (MAX_BYTES // 4))

    assert error.value.message == "The file is larger than 512 KB."


def test_hostile_titles_stay_plain_text():
    entry = only(
        "- [<script>alert(1)</script>](https://arxiv.org/abs/1706.03762) — <b>bold</b> &lt;i>"
    )

    # Formatting tags copied from a page go; other tags and entities stay as text.
    assert (entry.title, entry.takeaway) == ("<script>alert(1)</script>", "bold <i>")


# Uploads


def test_upload_in_utf8_with_a_byte_order_mark():
    assert decode_upload("\ufeff- Café paper\n".encode()) == "- Café paper\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("- Café paper".encode("latin-1"), "The file is not UTF-8 text."),
        (b"- a paper\x00\x00", "This looks like a binary file"),
        ("- a paper".encode("utf-16"), "The file is not UTF-8 text (it is UTF-16)."),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "This looks like a binary file"),
        (b"- a\n" + b"\x01\x02\x03\x04" * 10, "This looks like a binary file"),
        (b"x" * (MAX_BYTES + 1), "The file is larger than 512 KB."),
    ],
    ids=["latin-1", "nul", "utf-16", "pdf", "controls", "oversize"],
)
def test_upload_that_is_not_a_text_file_is_refused(data, message):
    with pytest.raises(ReadingListError) as error:
        decode_upload(data)

    assert error.value.message.startswith(message)


def test_upload_of_exactly_the_limit_is_read():
    assert len(decode_upload(b"a" * MAX_BYTES)) == MAX_BYTES


# Markdown export


ITEMS = [
    item(
        "Attention Is All You Need",
        "1706.03762",
        takeaway="Attention alone is enough.",
        materials=[("Slides", "https://example.com/a.pdf"), ("Recording", "https://youtu.be/a")],
        section="Foundations",
    ),
    item("Direct Preference Optimization", "2305.18290", takeaway="RLHF without RL."),
    item("LoRA: Low-Rank Adaptation", None, takeaway="Cheap fine-tuning.", section="Efficiency"),
    item("The Illustrated Transformer", url="https://jalammar.github.io/t/", section="Foundations"),
]


def test_markdown_groups_items_by_section_with_unsectioned_items_first():
    markdown = to_markdown(
        title="Our *club*", intro="We read weekly.\n1. Bring a question", items=ITEMS
    )

    assert markdown == (
        "# Our \\*club\\*\n"
        "\n"
        "We read weekly.\n"
        "1\\. Bring a question\n"
        "\n"
        "1. [Direct Preference Optimization](https://arxiv.org/abs/2305.18290) — RLHF without RL.\n"
        "\n"
        "## Foundations\n"
        "\n"
        "1. [Attention Is All You Need](https://arxiv.org/abs/1706.03762) — Attention alone is "
        "enough. · [Slides](https://example.com/a.pdf) · [Recording](https://youtu.be/a)\n"
        "2. [The Illustrated Transformer](https://jalammar.github.io/t/)\n"
        "\n"
        "## Efficiency\n"
        "\n"
        "1. LoRA: Low-Rank Adaptation — Cheap fine-tuning.\n"
    )
    parsed = parse_reading_list(markdown)
    assert parsed.title == "Our *club*"
    assert parsed.sections == ("Foundations", "Efficiency")


def test_markdown_puts_bold_label_groups_before_sections_so_they_read_back_unsectioned():
    dpo, attention, lora, blog = ITEMS[1], ITEMS[0], ITEMS[2], ITEMS[3]
    groups = [
        ("Foundations", [attention]),
        ("*Read*", [dpo, blog]),
        ("", [lora]),
        ("*Up next*", [dpo]),  # already written: left out, and so is the empty group
    ]

    markdown = to_markdown(title="Club", items=[], groups=groups)

    assert markdown.splitlines()[2:9] == [
        "1. LoRA: Low-Rank Adaptation — Cheap fine-tuning.",
        "",
        "**Read**",
        "",
        "1. [Direct Preference Optimization](https://arxiv.org/abs/2305.18290) — RLHF without RL.",
        "2. [The Illustrated Transformer](https://jalammar.github.io/t/)",
        "",
    ]
    assert "Up next" not in markdown
    parsed = parse_reading_list(markdown)
    assert [(e.title, e.section) for e in parsed.entries] == [
        ("LoRA: Low-Rank Adaptation", ""),
        ("Direct Preference Optimization", ""),
        ("The Illustrated Transformer", ""),
        ("Attention Is All You Need", "Foundations"),
    ]


def test_markdown_escapes_html_and_markdown_in_titles_and_reads_them_back():
    hostile = [
        item("<script>alert(1)</script>", "1706.03762", takeaway="<img src=x onerror=alert(1)>"),
        item("[x](javascript:alert(1))", url="https://example.com/x", takeaway="**not bold**"),
        item("Paper", url="https://github.com/a/b", materials=[("<b>Deck</b>", "https://x.org/")]),
        item('"Quoted." (Smith et al., 2020)', takeaway="— a dash first; 2305.18290 is not an ID"),
    ]

    markdown = to_markdown(title="<h1>Club</h1>", items=hostile)

    assert "<script" not in markdown and "<img" not in markdown and "<b>" not in markdown
    assert "&lt;script>alert(1)&lt;/script>" in markdown
    assert "[x](javascript" not in markdown
    entries = parse_reading_list(markdown).entries
    assert [(e.title, e.arxiv_id, e.url, e.takeaway, e.materials) for e in entries] == [
        (i.title, i.arxiv_id, i.url, i.takeaway, i.materials) for i in hostile
    ]


def test_markdown_leaves_out_what_cannot_be_read_back():
    markdown = to_markdown(
        title="",
        items=[
            item("", url="https://example.com/untitled"),
            item("Kept", "2305.18290v3", url="https://example.com/ignored"),
            item("kept again", "2305.18290"),
            item("Links", url="javascript:alert(1)", materials=[("x", "ftp://example.com/f")]),
        ],
    )

    assert markdown == "1. [Kept](https://arxiv.org/abs/2305.18290)\n2. Links\n"


# BibTeX export


def test_bibtex_entries_with_keys_escapes_and_arxiv_fields():
    bibtex = to_bibtex(
        [
            item(
                "Attention Is All You Need",
                "1706.03762",
                authors="Ashish Vaswani, Noam Shazeer, et al.",
                year=2017,
                takeaway="Attention is 100% of what you need & more.",
            ),
            item(
                "Attention Is {All} You Need_2",
                url="https://example.com/a_b#c",
                authors="Vaswani, Ashish and Müller, Jörg",
                year=2017,
            ),
            item("The Bitter Lesson", url="http://incompleteideas.net/x"),
        ]
    )

    assert bibtex == (
        "@misc{vaswani2017attention,\n"
        "  title = {{Attention Is All You Need}},\n"
        "  author = {Ashish Vaswani and Noam Shazeer and others},\n"
        "  year = {2017},\n"
        "  eprint = {1706.03762},\n"
        "  archivePrefix = {arXiv},\n"
        "  url = {https://arxiv.org/abs/1706.03762},\n"
        "  note = {Attention is 100\\% of what you need \\& more.},\n"
        "}\n"
        "\n"
        "@article{vaswani2017attentiona,\n"
        "  title = {{Attention Is \\textbraceleft{}All\\textbraceright{} You Need\\_2}},\n"
        "  author = {Vaswani, Ashish and Müller, Jörg},\n"
        "  year = {2017},\n"
        "  url = {https://example.com/a_b\\#c},\n"
        "}\n"
        "\n"
        "@article{bitter,\n"
        "  title = {{The Bitter Lesson}},\n"
        "  url = {http://incompleteideas.net/x},\n"
        "}\n"
    )


def test_bibtex_of_nothing_is_empty():
    assert to_bibtex([]) == ""


# Properties


def braces_balance(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


MARKDOWN_BITS = st.sampled_from(
    [
        "\n", "\n\n", "  ", "\t", "- ", "* ", "1. ", "2) ", "(3) ", "• ", "# ", "## ", "```\n",
        "---\n", "**", "*", "_", "__", "`", "[", "]", "(", ")", "<", ">", "&lt;", "&#183;", "\\",
        ":", " — ", " - ", " | ", " · ", '"', "“", "”", "[slides](https://youtu.be/x)",
        "[Attention](https://arxiv.org/abs/1706.03762v2)", "https://arxiv.org/pdf/2005.14165.pdf",
        "arXiv:2305.18290", "hep-th/9901001", "2023.12345", "https://github.com/a/b",
        "(Vaswani et al., 2017)", "[pdf]", "<script>alert(1)</script>", "Attention Is All You Need",
        "paper", "slides", "\x00", "\u2028", "\r", "\ufeff", "🔥", "\U000f0041", "\U000f1000",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=5))).map("".join)))
@example("- [x](https://arxiv.org/abs/1706.03762)\n" + " " * 5000 + "- y\n")
@example("[" * 3000 + "](" * 3000)
@example("## [](https://example.com)\n- x")
def test_parser_only_ever_raises_reading_list_error(text):
    try:
        parsed = parse_reading_list(text)
    except ReadingListError as error:
        assert error.message
        return
    lines = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for entry in parsed.entries:
        assert len(entry.title) <= TITLE_MAX
        assert len(entry.takeaway) <= TAKEAWAY_MAX
        assert entry.title or entry.arxiv_id
        assert 1 <= entry.line <= lines
        assert all(m.url.startswith(("http://", "https://")) for m in entry.materials)
    assert all(len(problem.text) <= 200 for problem in parsed.problems)
    assert set(parsed.sections) == {e.section for e in parsed.entries} - {""}


def tidy(text: str) -> str:
    return " ".join(text.split())


TEXT_BITS = st.sampled_from(
    [
        "a", "Z", "0", "é", "日本", "🙂", " ", "\t", "[", "]", "(", ")", ":", "-", "—", "\u2013",
        "*", "**", "_", "`", "~", "\\", "<", ">", "&", "&lt;", "&#8212;", "#", "|", "·", "•",
        '"', "'", "“", "”", ".", ",", ";", "!", "?", "https://x.org", "www.", "1706.03762",
        "hep-th/9901001", "arXiv:", "(Smith et al., 2020)", "(pdf)", "[arXiv]",
        "<script>alert(1)</script>", "Paper", "Slides", "Code", "link", "LoRA: Low-Rank",
    ]
)  # fmt: skip
texts = st.lists(TEXT_BITS, max_size=12).map(lambda bits: tidy("".join(bits)))
titles = texts.filter(lambda text: any(char.isalnum() for char in text))
new_ids = st.from_regex(r"\A(0[7-9]|1[0-9]|2[0-5])(0[1-9]|1[0-2])\.\d{5}\Z")
arxiv_ids = st.one_of(new_ids, st.sampled_from(["hep-th/9901001", "math.GT/0309136"]))
web_urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["example.com", "youtu.be", "github.com", "docs.google.com", "discord.gg"]),
    st.text("abcXYZ019/_-.~%=&()[]*<>\\é", max_size=12),
)
labels = st.builds(
    lambda first, rest: tidy(first + rest)[:120],
    st.sampled_from("SRDCN日É"),
    texts.map(lambda text: text.replace("/", "")),
)
materials = st.lists(st.builds(Material, label=labels, url=web_urls), max_size=3)
sections = st.sampled_from(["", "Intro to Modern LLMs", "RLHF #", "*Starred*", "[x](y)", "Ça"])


@st.composite
def export_items(draw):
    arxiv_id = draw(st.one_of(st.none(), arxiv_ids))
    url = arxiv_url(arxiv_id) if arxiv_id else draw(st.one_of(st.just(""), web_urls))
    title = draw(titles if not arxiv_id else st.one_of(st.just(""), titles))
    if not arxiv_id and not title:
        title = "Untitled"
    seen = {normalize_url(url)} if url else set()
    kept = []
    for material in draw(materials):
        if normalize_url(material.url) not in seen:
            seen.add(normalize_url(material.url))
            kept.append(material)
    return ExportItem(
        title=title[:TITLE_MAX].rstrip(),
        arxiv_id=arxiv_id,
        url=url,
        authors=draw(st.text(max_size=20)),
        year=draw(st.one_of(st.none(), st.integers(1900, 2100))),
        takeaway=draw(texts)[:TAKEAWAY_MAX].rstrip(),
        materials=tuple(kept),
        section=draw(sections),
    )


def paper_key(export_item: ExportItem):
    if export_item.arxiv_id:
        return export_item.arxiv_id
    return normalize_url(export_item.url) if export_item.url else export_item.title.casefold()


def read_back(markdown: str) -> list[tuple]:
    return [
        (e.title, e.arxiv_id, e.url, e.takeaway, e.materials, e.section)
        for e in parse_reading_list(markdown).entries
    ]


def fields(export_item: ExportItem, section: str) -> tuple:
    i = export_item
    return (i.title, i.arxiv_id, i.url, i.takeaway, i.materials, section)


unique_items = st.lists(export_items(), min_size=1, max_size=6, unique_by=paper_key)


@settings(max_examples=200, deadline=None)
@given(unique_items, texts, texts)
def test_markdown_reads_back_as_the_same_items(items, title, intro):
    markdown = to_markdown(title=title, intro=intro, items=items)

    by_section = {"": []} | {i.section: [] for i in items}
    for i in items:
        by_section[i.section].append(i)
    assert read_back(markdown) == [
        fields(i, section) for section, group in by_section.items() for i in group
    ]
    assert parse_reading_list(markdown).title == title[:TITLE_MAX].rstrip()
    assert parse_reading_list(markdown).problems == ()


@pytest.mark.parametrize("title", ["# a", "## Attention", "1. a", "12) Scaling laws", "+ a", "> a"])
@pytest.mark.parametrize("group", [None, "", "*Read*", "RLHF"])
def test_a_title_shaped_like_a_block_start_reads_back_as_itself(title, group):
    # Found by the round-trip property below: "# a" as an item's first text became a heading
    # inside the list item, and the list read back empty.
    paper = item(title)
    groups = None if group is None else [(group, [paper])]

    markdown = to_markdown(title="Club", items=[paper] if groups is None else [], groups=groups)

    assert [e.title for e in parse_reading_list(markdown).entries] == [title]


@settings(max_examples=200, deadline=None)
@given(unique_items, st.lists(st.sampled_from(["", "*Read*", "*Up next*", "RLHF", "Agents"])))
def test_markdown_in_groups_reads_back_with_bold_groups_in_no_section(items, names):
    names = names or [""]
    groups = [(names[n % len(names)], [i]) for n, i in enumerate(items)]

    markdown = to_markdown(title="Club", items=[], groups=groups)

    unheaded = [fields(i, "") for name, (i,) in groups if name == ""]
    labelled = [fields(i, "") for name, (i,) in groups if name.startswith("*")]
    headed = [fields(i, name) for name, (i,) in groups if name and not name.startswith("*")]
    assert read_back(markdown) == unheaded + labelled + headed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.builds(item, st.text(), authors=st.text(), takeaway=st.text(), url=st.text())))
def test_bibtex_braces_always_balance(items):
    assert braces_balance(to_bibtex(items))
