"""On a phone: refusals beside their control, touch targets, the header; and refusals
looking the same in development (DEBUG) as in production."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from papers.models import Poll, Suggestion, Track
from papers.services import withdraw_suggestion
from sessions.models import Meeting
from tests.e2e.conftest import SCREENSHOTS, run_axe, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

CLUB = "/c/asia-paper-club/"
STUDY = "/c/friday-study-group/"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def phone(browser, live_server, problems):
    """A page in a phone's browser: 390 px wide, touch screen, its own cookies."""
    contexts = []

    def open_page():
        context = browser.new_context(
            base_url=live_server.url,
            viewport=PHONE,
            device_scale_factor=3,
            is_mobile=True,
            has_touch=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return problems.watch(context.new_page())

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, email="member@example.com"):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill("paperclub-demo")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, "not rendered"
    return found


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def in_viewport(found: dict) -> bool:
    return found["y"] >= 0 and found["y"] + found["height"] <= PHONE["height"]


def test_a_refused_vote_shows_beside_its_button_on_a_phone(phone, demo):
    page = phone()
    sign_in(page)
    page.goto(CLUB)
    budget = Poll.objects.get(club__slug="asia-paper-club", closed_at__isnull=True).budget
    rows = page.locator("li.suggestion")
    assert rows.count() > budget

    for i in range(budget):
        rows.nth(i).get_by_role("button", name="Vote for").tap()
        expect(rows.nth(i).get_by_role("button", name="Remove your vote")).to_be_visible()
    row = rows.nth(budget)
    button = row.get_by_role("button", name="Vote for")
    button.scroll_into_view_if_needed()
    button.tap()

    alert = row.get_by_role("alert")
    expect(alert).to_contain_text(f"You have used all {budget} of your votes")
    assert page.locator("#poll-message").inner_text() == ""  # not at the top of the ballot
    assert in_viewport(box(alert)) and in_viewport(box(button))
    assert abs(box(alert)["y"] - box(button)["y"]) < 120  # right under the button
    assert alert.get_attribute("aria-live") == "assertive"
    assert page_width(page) <= PHONE["width"]  # the message wraps; the page does not widen
    message = box(alert.locator(".error"))
    assert message["x"] >= 0 and message["x"] + message["width"] <= PHONE["width"]
    screenshot(page, "phone-refused-vote")
    assert run_axe(page) == []

    # Taking a vote back frees one: the refusal beside the other paper no longer holds.
    rows.nth(0).get_by_role("button", name="Remove your vote").tap()
    expect(rows.nth(0).get_by_role("button", name="Vote for")).to_be_visible()
    expect(alert).to_have_text("")


@pytest.mark.parametrize("width", [640, 768, 1024, 1280, 1600])
def test_a_refused_vote_leaves_the_paper_its_width_on_wider_screens(new_page, demo, width):
    """The message goes under the paper and its button, as wide as the card: beside the
    button it took the width of the paper's title, down to a letter a line."""
    page = new_page(width=width, height=900, timezone_id="Europe/Berlin", locale="de-DE")
    sign_in(page)
    page.goto(CLUB)
    budget = Poll.objects.get(club__slug="asia-paper-club", closed_at__isnull=True).budget
    rows = page.locator("li.suggestion")
    for i in range(budget):
        rows.nth(i).get_by_role("button", name="Vote for").click()
        expect(rows.nth(i).get_by_role("button", name="Remove your vote")).to_be_visible()
    row = rows.nth(budget)
    paper = row.locator(".suggestion-body")
    before = box(paper)
    row.get_by_role("button", name="Vote for").click()

    alert = row.get_by_role("alert")
    expect(alert).to_contain_text(f"You have used all {budget} of your votes")
    after, message, card = box(paper), box(alert), box(row)
    assert after["width"] == pytest.approx(before["width"], abs=1)  # the paper keeps its width
    assert after["height"] == pytest.approx(before["height"], abs=1)
    assert message["y"] >= after["y"] + after["height"] - 1  # under the paper, not beside it
    assert message["width"] >= 0.9 * card["width"]
    assert page_width(page) <= width
    screenshot(page, f"refused-vote-{width}")


def test_a_refusal_in_development_is_shown_in_place_not_as_a_page(phone, demo, settings):
    settings.DEBUG = True  # as under `make run`
    page = phone()
    sign_in(page)
    page.goto(STUDY)
    suggestion = Suggestion.objects.filter(club__slug="friday-study-group").backlog().first()
    row = page.locator(f"#suggestion-{suggestion.pk}")
    withdraw_suggestion(suggestion=suggestion)  # taken off the list while the page is open

    row.get_by_role("button", name="Rank").tap()

    expect(row.get_by_role("alert")).to_contain_text("no longer on the ballot")
    expect(page.get_by_role("heading", name="Friday Study Group")).to_be_visible()
    expect(page.locator("#ranking")).to_contain_text("Nothing ranked yet")


# WCAG 2.5.5 (target size): every control a finger can touch is at least 44 x 44 CSS px.
# The rule as this test applies it:
# - controls are links with an address, buttons, form fields, <summary> and [role=button],
#   when rendered (a box of some size) and not hidden;
# - exempt, as WCAG allows: a link inside a sentence ("inline"): an inline link with words
#   of a sentence right before or after it (its size is set by the line of text around it);
#   a link set apart only by separators (a breadcrumb, "· Edit", "you: Markdown · BibTeX",
#   a link after a full stop) is a control of its own and must be big enough;
# - a checkbox or radio button counts with its <label>, which takes the same tap;
# - the skip link is exempt while it is off screen (it shows on keyboard focus only).
SMALL_CONTROLS = r"""
() => {
  const blockOf = (el) => {
    let node = el.parentElement;
    while (node && getComputedStyle(node).display.startsWith("inline")) node = node.parentElement;
    return node;
  };
  // The text of the block just before and just after the link.
  const around = (el, block) => {
    const before = document.createRange(), after = document.createRange();
    before.setStart(block, 0); before.setEndBefore(el);
    after.setStartAfter(el); after.setEnd(block, block.childNodes.length);
    const text = (range) => range.toString().replace(/\s+/g, " ").trim();
    return [text(before), text(after)];
  };
  const apart = /(^|[·\u203a/|:.,—])$/;
  const apartAfter = /^($|[·\u203a/|,—])/;
  const inSentence = (el) => {
    const display = getComputedStyle(el).display;
    if (el.tagName !== "A" || display !== "inline") return false;
    const block = blockOf(el);
    if (!block) return false;
    const [before, after] = around(el, block);
    return !(apart.test(before) && apartAfter.test(after));
  };
  const found = [];
  const controls = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]"
  );
  for (const el of controls) {
    let target = el;
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      target = el.closest("label") || el.labels[0] || el;
    }
    const r = target.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === "hidden") continue;
    if (el.matches(".skip-link") && r.bottom <= 0) continue;
    if (inSentence(el)) continue;
    if (r.width < 43.5 || r.height < 43.5) {
      const text = (el.innerText || el.value || el.name || "").trim().slice(0, 30);
      const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
      found.push(`${el.tagName.toLowerCase()}.${el.className} "${text}" ${size}`);
    }
  }
  return found;
}
"""


def test_every_control_is_big_enough_to_tap_on_a_phone(phone, demo):
    page = phone()
    sign_in(page, "organizer@example.com")  # sees every control, "Edit" on each suggestion
    page.goto(STUDY)  # a ranking with arrows and a remove button on each line
    for ranked in range(1, 4):
        page.locator("button.vote-button", has_text="Rank").first.tap()
        expect(page.locator("#ranking .ranking-line")).to_have_count(ranked)
        expect(page.locator(".ranked-badge")).to_have_count(ranked)  # the list refreshed

    open_poll = Poll.objects.get(club__slug="asia-paper-club", closed_at__isnull=True)
    closed_poll = Poll.objects.filter(club__slug="asia-paper-club", winner__isnull=False).first()
    assert page.goto(f"{CLUB}").ok and page.locator(".edit-link").count() > 0
    pages = {
        "ranked club": STUDY,
        "approval club": CLUB,
        "session": Meeting.objects.filter(club__slug="asia-paper-club").first().get_absolute_url(),
        "track": Track.objects.filter(club__slug="friday-study-group").first().get_absolute_url(),
        "poll": open_poll.get_absolute_url(),
        "poll result": closed_poll.get_absolute_url(),
        "timeline": f"{CLUB}sessions/",
        "profile": "/accounts/profile/",
        "home": "/",
    }
    small, axe, wide = {}, {}, {}
    for name, url in pages.items():
        page.goto(url)
        small[name] = page.evaluate(SMALL_CONTROLS)
        axe[name] = run_axe(page)
        if page_width(page) > PHONE["width"]:
            wide[name] = page_width(page)
        screenshot(page, f"phone-touch-{name.replace(' ', '-')}")
    assert small == {name: [] for name in pages}
    assert axe == {name: [] for name in pages}
    assert wide == {}  # no page is wider than the screen


def test_a_wide_table_scrolls_inside_its_box_on_a_phone(phone, demo):
    page = phone()
    sign_in(page)
    poll = Poll.objects.filter(club__slug="asia-paper-club", winner__isnull=False).first()
    page.goto(poll.get_absolute_url())

    assert page_width(page) <= PHONE["width"]
    wrap = page.locator(".table-wrap[aria-labelledby=counts-heading]")
    found = box(wrap)
    assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE["width"]
    widths = wrap.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1]  # more columns than fit: they are a swipe away, not cut
    assert "gradient" in wrap.evaluate("el => getComputedStyle(el).backgroundImage")  # the edge
    wrap.scroll_into_view_if_needed()
    suggested = wrap.get_by_role("columnheader", name="Suggested")
    expect(suggested).not_to_be_in_viewport()  # a swipe away at first
    wrap.evaluate("el => el.scrollTo(el.scrollWidth, 0)")
    expect(suggested).to_be_in_viewport()
    winner = page.locator("section[aria-labelledby=winner-heading]")
    lines = [line.strip() for line in winner.inner_text().splitlines()]
    assert "." not in lines  # no full stop left on a line of its own
    screenshot(page, "phone-poll-result")
    assert run_axe(page) == []


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_the_header_is_one_line_on_a_phone(phone, demo, django_user_model, who):
    page = phone()
    if who == "member":
        user = django_user_model.objects.get(email="member@example.com")
        user.display_name = "Samantha Okonkwo-Lindqvist"  # a long name is cut, not wrapped
        user.save()
        sign_in(page)
    page.goto(CLUB)

    header = page.locator(".site-header")
    items = [box(page.locator(".brand"))] + [
        box(item) for item in page.locator(".nav-links > li").all()
    ]
    middles = {round(item["y"] + item["height"] / 2) for item in items}
    assert max(middles) - min(middles) <= 2  # one line
    assert max(item["height"] for item in items) <= 48  # no link wraps inside itself
    assert box(header)["height"] <= 64
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    header.screenshot(path=SCREENSHOTS / f"phone-header-{who}.png")
    assert run_axe(page) == []


def test_a_form_sent_in_another_charset_gets_a_400_in_the_browser(new_page, demo):
    """The browser keeps its own cookies; the token is the page's own (hx-headers, as htmx
    sends it). A body declared UTF-16 cannot be read: a 400, the vote left as it was."""
    page = new_page(timezone_id="Asia/Tokyo", locale="ja-JP")
    sign_in(page)
    page.goto(CLUB)
    poll = Poll.objects.get(club__slug="asia-paper-club", closed_at__isnull=True)
    paper = Suggestion.objects.filter(club__slug="asia-paper-club").backlog().first()
    votes = poll.votes.count()

    status, body = page.evaluate(
        """async (url) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const answer = await fetch(url, {
                method: "POST",
                headers: {
                    "Content-Type": "application/x-www-form-urlencoded; charset=utf-16",
                    "X-CSRFToken": token,
                },
                body: "approve=1",
            });
            return [answer.status, await answer.text()];
        }""",
        f"{CLUB}polls/{poll.pk}/vote/{paper.pk}/",
    )

    assert status == 400
    assert "could not read" in body
    assert poll.votes.count() == votes
