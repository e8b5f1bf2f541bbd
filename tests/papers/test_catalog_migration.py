"""The migration that gives each club its own copy of details typed by hand, and the
catalog its title keys, on a database that has the older rows."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("papers", "0005_catalog_title_keys_and_club_copies")]
AFTER = [("papers", "0006_fill_title_keys_and_club_copies")]


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    """Leave the database at the latest migrations, for the tests that run after."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_typed_details_move_to_each_clubs_suggestion(club, private_club, member):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Paper = apps.get_model("papers", "Paper")
    Suggestion = apps.get_model("papers", "Suggestion")
    typed = Paper.objects.create(
        arxiv_id="1706.03762",
        title="Attention at buy-now.example",
        authors="Planted Author",
        year=2017,
        url="https://arxiv.org/abs/1706.03762",
    )
    fetched = Paper.objects.create(
        arxiv_id="2005.14165",
        title="Language Models are Few-Shot Learners",
        authors="Tom B. Brown",
        year=2020,
        url="https://arxiv.org/abs/2005.14165",
        fetched_at=timezone.now(),
    )
    # Two title-only rows that the new key makes one: the second keeps its old key.
    first = Paper.objects.create(title="Scaling Laws", url_key="title:scaling laws")
    second = Paper.objects.create(title="Scaling-Laws", url_key="title:scaling-laws")
    for paper, where in ((typed, club), (typed, private_club), (fetched, club), (first, club)):
        Suggestion.objects.create(
            club_id=where.pk, paper=paper, suggested_by_id=member.pk, pitch="p"
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    from papers.models import Paper as NewPaper
    from papers.models import Suggestion as NewSuggestion

    shared = NewPaper.objects.get(pk=typed.pk)
    assert (shared.authors, shared.year, shared.title_key) == ("", None, "attentionatbuynowexample")
    copies = NewSuggestion.objects.filter(paper=shared).values_list("title", "authors", "year")
    assert list(copies) == [("Attention at buy-now.example", "Planted Author", 2017)] * 2
    confirmed = NewSuggestion.objects.get(paper_id=fetched.pk)
    assert (confirmed.title, confirmed.display_title) == (
        "",
        "Language Models are Few-Shot Learners",
    )
    assert NewPaper.objects.get(pk=fetched.pk).authors == "Tom B. Brown"
    assert NewPaper.objects.get(pk=first.pk).url_key == "title:scalinglaws"
    assert NewPaper.objects.get(pk=second.pk).url_key == "title:scaling-laws"
