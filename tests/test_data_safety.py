"""Backups restore what they saved, and migrations apply forward over real data."""

import json

import pytest
from django.core.management import call_command

from clubs.models import Club, Membership
from papers.models import Paper, Poll, Suggestion, Tally, Vote
from sessions.models import Meeting, NoteSection

MODELS = [Club, Membership, Paper, Suggestion, Poll, Vote, Tally, Meeting, NoteSection]
APPS = ["accounts", "clubs", "papers", "meetings", "account"]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db(transaction=True)
def test_dumpdata_loaddata_round_trip_restores_everything(tmp_path):
    call_command("seed_demo", verbosity=0)
    before = counts()
    notes = sorted(NoteSection.objects.values_list("html", flat=True))
    backup = tmp_path / "backup.json"
    call_command("dumpdata", *APPS, natural_foreign=True, output=str(backup), verbosity=0)

    call_command("flush", interactive=False, verbosity=0)
    assert counts() == dict.fromkeys(before, 0)
    call_command("loaddata", str(backup), verbosity=0)

    assert counts() == before
    assert sorted(NoteSection.objects.values_list("html", flat=True)) == notes
    assert len(json.loads(backup.read_text())) > 100


@pytest.mark.django_db(transaction=True)
def test_migrations_apply_forward_over_the_demo_data():
    call_command("seed_demo", verbosity=0)
    before = counts()

    # Back to the first migrations of the apps that have grown since, then forward again:
    # the data migration gives every existing membership its own feed token.
    call_command("migrate", "meetings", "0001", verbosity=0)
    call_command("migrate", "clubs", "0001", verbosity=0)
    call_command("migrate", verbosity=0)

    assert counts() == before
    tokens = list(Membership.objects.values_list("feed_token", flat=True))
    assert len(set(tokens)) == len(tokens)
    assert all(tokens)
