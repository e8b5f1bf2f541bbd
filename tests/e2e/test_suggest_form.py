"""The suggest form in a browser, against a local server that answers like arXiv."""

import threading

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import run_axe
from tests.papers.conftest import FakeArxivServer, Reply, recorded

pytestmark = pytest.mark.django_db(transaction=True)

CLUB = "/c/asia-paper-club/"
ARXIV_ID = "hep-th/9711200"
TITLE = "The Large N Limit of Superconformal Field Theories and Supergravity"


@pytest.fixture
def arxiv_api(settings):
    server = FakeArxivServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.ARXIV_API_URL = server.url
    settings.ARXIV_TIMEOUT = 5.0
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def form(new_page, live_server):
    call_command("seed_demo", verbosity=0)
    page = new_page(width=390, height=844)
    page.goto("/accounts/login/")
    page.locator("#id_login").fill("member@example.com")
    page.locator("#id_password").fill("paperclub-demo")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(CLUB)
    checks = []
    page.on("request", lambda r: "/suggestions/check/" in r.url and checks.append(r.url))
    suggest = page.locator("#suggest-form")
    suggest.checks = checks
    return suggest


def test_a_slow_lookup_says_looking_up_then_fills_the_empty_fields(form, arxiv_api):
    arxiv_api.replies[ARXIV_ID] = Reply(body=recorded("hep-th_9711200.xml").body, delay=1.5)

    form.get_by_label("arXiv ID or link").fill(ARXIV_ID)

    expect(form.get_by_text("Looking up…")).to_be_visible()
    expect(form.get_by_label("Title")).to_have_value(TITLE)
    expect(form.get_by_label("Authors")).to_have_value("Juan M. Maldacena")
    expect(form.get_by_text("Looking up…")).to_be_hidden()
    assert run_axe(form.page) == []


def test_a_late_answer_does_not_overwrite_what_the_member_typed(form, arxiv_api):
    arxiv_api.replies[ARXIV_ID] = Reply(body=recorded("hep-th_9711200.xml").body, delay=1.5)

    form.get_by_label("arXiv ID or link").fill(ARXIV_ID)
    expect(form.get_by_text("Looking up…")).to_be_visible()  # the lookup has started
    form.get_by_label("Title").fill("Maldacena's conjecture")
    form.get_by_label("Why read this?").focus()

    expect(form.locator("#link-feedback")).to_contain_text(TITLE)
    expect(form.get_by_label("Title")).to_have_value("Maldacena's conjecture")
    expect(form.get_by_label("Authors")).to_have_value("Juan M. Maldacena")  # untouched: filled


def test_leaving_the_link_field_does_not_look_the_link_up_again(form, arxiv_api):
    form.get_by_label("arXiv ID or link").fill(ARXIV_ID)
    expect(form.get_by_label("Title")).to_have_value(TITLE)
    assert len(form.checks) == 1

    form.get_by_label("arXiv ID or link").press("Tab")
    form.get_by_label("Why read this?").fill("Where AdS/CFT starts.")
    form.page.wait_for_timeout(800)  # longer than the lookup's 500 ms typing delay

    assert len(form.checks) == 1
    assert len(arxiv_api.requests) == 1


def test_arxiv_unreachable_the_title_is_asked_for_not_optional(form):
    # No arXiv stub: the API address is a closed port, as when arXiv is down.
    form.get_by_label("arXiv ID or link").fill(ARXIV_ID)

    expect(form.locator("#link-feedback")).to_contain_text("arXiv could not be reached")
    expect(form.locator("#id_title-label")).to_have_text("Title")
    expect(form.locator("#id_title_helptext")).to_have_text(
        "arXiv could not be reached, so type the title yourself."
    )

    form.get_by_role("button", name="Suggest").click()

    expect(form.locator("#id_title-label")).to_have_text("Title")
    expect(form.locator("#id_pitch-label")).to_contain_text("Why read this?")
    expect(form).to_contain_text("Tell the club in a sentence why it is worth reading")
    assert "This field is required." not in form.inner_text()
    assert run_axe(form.page) == []


def test_back_after_an_in_place_suggestion_shows_the_whole_club_page(form):
    # The list refreshes itself from the club page's own address; without `Vary:
    # HX-Request` the browser gave that fragment back, unstyled, for the page on Back.
    form.get_by_label("arXiv ID or link").fill("1512.03385")
    form.get_by_label("Title").fill("Deep Residual Learning")
    form.get_by_label("Why read this?").fill("Skip connections everywhere.")
    form.get_by_role("button", name="Suggest").click()
    page = form.page
    expect(page.locator("#suggestions")).to_contain_text("Deep Residual Learning")

    page.get_by_role("link", name="Timeline").first.click()
    page.wait_for_url("**/sessions/")
    page.go_back()

    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#suggest-form")).to_be_visible()
    assert page.title()
