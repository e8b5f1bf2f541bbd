import pytest

from papers.services import open_poll, suggest_paper


@pytest.fixture
def dpo(club, member):
    return suggest_paper(
        club=club,
        suggested_by=member,
        link="https://arxiv.org/abs/2305.18290v2",
        title="Direct Preference Optimization",
        pitch="RLHF without RL.",
    )


@pytest.fixture
def lora(club, organizer):
    return suggest_paper(
        club=club,
        suggested_by=organizer,
        link="2106.09685",
        title="LoRA",
        pitch="Cheap fine-tuning.",
    )


@pytest.fixture
def flash(club, organizer):
    return suggest_paper(
        club=club, suggested_by=organizer, link="2205.14135", title="FlashAttention", pitch="Fast."
    )


@pytest.fixture
def poll(club, organizer, dpo, lora, flash):
    return open_poll(club=club, opened_by=organizer, budget=2)


@pytest.fixture
def member_ship(club, member):
    return club.memberships.get(user=member)


@pytest.fixture
def organizer_ship(club, organizer):
    return club.memberships.get(user=organizer)
