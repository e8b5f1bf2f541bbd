"""The club settings' Discord section in a phone's browser: an organizer links a channel,
sees it pending, and the demo's linked club shows its state; controls big enough to tap
and no serious accessibility violation."""

import pytest
from playwright.sync_api import expect

from integrations.models import DiscordLink
from tests.e2e.conftest import run_axe, screenshot
from tests.e2e.test_phone import SMALL_CONTROLS, demo, phone, sign_in  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_organizer_links_a_discord_channel_on_a_phone(phone, demo):  # noqa: F811
    page = phone()
    sign_in(page, "organizer@example.com")

    page.goto("/c/llm-reading-list/settings/")
    section = page.locator("#discord")
    section.get_by_label("Discord server ID").fill("123")
    section.get_by_role("button", name="Link the channel").tap()
    expect(page.locator("#discord")).to_contain_text("15 to 20 digit number")
    page.locator("#discord").get_by_label("Discord server ID").fill("111111111111111111")
    page.locator("#discord").get_by_label("Channel ID").fill("222222222222222222")
    page.locator("#discord").get_by_role("button", name="Link the channel").tap()

    expect(page.locator("#discord")).to_contain_text("Pending")
    link = DiscordLink.objects.get(club__slug="llm-reading-list")
    assert (link.guild_id, link.channel_id, link.is_confirmed) == (
        "111111111111111111",
        "222222222222222222",
        False,
    )
    assert page.evaluate(SMALL_CONTROLS) == []
    assert run_axe(page) == []
    screenshot(page, "phone-discord-pending")


def test_the_demo_club_shows_its_linked_channel(phone, demo):  # noqa: F811
    page = phone()
    sign_in(page, "organizer@example.com")

    page.goto("/c/asia-paper-club/settings/")

    expect(page.locator("#discord")).to_contain_text("Linked")
    page.locator("#discord summary").tap()
    expect(page.locator("#discord").get_by_label("Channel ID")).to_be_visible()
    assert page.evaluate(SMALL_CONTROLS) == []
    assert run_axe(page) == []
    screenshot(page, "phone-discord-linked")
    page.locator("#discord").get_by_role("button", name="Unlink Discord").tap()
    expect(page.locator("body")).to_contain_text("The club is no longer linked to Discord.")
    assert not DiscordLink.objects.filter(club__slug="asia-paper-club").exists()
