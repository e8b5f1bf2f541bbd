import re

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection, models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce, Lower, NullIf
from django.urls import reverse
from django.utils import timezone

from paperclub.text import length_limit
from papers.identifiers import arxiv_url
from papers.titles import SEARCH_WORD, TITLE_URL_PREFIX, short_title_key, title_key

TITLE_MAX = 300  # a paper's title, and a club's copy of it
AUTHORS_MAX = 1000  # a paper's author list, and a club's copy of it
PITCH_MAX = 500  # Suggestion.pitch
TAKEAWAY_MAX = 200  # Suggestion.takeaway
TEXT_MAX = 5_000  # a track's description, an entry's summary and further reading
REASON_MAX = 500  # an override's reason
ARXIV_PREFIX = re.compile(r"^\d{4}\.\d{0,5}$|^[a-z-]+/\d*$")
# The expression the PostgreSQL index `papers_paper_search` is built on (migration 0002).
SEARCH_VECTOR = SearchVector("title", "authors", config="simple")


def search_words(query: str) -> list[str]:
    return SEARCH_WORD.findall(query.lower())[:8]


def _every_word(words: list[str], *fields: str) -> Q:
    """Each word in one of `fields` (the search where there is no full-text index)."""
    found = Q()
    for word in words:
        either = Q()
        for name in fields:
            either |= Q(**{f"{name}__icontains": word})
        found &= either
    return found


def _by_arxiv_prefix(query: str, field: str) -> Q:
    """An arXiv ID being typed ("2305.1", "hep-th/97"): the papers whose ID starts so."""
    query = query.strip()
    if not ARXIV_PREFIX.match(query):
        return Q(pk__in=[])
    return Q(**{f"{field}__startswith": query.lower()})


class PaperQuerySet(models.QuerySet):
    def matching(self, query: str):
        """Papers whose title, authors or arXiv ID match what was typed (as-you-type search).

        PostgreSQL: full-text search on title and authors with prefix matching, which the
        GIN index `papers_paper_search` serves. Elsewhere: every word in title or authors.
        """
        words = search_words(query)
        if not words:
            return self.none()
        by_id = _by_arxiv_prefix(query, "arxiv_id")
        if connection.vendor == "postgresql":
            tsquery = " & ".join(f"{word}:*" for word in words)
            return self.annotate(search=SEARCH_VECTOR).filter(
                Q(search=SearchQuery(tsquery, search_type="raw", config="simple")) | by_id
            )
        return self.filter(_every_word(words, "title", "authors") | by_id)

    def title_only(self):
        """Papers known by their title alone: no arXiv ID, no link (Paper.title_only)."""
        return self.filter(arxiv_id__isnull=True, url_key__startswith=TITLE_URL_PREFIX)

    def awaiting_arxiv(self):
        """Papers arXiv could still confirm: an arXiv ID or a title, not filled from arXiv
        yet (papers.tasks.can_refresh, in SQL)."""
        return self.filter(fetched_at__isnull=True).filter(
            Q(arxiv_id__isnull=False) | Q(url_key__startswith=TITLE_URL_PREFIX)
        )


class Paper(models.Model):
    """One row per paper, shared by every club: an arXiv ID or a normalized URL is its key."""

    title = models.CharField(max_length=TITLE_MAX)
    authors = models.CharField(max_length=AUTHORS_MAX, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    abstract = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    # NULL, not "", for "none": uniqueness applies only to papers that have the key.
    arxiv_id = models.CharField(max_length=40, null=True, blank=True, unique=True)
    url_key = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    # The title's normalized key (papers.catalog.title_key), and the key of the title after
    # a short nickname prefix ("InstructGPT: …"), or "" when it has none: matching a title
    # against the catalog is one indexed query.
    title_key = models.CharField(max_length=300, blank=True, db_index=True)
    short_title_key = models.CharField(max_length=300, blank=True, db_index=True)
    # When title, authors, year and abstract were last filled from the arXiv API:
    # a paper is fetched once, whichever club suggests it.
    fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(arxiv_id__isnull=False) | Q(url_key__isnull=False),
                name="papers_paper_has_identity",
            ),
            models.UniqueConstraint(
                fields=["url_key"],
                condition=Q(arxiv_id__isnull=True),
                name="papers_paper_unique_url_without_arxiv",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | (Q(year__gte=1900) & Q(year__lte=2100)),
                name="papers_paper_year_plausible",
            ),
            # Only arXiv fills a row (services.confirm_paper), so a filled row has its ID.
            models.CheckConstraint(
                condition=Q(fetched_at__isnull=True) | Q(arxiv_id__isnull=False),
                name="papers_paper_fetched_has_arxiv_id",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # The keys follow the title whatever changed it; `update_fields` callers that
        # change the title list "title", and get the keys with it.
        self.title_key = title_key(self.title)
        self.short_title_key = short_title_key(self.title)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "title" in update_fields:
            kwargs["update_fields"] = {*update_fields, "title_key", "short_title_key"}
        super().save(*args, **kwargs)

    @property
    def link(self) -> str:
        return arxiv_url(self.arxiv_id) if self.arxiv_id else self.url

    @property
    def from_arxiv(self) -> bool:
        """Title, authors, year and abstract came from the arXiv API: every club may see them."""
        return self.fetched_at is not None

    @property
    def title_only(self) -> bool:
        """Known by its title alone: no arXiv ID, no link."""
        return self.arxiv_id is None and (self.url_key or "").startswith(TITLE_URL_PREFIX)


def _count_per_suggestion(rows: models.QuerySet):
    """How many of `rows` (filtered on suggestion=OuterRef("pk")) each suggestion has, as a
    subquery: a JOIN and GROUP BY over a poll's every vote sorted them all for one page."""
    counts = rows.order_by().values("suggestion").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counts), 0)


class SuggestionQuerySet(models.QuerySet):
    def matching(self, query: str):
        """Suggestions whose details, as their club sees them (Suggestion.display_title),
        match the search: the catalog's (PaperQuerySet.matching, indexed) for a suggestion
        without its own copy, the club's copy (every word in title or authors) otherwise.
        Another club's typed title never makes a paper match."""
        words = search_words(query)
        if not words:
            # Still annotated: callers order the results by `shown_title`.
            return self.with_display_details().none()
        follows_catalog = Q(title="", authors="")
        typed = _every_word(words, "shown_title", "shown_authors") | _by_arxiv_prefix(
            query, "paper__arxiv_id"
        )
        return self.with_display_details().filter(
            (follows_catalog & Q(paper__in=Paper.objects.matching(query).values("pk")))
            | (~follows_catalog & typed)
        )

    def with_display_details(self):
        """`shown_title` and `shown_authors`: the display rule (Suggestion.display_title) in
        SQL, for ordering and searching."""
        return self.annotate(
            shown_title=Coalesce(NullIf("title", models.Value("")), "paper__title"),
            shown_authors=Coalesce(NullIf("authors", models.Value("")), "paper__authors"),
        )

    def backlog(self):
        """Open suggestions, oldest first."""
        return self.filter(state=Suggestion.State.OPEN).order_by("created_at", "id")

    def with_people(self):
        return self.select_related("paper", "suggested_by")

    def with_vote_counts(self, poll):
        """`vote_count`: the paper's votes in the poll."""
        votes = Vote.objects.filter(poll=poll, suggestion=OuterRef("pk"))
        return self.annotate(vote_count=_count_per_suggestion(votes))

    def with_my_votes(self, poll, membership):
        if membership is None:
            return self.annotate(voted_by_me=models.Value(False))
        return self.annotate(
            voted_by_me=Exists(
                Vote.objects.filter(poll=poll, membership=membership, suggestion=OuterRef("pk"))
            )
        )

    def with_my_rank(self, poll, membership):
        """`my_rank`: where the member put the paper on their ranked ballot (None: unranked)."""
        if membership is None:
            return self.annotate(my_rank=models.Value(None, output_field=models.IntegerField()))
        return self.annotate(
            my_rank=Subquery(
                Ranking.objects.filter(
                    poll=poll, membership=membership, suggestion=OuterRef("pk")
                ).values("position")[:1]
            )
        )

    def with_first_choices(self, poll):
        """`vote_count` for a ranked poll: how many ballots put the paper first."""
        firsts = Ranking.objects.filter(poll=poll, position=1, suggestion=OuterRef("pk"))
        return self.annotate(vote_count=_count_per_suggestion(firsts))

    def without_counts(self):
        """`vote_count` 0, for a ballot whose counts are hidden: nothing to count."""
        return self.annotate(vote_count=models.Value(0, output_field=models.IntegerField()))

    def with_earlier_interest(self):
        """`earlier_votes`: the votes (first choices, in ranked polls) each suggestion got
        in the club's closed polls."""
        return self.annotate(earlier_votes=Coalesce(models.Sum("tallies__votes"), 0))

    def with_ballot_history(self):
        """How many closed polls each suggestion already stood in (for the tie-break)."""
        return self.annotate(earlier_ballots=Count("tallies", distinct=True))


class Suggestion(models.Model):
    """A paper on a club's list: suggested, chosen for a session, read, or withdrawn."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CHOSEN = "chosen", "Chosen"
        READ = "read", "Read"
        WITHDRAWN = "withdrawn", "Withdrawn"

    club = models.ForeignKey("clubs.Club", on_delete=models.CASCADE, related_name="suggestions")
    paper = models.ForeignKey(Paper, on_delete=models.PROTECT, related_name="suggestions")
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="suggestions"
    )
    # The club's own copy of the paper's details, shown in this club only; blank: the
    # catalog's (see `display_title`). Whatever a member types lives here, never on the
    # shared Paper row, which only arXiv fills.
    title = models.CharField(
        max_length=TITLE_MAX,
        blank=True,
        help_text="The club's title for the paper; blank: arXiv's.",
    )
    authors = models.CharField(
        max_length=AUTHORS_MAX, blank=True, help_text="The club's author list; blank: arXiv's."
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    pitch = models.CharField(max_length=PITCH_MAX, help_text="Why should the club read this?")
    takeaway = models.CharField(
        max_length=TAKEAWAY_MAX, blank=True, help_text="The club's one-line takeaway, once read."
    )
    state = models.CharField(max_length=10, choices=State, default=State.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The ballot (SuggestionQuerySet.backlog): a club's open papers, oldest first,
            # read from the index in order, whatever the length of the club's history.
            models.Index(
                fields=["club", "created_at", "id"],
                condition=Q(state="open"),
                name="papers_suggestion_open_backlog",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["club", "paper"], name="papers_suggestion_one_per_club_paper"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "chosen", "read", "withdrawn"]),
                name="papers_suggestion_state_valid",
            ),
            models.CheckConstraint(condition=~Q(pitch=""), name="papers_suggestion_pitch_required"),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | (Q(year__gte=1900) & Q(year__lte=2100)),
                name="papers_suggestion_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_title} ({self.club})"

    # The display rule, the one place it is written down. A club sees its own copy of a
    # paper's details when it has one, else the shared row's. The shared row holds only
    # what the arXiv API said, plus, for a paper arXiv has not confirmed, the title it was
    # first typed with, which serves as its key; every suggestion of such a paper carries
    # its own title (papers.catalog.club_copy), so that title is never shown to another
    # club. Public clubs get no exception: what any club types stays with that club.

    @property
    def display_title(self) -> str:
        return self.title or self.paper.title

    @property
    def display_authors(self) -> str:
        return self.authors or self.paper.authors

    @property
    def display_year(self) -> int | None:
        return self.year or self.paper.year

    @property
    def display_link(self) -> str:
        return self.paper.link

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class PollQuerySet(models.QuerySet):
    def unclosed(self):
        return self.filter(closed_at__isnull=True)

    def with_votes_used(self, membership):
        """`votes_used`: how many approval votes the member has cast in each poll."""
        if membership is None:
            return self.annotate(votes_used=models.Value(0))
        mine = (
            Vote.objects.filter(poll=OuterRef("pk"), membership=membership)
            .order_by()
            .values("poll")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(votes_used=Coalesce(Subquery(mine), 0))

    def with_my_votes(self, membership):
        """`my_vote_ids`: the ids of the papers the member voted for in each poll, as
        "12,40,7" (the club page marks its cached rows with them)."""
        if membership is None:
            return self.annotate(my_vote_ids=models.Value("", output_field=models.TextField()))
        mine = (
            Vote.objects.filter(poll=OuterRef("pk"), membership=membership)
            .order_by()
            .values("poll")
            .annotate(
                ids=models.StringAgg(
                    Cast("suggestion_id", models.CharField()), delimiter=models.Value(",")
                )
            )
            .values("ids")
        )
        text = models.TextField()
        return self.annotate(
            my_vote_ids=Coalesce(
                Subquery(mine, output_field=text), models.Value(""), output_field=text
            )
        )

    def due(self, now=None):
        """Unclosed polls whose closing time has passed."""
        return self.unclosed().filter(closes_at__lte=now or timezone.now())

    def awaiting_vote_of(self, user, now=None):
        """Open polls in `user`'s clubs in which they have cast no vote and ranked nothing,
        closing soonest first (polls without a closing time last), with their club."""
        open_now = Q(closes_at__isnull=True) | Q(closes_at__gt=now or timezone.now())
        voted = Vote.objects.filter(poll=OuterRef("pk"), membership__user=user)
        ranked = Ranking.objects.filter(poll=OuterRef("pk"), membership__user=user)
        return (
            self.unclosed()
            .filter(open_now, club__memberships__user=user)
            .exclude(Exists(voted))
            .exclude(Exists(ranked))
            .select_related("club")
            .order_by(models.F("closes_at").asc(nulls_last=True), "id")
        )


BUDGET_MAX = 50  # votes one member may have in an approval poll


class Poll(models.Model):
    """ "What do we read next?" Approval voting with a budget, or ranked ballots."""

    class Method(models.TextChoices):
        APPROVAL = "approval", "Approval (vote for up to N papers)"
        IRV = "irv", "Ranked: instant runoff"
        SCHULZE = "schulze", "Ranked: Schulze"

    club = models.ForeignKey("clubs.Club", on_delete=models.CASCADE, related_name="polls")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closes_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=10, choices=Method, default=Method.APPROVAL)
    budget = models.PositiveSmallIntegerField(default=3)
    show_live_results = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    winner = models.ForeignKey(
        Suggestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="won_polls"
    )
    tie_break_applied = models.TextField(blank=True)
    # Ranked polls: the count as the result page shows it (rounds, or pairwise wins),
    # written once when the poll closes.
    result_detail = models.JSONField(default=dict, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A live poll (papers.live): opened at the end of a session with a countdown of
    # `countdown_minutes`, a short code for its link and QR code, and the papers the
    # organizer shortlisted (only they are on its ballot).
    countdown_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    live_code = models.CharField(max_length=16, null=True, blank=True, unique=True)
    shortlist = models.ManyToManyField(Suggestion, blank=True, related_name="shortlisted_in")

    objects = PollQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["club"],
                condition=Q(closed_at__isnull=True),
                name="papers_poll_one_open_per_club",
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=1) & Q(budget__lte=BUDGET_MAX),
                name="papers_poll_budget_range",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True) | Q(closes_at__gt=F("opened_at")),
                name="papers_poll_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(method__in=["approval", "irv", "schulze"]),
                name="papers_poll_method_valid",
            ),
            length_limit("override_reason", REASON_MAX, name="papers_poll_reason_length"),
            models.CheckConstraint(
                condition=Q(countdown_minutes__isnull=True)
                | (Q(countdown_minutes__gte=1) & Q(countdown_minutes__lte=15)),
                name="papers_poll_countdown_range",
            ),
            # A live poll has its code and its closing time; any other poll has no code.
            models.CheckConstraint(
                condition=(Q(countdown_minutes__isnull=True) & Q(live_code__isnull=True))
                | (
                    Q(countdown_minutes__isnull=False)
                    & Q(live_code__isnull=False)
                    & Q(closes_at__isnull=False)
                ),
                name="papers_poll_live_has_code_and_end",
            ),
        ]

    def __str__(self) -> str:
        return f"Poll #{self.pk} in {self.club}"

    def get_absolute_url(self) -> str:
        return reverse("papers:poll", args=[self.club.slug, self.pk])

    def is_open(self, now=None) -> bool:
        """Open for votes: not closed, and the closing time (if any) not yet reached."""
        if self.closed_at is not None:
            return False
        return self.closes_at is None or (now or timezone.now()) < self.closes_at

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def results_visible(self, now=None) -> bool:
        return self.show_live_results or not self.is_open(now)

    @property
    def is_ranked(self) -> bool:
        return self.method != self.Method.APPROVAL

    @property
    def is_live(self) -> bool:
        """Opened for the vote at the end of a session, with a countdown (papers.live)."""
        return self.countdown_minutes is not None


class Vote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="votes")
    membership = models.ForeignKey(
        "clubs.Membership", on_delete=models.CASCADE, related_name="votes"
    )
    cast_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "membership", "suggestion"],
                name="papers_vote_one_per_member_candidate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} → {self.suggestion}"


class Tally(models.Model):
    """A candidate's result, written once when its poll closes."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="tallies")
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="tallies")
    votes = models.PositiveIntegerField()
    earlier_ballots = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "suggestion"], name="papers_tally_one_per_candidate"
            ),
            models.UniqueConstraint(fields=["poll", "rank"], name="papers_tally_unique_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.suggestion}: {self.votes}"


class RankingQuerySet(models.QuerySet):
    def ballot(self, poll, membership):
        """A member's ranking in a poll as it stands, first choice first: papers no longer
        open (withdrawn, or chosen for a session meanwhile) drop out."""
        return self.filter(
            poll=poll, membership=membership, suggestion__state=Suggestion.State.OPEN
        ).order_by("position")


class Ranking(models.Model):
    """One line of a member's ranked ballot: `suggestion` is their `position`-th choice."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="rankings")
    membership = models.ForeignKey(
        "clubs.Membership", on_delete=models.CASCADE, related_name="rankings"
    )
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="rankings")
    position = models.PositiveSmallIntegerField()

    objects = RankingQuerySet.as_manager()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "membership", "suggestion"],
                name="papers_ranking_one_per_member_candidate",
            ),
            models.UniqueConstraint(
                fields=["poll", "membership", "position"],
                name="papers_ranking_one_per_member_position",
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="papers_ranking_position_1"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.suggestion}"


class PaperLink(models.Model):
    """A labeled link kept with a paper on a club's list: slides, recording, chat, code."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="links")
    label = models.CharField(max_length=60)
    url = models.URLField(max_length=500)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "url"], name="papers_link_unique_url"),
            models.CheckConstraint(condition=~Q(label=""), name="papers_link_label_required"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.url}"


class TrackQuerySet(models.QuerySet):
    def with_progress(self):
        """`paper_count` and `read_count` (papers the club has read) per track."""
        return self.annotate(
            paper_count=Count("entries", distinct=True),
            read_count=Count("entries", filter=Q(entries__suggestion__state="read"), distinct=True),
        )


class Track(models.Model):
    """A theme the club reads through in order: "Intro to Modern LLMs", "Retrieval"."""

    club = models.ForeignKey("clubs.Club", on_delete=models.CASCADE, related_name="tracks")
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True, help_text="Markdown.")
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TrackQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # Case-insensitive: "RLHF" and "rlhf" are one track.
            models.UniqueConstraint(Lower("title"), "club", name="papers_track_unique_title"),
            models.CheckConstraint(condition=~Q(title=""), name="papers_track_title_required"),
            length_limit("description", TEXT_MAX, name="papers_track_description_length"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("papers:track", args=[self.club.slug, self.pk])


class TrackEntryQuerySet(models.QuerySet):
    def with_papers(self):
        return self.select_related("suggestion__paper").prefetch_related("suggestion__links")

    def with_read_by(self, membership):
        """`read_by_me`: whether the member marked the entry's paper as read."""
        if membership is None:
            return self.annotate(read_by_me=models.Value(False))
        return self.annotate(
            read_by_me=Exists(
                ReadMark.objects.filter(membership=membership, suggestion=OuterRef("suggestion"))
            )
        )


class TrackEntry(models.Model):
    """A paper in a track, at a position, with the club's own summary and further reading."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="entries")
    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="track_entries"
    )
    position = models.PositiveSmallIntegerField()
    summary = models.TextField(blank=True, help_text="The club's own summary. Markdown.")
    further_reading = models.TextField(
        blank=True, help_text="Related papers and posts, one per line. Markdown."
    )

    objects = TrackEntryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "suggestion"], name="papers_trackentry_once_per_track"
            ),
            length_limit("summary", TEXT_MAX, name="papers_trackentry_summary_length"),
            length_limit(
                "further_reading", TEXT_MAX, name="papers_trackentry_further_reading_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.track}: {self.suggestion.paper}"


class ReadMark(models.Model):
    """A member's own "I have read this" on a paper of the club's list."""

    membership = models.ForeignKey(
        "clubs.Membership", on_delete=models.CASCADE, related_name="read_marks"
    )
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="read_marks")
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "suggestion"], name="papers_readmark_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership} read {self.suggestion}"
