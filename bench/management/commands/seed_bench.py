"""Seed one large club for `make bench`, and sign its members in.

The club: 500 members, 2,000 papers on its list (300 read in held sessions with notes,
1 chosen for the next session, 200 open, the rest withdrawn), 300 held weekly sessions
with three sections of Markdown notes, two materials and about 30 answers each, a closed
poll (with its tallies) behind each session, and an open poll with the 200 open papers
as candidates and 10,000 votes (20 per member; the budget is 30).

Every member gets a signed-in session (the rows `django.contrib.auth.login` would write)
and a CSRF secret; `--members-file` lists them for the load generator, one member a line:
user id, membership id, session key, CSRF secret.

Rows are written with bulk_create straight into an empty database (bench/run.py makes a
fresh one each time); the business rules are not replayed one click at a time.
"""

import datetime as dt
import random
import string
import time
from pathlib import Path

from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import User
from clubs.models import DEFAULT_QUESTIONS, Club, Membership, Weekday
from paperclub.markdown import render_markdown
from papers.identifiers import arxiv_url
from papers.models import Paper, Poll, Suggestion, Tally, Vote
from sessions.models import Material, Meeting, NoteSection, Rsvp

SLUG = "bench"
MEMBERS = 500
ORGANIZERS = 3
PAPERS = 2000
HELD = 300
CANDIDATES = 200
VOTES_PER_MEMBER = 20  # 500 x 20 = 10,000 votes
BUDGET = 30
ANSWERS_PER_SESSION = 30

AUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"
CSRF_CHARS = string.ascii_letters + string.digits  # what Django's own secrets are made of

WORDS = [
    "attention",
    "sparse",
    "scaling",
    "retrieval",
    "diffusion",
    "contrastive",
    "alignment",
    "preference",
    "reward",
    "transformer",
    "mixture",
    "experts",
    "tokenizer",
    "latent",
    "graph",
    "causal",
    "inference",
    "robust",
    "efficient",
    "memory",
    "context",
    "window",
    "distillation",
    "quantization",
    "pruning",
    "curriculum",
    "reasoning",
    "chain",
    "thought",
    "agents",
    "planning",
    "vision",
    "language",
    "multimodal",
    "speech",
    "protein",
    "molecular",
    "kernel",
    "optimizer",
    "gradient",
    "momentum",
    "adaptive",
    "regularization",
    "benchmark",
    "evaluation",
    "calibration",
    "uncertainty",
    "federated",
    "privacy",
    "differential",
    "generative",
    "adversarial",
    "autoregressive",
    "state-space",
    "recurrent",
    "convolution",
    "equivariant",
    "symmetry",
    "physics-informed",
    "neural",
    "fields",
]
NAMES = [
    "Ada",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tomás",
    "Uma",
    "Vik",
    "Wen",
    "Xavi",
    "Yuki",
    "Zoe",
]
SURNAMES = [
    "Abe",
    "Brown",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Huang",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Müller",
    "Nakamura",
    "Okafor",
    "Patel",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Wang",
    "Xu",
    "Yilmaz",
    "Zhang",
]
ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Asia/Tokyo",
]


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _title(rng: random.Random) -> str:
    text = _words(rng, rng.randint(5, 11))
    return text[0].upper() + text[1:]


def _authors(rng: random.Random) -> str:
    return ", ".join(
        f"{rng.choice(SURNAMES)} {rng.choice(NAMES)[0]}." for _ in range(rng.randint(2, 9))
    )


def _notes(rng: random.Random, question: str, paper: Paper) -> str:
    """A few paragraphs of Markdown, shaped like real session notes."""
    return "\n\n".join(
        [
            f"**{question}.** {_words(rng, 30).capitalize()} in *{paper.title}*.",
            "\n".join(f"- {_words(rng, rng.randint(6, 14))}" for _ in range(rng.randint(2, 5))),
            f"{_words(rng, 40).capitalize()}; see [the paper]({paper.link}) and "
            f"`{rng.choice(WORDS)}_{rng.choice(WORDS)}()`.",
            f"> {_words(rng, 18).capitalize()}?",
        ]
    )


def sizes(papers: int) -> tuple[int, int, int]:
    """(papers, held sessions, open candidates) for a club of `papers` papers: 2,000 gives
    the standard club (300 held, 200 open); a smaller club has fewer of both, a larger
    one the same ballot and sessions with a longer history of withdrawn papers."""
    return papers, min(HELD, papers // 4), min(CANDIDATES, papers // 2)


class Command(BaseCommand):
    help = "Seed the large benchmark club into an empty database and sign its members in."

    def add_arguments(self, parser):
        parser.add_argument("--members-file", required=True, type=Path)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--papers",
            type=int,
            default=PAPERS,
            help="papers on the club's list (the size sweep seeds 200, 2,000 and 20,000)",
        )

    def handle(self, *args, members_file: Path, seed: int, papers: int, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in str(name):
            raise CommandError(f"Refusing to seed {name!r}: its name has no 'bench' in it.")
        if Club.objects.filter(slug=SLUG).exists():
            raise CommandError("The bench club exists; bench/run.py seeds a fresh database.")
        if papers < 200:
            raise CommandError("The bench club needs at least 200 papers.")
        self.papers, self.held, self.candidates = sizes(papers)
        started = time.monotonic()
        with transaction.atomic():
            members = self._seed(random.Random(seed))
        # Planner statistics, as a database that has been in use for a while has them.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        members_file.parent.mkdir(parents=True, exist_ok=True)
        members_file.write_text(
            "".join(f"{uid}\t{mid}\t{key}\t{csrf}\n" for uid, mid, key, csrf in members)
        )
        self.stdout.write(
            f"Seeded club '{SLUG}' in {time.monotonic() - started:.1f} s: "
            + ", ".join(
                f"{m.__name__} {m.objects.count()}"
                for m in (
                    User,
                    Membership,
                    Paper,
                    Suggestion,
                    Meeting,
                    NoteSection,
                    Poll,
                    Vote,
                    Session,
                )
            )
        )

    def _seed(self, rng: random.Random) -> list[tuple[int, int, str, str]]:
        n_papers, n_held, n_open = self.papers, self.held, self.candidates
        now = timezone.now()
        start = now - dt.timedelta(weeks=n_held + 8)

        # People. One password hash for all: nobody signs in with a password here.
        password = make_password(get_random_string(20))
        users = User.objects.bulk_create(
            User(
                email=f"member{i:03d}@bench.example",
                display_name=f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}",
                time_zone=rng.choice(ZONES),
                password=password,
                date_joined=start,
            )
            for i in range(MEMBERS)
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users
        )
        club = Club.objects.create(
            name="Bench Paper Club",
            slug=SLUG,
            description="A large club for the benchmark: five years of weekly sessions.",
            rules="\n\n".join(
                [
                    "We read **one paper a week** and meet on Thursdays.",
                    "- Suggest papers you would present yourself.\n- Vote for up to 30.\n"
                    "- Notes go up within two days.",
                    "Be kind; questions are welcome. See the [code of conduct]"
                    "(https://example.org/conduct).",
                ]
            ),
            time_zone="Europe/Berlin",
            meeting_weekday=Weekday.THURSDAY,
            meeting_time=dt.time(18, 0),
            place_name="Discord #paper-club voice",
            place_url="https://discord.example/paper-club",
            created_at=start,
        )
        memberships = Membership.objects.bulk_create(
            Membership(
                club=club,
                user=u,
                role=Membership.Role.ORGANIZER if i < ORGANIZERS else Membership.Role.MEMBER,
                joined_at=start + dt.timedelta(hours=i),
            )
            for i, u in enumerate(users)
        )

        # Papers and the club's list.
        papers = Paper.objects.bulk_create(
            Paper(
                title=_title(rng),
                authors=_authors(rng),
                year=rng.randint(2017, 2025),
                abstract=_words(rng, 150),
                url=arxiv_url(arxiv_id),
                arxiv_id=arxiv_id,
                created_at=start,
            )
            for arxiv_id in (f"2{i % 6}{i % 12 + 1:02d}.{10000 + i:05d}" for i in range(n_papers))
        )
        states = (
            [Suggestion.State.READ] * n_held
            + [Suggestion.State.CHOSEN]
            + [Suggestion.State.WITHDRAWN] * (n_papers - n_held - 1 - n_open)
            + [Suggestion.State.OPEN] * n_open
        )
        suggestions = Suggestion.objects.bulk_create(
            Suggestion(
                club=club,
                paper=paper,
                suggested_by=rng.choice(users),
                pitch=_words(rng, rng.randint(12, 30)).capitalize() + ".",
                takeaway=_words(rng, 12).capitalize() + "." if state == "read" else "",
                state=state,
                created_at=start + dt.timedelta(hours=i),
            )
            for i, (paper, state) in enumerate(zip(papers, states, strict=True))
        )
        read = suggestions[:n_held]
        chosen = suggestions[n_held]
        withdrawn = suggestions[n_held + 1 : n_papers - n_open]
        candidates = suggestions[n_papers - n_open :]

        # 300 held weekly sessions, each chosen by a closed poll, then the next one.
        slots, slot = [], club.next_slot_after(start)
        for _ in range(n_held):
            slots.append(slot)
            slot = club.next_slot_after(slot)
        organizer = users[0]
        closed_polls = Poll.objects.bulk_create(
            Poll(
                club=club,
                opened_by=organizer,
                opened_at=starts_at - dt.timedelta(days=7),
                closes_at=starts_at - dt.timedelta(days=2),
                closed_at=starts_at - dt.timedelta(days=2),
                budget=3,
                winner=winner,
            )
            for starts_at, winner in zip(
                [*slots, now - dt.timedelta(days=3)], [*read, chosen], strict=True
            )
        )
        Tally.objects.bulk_create(
            Tally(
                poll=poll,
                suggestion=suggestion,
                votes=max(40 - 7 * rank, 1),
                earlier_ballots=0,
                rank=rank,
            )
            for poll, winner in zip(closed_polls, [*read, chosen], strict=True)
            for rank, suggestion in enumerate([winner, *rng.sample(withdrawn, 4)], start=1)
        )
        meetings = Meeting.objects.bulk_create(
            Meeting(
                club=club,
                number=n,
                starts_at=starts_at,
                duration=dt.timedelta(hours=1),
                place_name=club.place_name,
                place_url=club.place_url,
                state=Meeting.State.HELD,
                source=Meeting.Source.VOTE,
                poll=poll,
                recorded=True,
                notes_posted_at=starts_at + dt.timedelta(days=2),
                notes_posted_by=organizer,
                created_at=starts_at - dt.timedelta(days=2),
            )
            for n, starts_at, poll in zip(range(1, n_held + 1), slots, closed_polls, strict=False)
        )
        next_meeting = Meeting.objects.create(
            club=club,
            number=n_held + 1,
            starts_at=club.next_slot_after(now),
            place_name=club.place_name,
            place_url=club.place_url,
            source=Meeting.Source.VOTE,
            poll=closed_polls[-1],
        )
        Meeting.suggestions.through.objects.bulk_create(
            Meeting.suggestions.through(meeting=m, suggestion=s)
            for m, s in zip([*meetings, next_meeting], [*read, chosen], strict=True)
        )
        Meeting.presenters.through.objects.bulk_create(
            Meeting.presenters.through(meeting=m, user=rng.choice(users))
            for m in [*meetings, next_meeting]
        )
        NoteSection.objects.bulk_create(
            NoteSection(meeting=m, position=i, question=q, body=body, html=render_markdown(body))
            for m, s in zip(meetings, read, strict=True)
            for i, q in enumerate(DEFAULT_QUESTIONS)
            for body in [_notes(rng, q, s.paper)]
        )
        Material.objects.bulk_create(
            Material(meeting=m, kind=kind, url=f"https://example.org/{kind}/{m.number}", label=text)
            for m in meetings
            for kind, text in [("slides", "Slides"), ("recording", "")]
        )
        Rsvp.objects.bulk_create(
            Rsvp(
                meeting=m,
                membership=ms,
                answer=rng.choice(["going", "going", "maybe"]),
                attended=rng.random() < 0.8,
                answered_at=m.starts_at - dt.timedelta(days=1),
            )
            for m in meetings
            for ms in rng.sample(memberships, ANSWERS_PER_SESSION)
        )

        # The open poll: 200 candidates, 20 votes per member, some papers far more popular.
        poll = Poll.objects.create(
            club=club,
            opened_by=organizer,
            opened_at=now - dt.timedelta(days=2),
            closes_at=now + dt.timedelta(days=30),
            budget=BUDGET,
        )
        weights = [1 / (rank + 5) for rank in range(n_open)]
        votes = []
        for ms in memberships:
            picked: set[Suggestion] = set()
            while len(picked) < VOTES_PER_MEMBER:
                picked.update(rng.choices(candidates, weights, k=VOTES_PER_MEMBER - len(picked)))
            votes += [
                Vote(
                    poll=poll,
                    membership=ms,
                    suggestion=s,
                    cast_at=poll.opened_at + dt.timedelta(minutes=rng.randint(1, 2800)),
                )
                for s in picked
            ]
        Vote.objects.bulk_create(votes, batch_size=2000)

        # Signed-in sessions: what django.contrib.auth.login stores, signed with SECRET_KEY.
        store = SessionStore()
        expires = now + dt.timedelta(days=14)
        keys = [get_random_string(32, string.ascii_lowercase + string.digits) for _ in users]
        Session.objects.bulk_create(
            Session(
                session_key=key,
                session_data=store.encode(
                    {
                        SESSION_KEY: str(u.pk),
                        BACKEND_SESSION_KEY: AUTH_BACKEND,
                        HASH_SESSION_KEY: u.get_session_auth_hash(),
                    }
                ),
                expire_date=expires,
            )
            for u, key in zip(users, keys, strict=True)
        )
        return [
            (u.pk, ms.pk, key, get_random_string(32, CSRF_CHARS))
            for u, ms, key in zip(users, memberships, keys, strict=True)
        ]
