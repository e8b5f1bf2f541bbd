"""Demo data shaped like real paper clubs. Safe to run again: existing demo clubs are left alone."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from clubs.models import Club, Weekday
from clubs.services import create_club, create_invite, join_club
from integrations.models import DiscordLink
from papers.models import Poll
from papers.polls import close_poll, open_poll, set_ranking
from papers.reading_lists.services import import_reading_list
from papers.services import suggest_paper
from papers.votes import set_vote
from sessions.services import post_notes, schedule_meeting, set_materials, set_rsvp

DEMO_PASSWORD = "paperclub-demo"

STUDY_TRACKS = """# Friday Study Group tracks

## Foundations
1. [Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385) — learn residuals and depth stops hurting.
2. [Attention Is All You Need](https://arxiv.org/abs/1706.03762) — attention alone is enough. [slides](https://jalammar.github.io/illustrated-transformer/)

## Retrieval
1. [Dense Passage Retrieval for Open-Domain Question Answering](https://arxiv.org/abs/2004.04906) — two encoders beat BM25.
2. [Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks](https://arxiv.org/abs/2005.11401) — the paper that named RAG.

## RLHF
1. [Training language models to follow instructions with human feedback](https://arxiv.org/abs/2203.02155) — InstructGPT.
2. [Direct Preference Optimization](https://arxiv.org/abs/2305.18290) — RLHF without the RL. [code](https://github.com/eric-mitchell/direct-preference-optimization)
"""

PEOPLE = [
    ("organizer@example.com", "Mei (organizer)", "Asia/Singapore"),
    ("member@example.com", "Sam (member)", "Europe/Berlin"),
    ("priya@example.com", "Priya Raman", "Asia/Kolkata"),
    ("tomas@example.com", "Tomás", "America/Sao_Paulo"),
    ("yuki@example.com", "Yuki Tanaka", "Asia/Tokyo"),
    ("alex@example.com", "Alex Morgan", "America/New_York"),
]

# (arXiv ID, title, authors, year) — facts; the pitches and notes below are our own words.
PAPERS = {
    "1706.03762": (
        "Attention Is All You Need",
        "Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser, Polosukhin",
        2017,
    ),
    "1810.04805": (
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        "Devlin, Chang, Lee, Toutanova",
        2018,
    ),
    "2005.14165": (
        "Language Models are Few-Shot Learners",
        "Brown, Mann, Ryder, Subbiah, Kaplan, et al.",
        2020,
    ),
    "2305.18290": (
        "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
        "Rafailov, Sharma, Mitchell, Ermon, Manning, Finn",
        2023,
    ),
    "2203.02155": (
        "Training language models to follow instructions with human feedback",
        "Ouyang, Wu, Jiang, Almeida, Wainwright, et al.",
        2022,
    ),
    "2106.09685": (
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "Hu, Shen, Wallis, Allen-Zhu, Li, Wang, Wang, Chen",
        2021,
    ),
    "2005.11401": (
        "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks",
        "Lewis, Perez, Piktus, Petroni, Karpukhin, et al.",
        2020,
    ),
    "2201.11903": (
        "Chain-of-Thought Prompting Elicits Reasoning in Large Language Models",
        "Wei, Wang, Schuurmans, Bosma, Ichter, Xia, Chi, Le, Zhou",
        2022,
    ),
    "2001.08361": (
        "Scaling Laws for Neural Language Models",
        "Kaplan, McCandlish, Henighan, Brown, Chess, et al.",
        2020,
    ),
    "2203.15556": (
        "Training Compute-Optimal Large Language Models",
        "Hoffmann, Borgeaud, Mensch, Buchatskaya, Cai, et al.",
        2022,
    ),
    "2302.13971": (
        "LLaMA: Open and Efficient Foundation Language Models",
        "Touvron, Lavril, Izacard, Martinet, Lachaux, et al.",
        2023,
    ),
    "2205.14135": (
        "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
        "Dao, Fu, Ermon, Rudra, Ré",
        2022,
    ),
    "2312.00752": (
        "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
        "Gu, Dao",
        2023,
    ),
    "2212.08073": (
        "Constitutional AI: Harmlessness from AI Feedback",
        "Bai, Kadavath, Kundu, Askell, Kernion, et al.",
        2022,
    ),
    "2302.04761": (
        "Toolformer: Language Models Can Teach Themselves to Use Tools",
        "Schick, Dwivedi-Yu, Dessì, Raileanu, Lomeli, et al.",
        2023,
    ),
    "2210.03629": (
        "ReAct: Synergizing Reasoning and Acting in Language Models",
        "Yao, Zhao, Yu, Du, Shafran, Narasimhan, Cao",
        2022,
    ),
    "2004.04906": (
        "Dense Passage Retrieval for Open-Domain Question Answering",
        "Karpukhin, Oğuz, Min, Lewis, Wu, Edunov, Chen, Yih",
        2020,
    ),
    "2010.11929": (
        "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
        "Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, et al.",
        2020,
    ),
    "2103.00020": (
        "Learning Transferable Visual Models From Natural Language Supervision",
        "Radford, Kim, Hallacy, Ramesh, Goh, et al.",
        2021,
    ),
    "2006.11239": ("Denoising Diffusion Probabilistic Models", "Ho, Jain, Abbeel", 2020),
    "1707.06347": (
        "Proximal Policy Optimization Algorithms",
        "Schulman, Wolski, Dhariwal, Radford, Klimov",
        2017,
    ),
    "2104.09864": (
        "RoFormer: Enhanced Transformer with Rotary Position Embedding",
        "Su, Lu, Pan, Murtadha, Wen, Liu",
        2021,
    ),
    "2101.03961": (
        "Switch Transformers: Scaling to Trillion Parameter Models with Simple and Efficient Sparsity",
        "Fedus, Zoph, Shazeer",
        2021,
    ),
    "1512.03385": ("Deep Residual Learning for Image Recognition", "He, Zhang, Ren, Sun", 2015),
}

# The authors' public code for some of the papers.
CODE = {
    "1706.03762": "https://github.com/tensorflow/tensor2tensor",
    "2106.09685": "https://github.com/microsoft/LoRA",
    "2305.18290": "https://github.com/eric-mitchell/direct-preference-optimization",
    "1810.04805": "https://github.com/google-research/bert",
}

ASIA_RULES = """We read one paper a week and talk it through under three questions:

1. **Big Idea** — what is the paper's one new thing?
2. **Relevance** — why does it matter to us now?
3. **Open Questions** — what is left unanswered?

Anyone may suggest a paper. At the end of each session we vote on the next one; the winner is next week's paper. Notes go up after every session."""


class Command(BaseCommand):
    help = "Create demo clubs, members, papers, polls and sessions (idempotent)."

    def handle(self, *args, **options):
        people = self._people()
        created = []
        if not Club.objects.filter(slug="asia-paper-club").exists():
            self._asia_club(people)
            created.append("asia-paper-club")
        if not Club.objects.filter(slug="llm-reading-list").exists():
            self._reading_list_club(people)
            created.append("llm-reading-list")
        if not Club.objects.filter(slug="friday-study-group").exists():
            self._study_group(people)
            created.append("friday-study-group")
        # The demo's history is not news: drop the announcement emails it queued
        # (the reminder for the coming session and the poll's closing reminder stay).
        DBTaskResult.objects.filter(
            task_path__in=[
                "sessions.tasks.send_notes_posted",
                "sessions.tasks.send_poll_opened",
                "integrations.tasks.post_to_channel",
            ]
        ).delete()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created demo clubs: {', '.join(created)}"))
        else:
            self.stdout.write("Demo data already present; nothing to do.")
        self.stdout.write(
            "Sign in as the demo organizer: organizer@example.com / "
            f"{DEMO_PASSWORD}\nSign in as a demo member:    member@example.com / {DEMO_PASSWORD}"
        )
        self.stdout.write(
            "The live vote: as the organizer, open /c/asia-paper-club/sessions/3/ (the latest "
            "session) and choose “Vote for next week”."
        )

    def _people(self) -> dict[str, User]:
        from allauth.account.models import EmailAddress

        people = {}
        for email, name, zone in PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email, password=DEMO_PASSWORD, display_name=name, time_zone=zone
                )
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            people[email.split("@")[0]] = user
        return people

    def _suggest(self, club, user, arxiv_id, pitch):
        title, authors, year = PAPERS[arxiv_id]
        return suggest_paper(
            club=club,
            suggested_by=user,
            link=f"https://arxiv.org/abs/{arxiv_id}",
            pitch=pitch,
            title=title,
            authors=authors,
            year=year,
        )

    def _held(self, club, suggestion, starts_at, bodies, takeaway, presenters=()):
        meeting = schedule_meeting(
            club=club, suggestions=[suggestion], starts_at=starts_at, presenters=presenters
        )
        post_notes(
            meeting=meeting,
            author=presenters[0] if presenters else None,
            bodies=bodies,
            takeaways={suggestion.pk: takeaway},
        )
        arxiv_id = suggestion.paper.arxiv_id
        links = [("reading", f"https://arxiv.org/pdf/{arxiv_id}", "The paper (PDF)")]
        if arxiv_id in CODE:
            links.append(("code", CODE[arxiv_id], ""))
        set_materials(meeting=meeting, links=links, recorded=arxiv_id in CODE)
        return meeting

    def _weekly_past(self, club, weeks_ago):
        now = timezone.now()
        return club.next_slot_after(now - dt.timedelta(weeks=weeks_ago, days=7))

    @transaction.atomic
    def _asia_club(self, p):
        club = create_club(
            creator=p["organizer"],
            name="Asia Paper Club",
            slug="asia-paper-club",
            description="A weekly ML paper club in Asia-friendly hours. Anyone can suggest; we vote at the end of each session.",
            rules=ASIA_RULES,
            time_zone="Asia/Singapore",
            meeting_weekday=Weekday.WEDNESDAY,
            meeting_time=dt.time(20, 0),
            meeting_duration=60,
            place_name="Discord · #paper-club voice",
            place_url="https://discord.com/",
        )
        for who in ("member", "priya", "yuki", "tomas"):
            join_club(club=club, user=p[who])
        # A sample Discord server and channel, confirmed, so the settings page shows what a
        # linked club looks like (the IDs are made up: no bot posts to them).
        DiscordLink.objects.create(
            club=club,
            guild_id="1100000000000000001",
            channel_id="1100000000000000002",
            created_by=p["organizer"],
            confirmed_at=timezone.now(),
            confirmed_by_discord_user="1100000000000000003",
        )
        history = [
            (
                "1706.03762",
                "priya",
                "Everything we read later builds on it.",
                [
                    "Replace recurrence with **self-attention**; every token looks at every other token in one step.",
                    "The architecture under every model we use today.",
                    "- Why do sinusoidal positions work as well as learned ones?\n- How far can the quadratic cost be pushed?",
                ],
                "Attention alone is enough to model sequences.",
                5,
            ),
            (
                "2106.09685",
                "yuki",
                "The cheapest way to fine-tune that we all actually use.",
                [
                    "Freeze the weights and learn a **low-rank update** ΔW = BA for a few matrices.",
                    "Fine-tuning a 7B model on one GPU is possible because of this.",
                    "Which layers benefit most? Does rank 8 always suffice?",
                ],
                "Fine-tuning updates live in a tiny subspace.",
                4,
            ),
            (
                "2305.18290",
                "member",
                "RLHF without the RL: worth understanding before the next round of alignment papers.",
                [
                    "The reward model is implicit in the policy; preference learning becomes a **classification loss**.",
                    "Much simpler to run than PPO-based RLHF; most open models now use it or a variant.",
                    "Does it overfit to the preference data? How does it compare to PPO at scale?",
                ],
                "Your language model is secretly a reward model.",
                2,
            ),
        ]
        for weeks, (arxiv_id, who, pitch, bodies, takeaway, ago) in enumerate(history):
            s = self._suggest(club, p[who], arxiv_id, pitch)
            self._held(club, s, self._weekly_past(club, ago), bodies, takeaway, presenters=[p[who]])
            del weeks
        # Last week's vote chose the next paper: a closed poll and a scheduled session.
        ppo = self._suggest(
            club, p["tomas"], "1707.06347", "To read DPO properly we should know what it replaces."
        )
        cot = self._suggest(
            club, p["priya"], "2201.11903", "Short, readable, and still argued about."
        )
        poll = open_poll(club=club, opened_by=p["organizer"], budget=2)
        for who, picks in {
            "organizer": [ppo, cot],
            "member": [ppo],
            "priya": [cot, ppo],
            "yuki": [ppo],
        }.items():
            membership = club.memberships.get(user=p[who])
            for suggestion in picks:
                set_vote(poll=poll, membership=membership, suggestion=suggestion, approve=True)
        next_session = close_poll(poll=poll, closed_by=p["organizer"]).meeting
        for who, answer in {
            "member": "going",
            "priya": "going",
            "yuki": "maybe",
            "tomas": "no",
        }.items():
            set_rsvp(
                meeting=next_session, membership=club.memberships.get(user=p[who]), answer=answer
            )
        # This week's poll is open, with votes in.
        flash = self._suggest(
            club, p["yuki"], "2205.14135", "The IO-aware trick behind every fast attention kernel."
        )
        mamba = self._suggest(
            club,
            p["member"],
            "2312.00752",
            "Is attention still all you need? A serious alternative.",
        )
        self._suggest(club, p["priya"], "2210.03629", "The pattern behind most agent frameworks.")
        self._suggest(
            club, p["tomas"], "2302.04761", "How models learn to call tools without human labels."
        )
        poll = open_poll(
            club=club,
            opened_by=p["organizer"],
            budget=3,
            closes_at=timezone.now() + dt.timedelta(days=5),
        )
        for who, picks in {"priya": [flash, mamba], "yuki": [mamba], "tomas": [flash]}.items():
            membership = club.memberships.get(user=p[who])
            for suggestion in picks:
                set_vote(poll=poll, membership=membership, suggestion=suggestion, approve=True)

    @transaction.atomic
    def _reading_list_club(self, p):
        club = create_club(
            creator=p["organizer"],
            name="LLM Reading List",
            slug="llm-reading-list",
            description="A long reading list of the papers behind today's language models, with slides and recordings.",
            rules="Slides and recordings for every session are linked in the notes. Pick anything from the backlog.",
            time_zone="Europe/Berlin",
            meeting_weekday=Weekday.TUESDAY,
            meeting_time=dt.time(18, 30),
            meeting_duration=90,
            place_name="Jitsi room",
            place_url="https://meet.jit.si/",
            discussion_questions=["Summary", "Slides and recording", "Discussion"],
        )
        for who in ("member", "alex", "priya"):
            join_club(club=club, user=p[who])
        read = [
            ("1810.04805", "Masked language modelling made pre-training the default.", 6),
            ("2005.14165", "In-context learning appears with scale.", 5),
            ("2001.08361", "Loss falls as a power law in compute, data and parameters.", 4),
            ("2203.15556", "Train smaller models on more tokens.", 3),
        ]
        for arxiv_id, takeaway, ago in read:
            s = self._suggest(club, p["organizer"], arxiv_id, "On the reading list.")
            self._held(
                club,
                s,
                self._weekly_past(club, ago),
                [
                    f"{takeaway}",
                    "Slides: see the club drive. Recording: on the club's channel.",
                    "We spent most of the time on the experiments section.",
                ],
                takeaway,
                presenters=[p["organizer"]],
            )
        backlog = [
            "2203.02155",
            "2302.13971",
            "2005.11401",
            "2004.04906",
            "2212.08073",
            "2104.09864",
            "2101.03961",
            "2010.11929",
            "2103.00020",
            "2006.11239",
        ]
        for arxiv_id in backlog:
            self._suggest(club, p["alex"], arxiv_id, "Next on the reading list.")
        suggest_paper(
            club=club,
            suggested_by=p["member"],
            link="https://jalammar.github.io/illustrated-transformer/",
            title="The Illustrated Transformer",
            authors="Jay Alammar",
            year=2018,
            pitch="Not a paper, but the best picture-by-picture walk through attention.",
        )

    @transaction.atomic
    def _study_group(self, p):
        club = create_club(
            creator=p["organizer"],
            name="Friday Study Group",
            slug="friday-study-group",
            description="Fridays 23:00 UTC in a Discord voice channel. We read in themed tracks: foundations, retrieval, RLHF.",
            rules="Come having skimmed the paper. One person presents for 15 minutes, then we talk.",
            time_zone="UTC",
            meeting_weekday=Weekday.FRIDAY,
            meeting_time=dt.time(23, 0),
            meeting_duration=60,
            place_name="Discord · Study Group voice",
            place_url="https://discord.com/",
            joining="invite",
        )
        invite = create_invite(club=club, created_by=p["organizer"])
        for who in ("member", "alex", "tomas"):
            join_club(club=club, user=p[who], invite=invite)
        s = self._suggest(
            club,
            p["alex"],
            "1512.03385",
            "Track 1, foundations: residual connections are everywhere.",
        )
        self._held(
            club,
            s,
            self._weekly_past(club, 2),
            [
                "Learn the residual, not the mapping.",
                "Every transformer block is a residual block.",
                "Why do very deep plain networks train worse, even on training data?",
            ],
            "Learn residuals and depth stops hurting.",
            presenters=[p["alex"]],
        )
        s = self._suggest(club, p["tomas"], "2004.04906", "Track 2, retrieval: where RAG starts.")
        schedule_meeting(club=club, suggestions=[s], source="pick", presenters=[p["tomas"]])
        self._suggest(
            club, p["member"], "2005.11401", "Track 2, retrieval: the paper that named RAG."
        )
        self._suggest(club, p["alex"], "2203.02155", "Track 3, RLHF: InstructGPT.")
        # The tracks themselves, imported the way a club brings its README along.
        import_reading_list(club=club, text=STUDY_TRACKS, imported_by=p["organizer"])
        poll = open_poll(
            club=club,
            opened_by=p["organizer"],
            method=Poll.Method.IRV,
            closes_at=timezone.now() + dt.timedelta(days=3),
        )
        candidates = list(club.suggestions.backlog().values_list("pk", flat=True))
        for who, order in (("alex", candidates[:3]), ("tomas", candidates[2::-1])):
            membership = club.memberships.get(user=p[who])
            set_ranking(poll=poll, membership=membership, order=order)
