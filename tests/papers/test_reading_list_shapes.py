"""The shapes clubs publish their lists in, read as a careful person would list them.

One fixture per shape in `fixtures/reading_lists/`, written messy on purpose, and a variant of
each: the preview must list exactly the papers a person would list, with the fields a person
would fill, and say which lines it skipped and why.
"""

from pathlib import Path

import pytest

from papers.reading_lists.parse import parse_reading_list

FIXTURES = Path(__file__).parent / "fixtures" / "reading_lists"
SKIP = "Skipped, not a paper: "


def read(name: str, **options):
    return parse_reading_list((FIXTURES / name).read_text(encoding="utf-8"), **options)


def papers(parsed) -> list[tuple]:
    return [
        (e.title, e.arxiv_id, e.year, e.authors, e.takeaway, e.sections) for e in parsed.entries
    ]


def skipped(parsed) -> list[tuple[int, str]]:
    return [(p.line, p.reason.removeprefix(SKIP)) for p in parsed.skipped]


def test_blog_post_lists_its_papers_and_skips_intro_footer_and_citation():
    parsed = read("blog_post.md")

    assert parsed.title == "The papers that shaped our year in language models"
    assert papers(parsed) == [
        ("Attention Is All You Need", "1706.03762", None, "", "attention alone is enough.", ()),
        (
            "Scaling Laws for Neural Language Models",  # "(opens in a new tab)" is gone
            "2001.08361",
            None,
            "",
            "loss falls as a power law in compute.",
            (),
        ),
        (
            "InstructGPT: Training language models to follow instructions with human feedback",
            None,
            None,
            "",
            "40 labelers are all you need",
            (),
        ),
        ("RWKV - Reinventing RNNs for the Transformer Era", None, None, "", "", ()),
        (
            "Beyond Human Data: Scaling Self-Training for Problem-Solving with Language Models "
            "REST^EM",
            "2312.06585",
            None,
            "",
            "",  # followed only by links: no "( , )"
            (),
        ),
        ("Chinchilla", "2203.15556", None, "", "", ()),
    ]
    chinchilla = parsed.entries[-1]
    assert chinchilla.summary.startswith("train a smaller model on more tokens. Our favourite")
    assert [m.label for m in parsed.entries[4].materials] == ["Code"]
    assert skipped(parsed) == [
        (3, "a footer or signature."),
        (5, "a sentence, not a title."),
        (6, "a sentence, not a title."),
        (8, "a sentence, not a title."),
        (9, "a paragraph of text outside the list."),
        (18, "a question."),
        (20, "a call to action."),
        (22, "an introduction to the list."),
        (24, "part of a citation block (BibTeX)."),
        (25, "part of a citation block (BibTeX)."),
        (26, "part of a citation block (BibTeX)."),
        (27, "part of a citation block (BibTeX)."),
        (28, "part of a citation block (BibTeX)."),
        (29, "a paragraph of text outside the list."),
        (31, "a footer or signature."),
        (33, "a footer or signature."),
    ]
    assert parsed.problems == ()


def test_blog_post_variant_with_mixed_bullets_reference_links_html_and_a_fenced_citation():
    parsed = read("blog_post_variant.md")

    assert parsed.title == "Our favourite papers of 2023"
    assert papers(parsed) == [
        (
            "QLoRA: Efficient Finetuning of Quantized LLMs",
            "2305.14314",
            None,
            "",
            "finetune a 65B model on one GPU",
            (),
        ),
        (
            "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
            "2305.18290",  # from the reference-style link at the bottom
            None,
            "",
            "no reward model, no RL",
            (),
        ),
        ("Mistral 7B", "2310.06825", None, "", "", ()),
        ("Lets Verify Step by Step", None, None, "", "", ()),
        (
            "Toolformer: Language Models Can Teach Themselves to Use Tools",  # <b> copied in
            "2302.04761",
            None,
            "",
            "",
            (),
        ),
    ]
    reasons = dict(skipped(parsed))
    assert reasons[13] == "a call to action."
    assert reasons[15] == "part of a citation block (BibTeX)."
    assert (reasons[22], reasons[23]) == (
        "a footer or signature.",
        "a paragraph of text outside the list.",
    )


def test_numbered_readme_keeps_slides_recordings_and_discord_links_with_each_paper():
    parsed = read("numbered_readme.md")

    assert parsed.title == "Latent Space Paper Club"
    assert [(e.line, e.title, e.arxiv_id, e.sections) for e in parsed.entries] == [
        (8, "Attention Is All You Need", "1706.03762", ("Schedule",)),
        (
            9,
            "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
            "1810.04805",
            ("Schedule",),
        ),
        (10, "Language Models are Unsupervised Multitask Learners", None, ("Schedule",)),
        (11, "Scaling Laws for Neural Language Models", "2001.08361", ("Schedule",)),
        (14, "Chinchilla", "2203.15556", ("Schedule",)),
        (15, "Llama 2: Open Foundation and Fine-Tuned Chat Models", "2307.09288", ("Schedule",)),
        (16, "Mixtral of Experts", "2401.04088", ("Schedule",)),
        (
            20,
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
            "2312.00752",
            ("Upcoming",),
        ),
        (21, "Self-Rewarding Language Models", "2401.10020", ("Upcoming",)),
    ]
    by_line = {e.line: e for e in parsed.entries}
    assert [m.label for m in by_line[8].materials] == ["Slides", "Recording", "Discord thread"]
    assert [m.label for m in by_line[11].materials] == ["Slides", "Recording"]
    assert [m.url for m in by_line[14].materials] == ["https://youtu.be/chin05"]
    assert by_line[10].takeaway == ""  # "GPT-2:" before the link is a nickname
    assert by_line[10].url.startswith("https://cdn.openai.com/")
    assert skipped(parsed) == [
        (3, "a sentence, not a title."),
        (4, "a sentence, not a title."),
        (23, "a call to action."),
        (25, "a footer or signature."),
    ]


def test_numbered_readme_variant_as_a_table_with_reference_links():
    parsed = read("numbered_readme_variant.md")

    assert parsed.title == "Paper Club (ML Study Group)"
    assert [(e.title, e.arxiv_id, e.takeaway) for e in parsed.entries] == [
        ("Deep Residual Learning for Image Recognition", "1512.03385", ""),
        (
            "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
            "2010.11929",
            "",
        ),
        ("Denoising Diffusion Probabilistic Models", "2006.11239", ""),
        ("Learning Transferable Visual Models From Natural Language Supervision", "2103.00020", ""),
        ("High-Resolution Image Synthesis with Latent Diffusion Models", "2112.10752", ""),
        ("Segment Anything", "2304.02643", ""),
    ]
    assert [m.label for m in parsed.entries[0].materials] == ["Slides", "Video"]
    assert [m.label for m in parsed.entries[3].materials] == ["Discord"]
    assert skipped(parsed) == [(14, "a question.")]


def test_rules_page_offers_its_discussion_questions_and_lists_the_timeline():
    parsed = read("rules_page.md")

    assert parsed.questions == (
        "Big Idea: What is the one idea the paper stands on?",
        "Relevance: Why does it matter to the work we do?",
        "Open Questions: What does the paper leave unanswered?",
        "What would you try next?",
    )
    assert papers(parsed) == [
        ("Attention Is All You Need", "1706.03762", None, "", "", ("Timeline",)),
        ("Denoising Diffusion Probabilistic Models", None, None, "", "", ("Timeline",)),
        (
            "Proximal Policy Optimization Algorithms",
            "1707.06347",
            None,
            "",
            "clipped updates keep policy steps small",
            ("Timeline",),
        ),
        ("Language Models are Few-Shot Learners", "2005.14165", None, "", "", ("Timeline",)),
    ]
    question = "a discussion question (offered as the club's questions)."
    assert skipped(parsed) == [
        (3, "a sentence, not a title."),
        (4, "a call to action."),
        (8, "an introduction to the list."),
        (10, question),
        (12, question),
        (14, question),
        (16, question),
        (20, "a sentence, not a title."),
        (21, "an item under “Rules”, about the club."),
    ]


def test_rules_page_variant_with_inline_questions_and_a_plain_text_timeline():
    parsed = read("rules_page_variant.md")

    assert parsed.questions == (
        "Big Idea: What problem does this paper solve, in one sentence?",
        "Relevance: Who should care, and why now?",
        "Open Questions: What would we test first if we had the compute?",
    )
    assert papers(parsed) == [
        (
            "Deep Residual Learning for Image Recognition",
            "1512.03385",
            2015,
            "He et al.",
            "",
            ("Papers we have read",),
        ),
        (
            "Batch Normalization: Accelerating Deep Network Training by Reducing Internal "
            "Covariate Shift",
            None,
            None,
            "",
            "",
            ("Papers we have read",),
        ),
        (
            "Adam: A Method for Stochastic Optimization",
            "1412.6980",
            None,
            "",
            "",
            ("Papers we have read",),
        ),
    ]
    assert [line for line, _ in skipped(parsed)] == [3, 5, 7, 8, 9, 17]


def test_themed_sections_put_a_repeated_paper_in_every_track_and_keep_relative_links():
    parsed = read("themed_sections.md")

    assert parsed.sections == ("Architectures", "Efficiency", "Alignment")
    assert parsed.base_url == "https://github.com/example-club/reading-list/blob/main/"
    assert [(e.title, e.arxiv_id, e.sections, e.notes) for e in parsed.entries] == [
        (
            "Attention Is All You Need",
            "1706.03762",
            ("Architectures", "Alignment"),
            ("Architectures/Attention_Is_All_You_Need.md",),
        ),
        (
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
            "2312.00752",
            ("Architectures", "Efficiency"),
            (),
        ),
        (
            "RWKV - Reinventing RNNs for the Transformer Era",
            None,
            ("Architectures",),
            ("Architectures/RWKV.md",),
        ),
        (
            "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
            "2205.14135",
            ("Efficiency",),
            (),
        ),
        (
            "LoRA: Low-Rank Adaptation of Large Language Models",
            None,
            ("Efficiency",),
            ("Efficiency/LoRA.md",),
        ),
        (
            "Training language models to follow instructions with human feedback",
            "2203.02155",
            ("Alignment",),
            (),
        ),
    ]
    instruct = parsed.entries[-1]
    assert instruct.takeaway == ""
    assert instruct.summary.startswith("The InstructGPT paper. Labelers wrote demonstrations")
    assert parsed.problems == ()


def test_themed_sections_resolve_relative_links_against_the_base_url():
    parsed = read(
        "themed_sections.md", base_url="https://github.com/example-club/reading-list/blob/main/"
    )

    rwkv = parsed.entries[2]
    assert (
        rwkv.url == "https://github.com/example-club/reading-list/blob/main/Architectures/RWKV.md"
    )
    assert rwkv.notes == ()
    lora = parsed.entries[4]
    assert [(m.label, m.url) for m in lora.materials] == [
        ("Notes", "https://github.com/example-club/reading-list/blob/main/Efficiency/LoRA.md")
    ]


def test_themed_sections_variant_with_reference_links_repeated_across_tracks():
    parsed = read("themed_sections_variant.md")

    assert parsed.title == "Reading tracks"
    assert [(e.title, e.arxiv_id, e.sections, e.notes) for e in parsed.entries] == [
        (
            "Dense Passage Retrieval for Open-Domain Question Answering",
            "2004.04906",
            ("Track A: Retrieval", "Track B: Long context"),
            (),
        ),
        (
            "REALM: Retrieval-Augmented Language Model Pre-Training",
            None,
            ("Track A: Retrieval",),
            ("papers/realm.md",),
        ),
        ("Longformer: The Long-Document Transformer", "2004.05150", ("Track B: Long context",), ()),
        (
            "Ring Attention with Blockwise Transformers for Near-Infinite Context",
            None,
            ("Track B: Long context",),
            (),
        ),
    ]
    assert parsed.problems == parsed.skipped == ()


def test_web_page_copy_reads_each_run_of_lines_as_one_paper_in_reading_order():
    parsed = read("web_page_copy.txt")

    track = ("Foundational Papers in Generative AI",)
    assert parsed.title == "Foundational Papers in Generative AI"
    assert papers(parsed) == [
        (
            "Attention Is All You Need",
            None,
            2017,
            "Vaswani et al. (Google Brain)",
            "Introduced the Transformer, replacing recurrence with self-attention.",
            track,
        ),
        (
            "Improving Language Understanding by Generative Pre-Training",
            None,
            2018,  # glued to the previous "Read on arXiv →"
            "Radford et al. (OpenAI)",
            "Showed that generative pre-training followed by fine-tuning works across tasks.",
            track,
        ),
        (
            "Denoising Diffusion Probabilistic Models",
            None,
            2020,
            "Ho, Jain, Abbeel (UC Berkeley)",
            "",  # too long for a takeaway: the summary
            track,
        ),
        (
            "Training language models to follow instructions with human feedback",
            None,
            2022,
            "Ouyang et al. (OpenAI)",
            "RLHF makes a small model preferred over a 100x larger one.",
            track,
        ),
    ]
    assert parsed.entries[2].summary.startswith("Diffusion models trained as denoisers")
    assert skipped(parsed) == [
        (1, "the page's title."),
        (2, "the page's introduction."),
        (23, "a question."),
        (24, "a footer or signature."),
    ]


def test_web_page_copy_variant_with_new_tab_labels_and_a_run_without_description():
    parsed = read("web_page_copy_variant.txt")

    assert parsed.title == "Essential reading"
    assert [(e.title, e.year, e.authors, e.sections) for e in parsed.entries] == [
        (
            "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
            2023,
            "Rafailov et al. (Stanford)",
            (),  # newest first: no reading order, no track
        ),
        ("LoRA: Low-Rank Adaptation of Large Language Models", 2021, "Hu et al. (Microsoft)", ()),
        ("Scaling Laws for Neural Language Models", 2020, "Kaplan et al. (OpenAI)", ()),
    ]
    assert parsed.entries[2].takeaway == ""
    assert skipped(parsed) == [
        (1, "the page's title."),
        (2, "the page's introduction."),
        (17, "a footer or signature."),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "See an error? Raise a PR",
        "Subscribe to our newsletter for more.",
        "@article{vaswani2017attention,",
        "  title = {Attention Is All You Need},",
        "  year = {2024}",
        "Thanks for reading!",
        "Cheers, Sam",
        "© 2024 The Club. All rights reserved.",
        "What did you think of this week's paper?",
        "Here are the papers we read this year:",
    ],
)
def test_prose_lines_are_skipped_with_a_reason_in_plain_text(line):
    parsed = parse_reading_list(f"Attention Is All You Need\n{line}\nDeep Residual Learning\n")

    assert [e.title for e in parsed.entries] == [
        "Attention Is All You Need",
        "Deep Residual Learning",
    ]
    assert [p.line for p in parsed.skipped] == [2]
    assert parsed.skipped[0].reason.startswith(SKIP)


def test_latex_in_a_title_is_shown_as_text():
    (entry,) = parse_reading_list(
        r"- Beyond Human Data \(\text{REST}^{EM}\) https://arxiv.org/abs/2312.06585" "\n"
    ).entries

    assert entry.title == "Beyond Human Data REST^EM"


def test_blog_post_with_a_heading_per_paper_reads_each_heading_and_its_paragraphs():
    parsed = read("blog_post_headings.md")

    assert parsed.title == "Ten papers we loved this year"
    assert [(e.title, e.arxiv_id, e.authors, e.takeaway) for e in parsed.entries] == [
        (
            "Attention Is All You Need",
            "1706.03762",
            "Vaswani et al.",
            "The one that started it: attention alone, no recurrence.",
        ),
        (
            "LoRA: Low-Rank Adaptation of Large Language Models",
            "2106.09685",
            "",
            "Fine-tune by learning low-rank updates to frozen weights.",
        ),
        ("Mixtral of Experts", "2401.04088", "", "Sparse experts make a big model cheap to run."),
    ]
    assert [m.label for m in parsed.entries[1].materials] == ["Code"]
    assert skipped(parsed) == [(3, "a sentence, not a title."), (23, "a footer or signature.")]


def test_an_asterisk_that_is_not_emphasis_stays_in_the_text():
    parsed = parse_reading_list("- Attention Is All You Need: {{7*7}} heads, 2 * 3 layers\n")

    assert [(e.title, e.takeaway) for e in parsed.entries] == [
        ("Attention Is All You Need", "{{7*7}} heads, 2 * 3 layers")
    ]
