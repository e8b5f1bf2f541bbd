"""Fixtures for the papers tests, among them a local server that answers like the arXiv API."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from papers.polls import open_poll
from papers.services import suggest_paper

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"


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


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/atom+xml; charset=UTF-8"
    delay: float = 0  # seconds to wait before answering
    trickle: bool = False  # send the body a byte every 0.1 s
    location: str = ""  # a Location header, for redirects


def recorded(name: str, status: int = 200) -> Reply:
    return Reply(status=status, body=(FIXTURES / name).read_bytes())


class FakeArxivHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        query = parse_qs(urlsplit(self.path).query)
        self.server.requests.append({"query": query, "user_agent": self.headers["User-Agent"]})
        # A lookup by ID answers by its id_list; a title search by its search_query.
        # arXiv's search ignores case, and so does this one.
        asked = query.get("id_list", query.get("search_query", [""]))[0]
        replies = {key.casefold(): reply for key, reply in self.server.replies.items()}
        reply = self.server.replies.get(asked) or replies.get(
            asked.casefold(), recorded("empty.xml")
        )
        # Waiting on the stop event lets the fixture end a slow answer at once.
        if reply.delay and self.server.stop.wait(reply.delay):
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.location:
                self.send_header("Location", reply.location)
            self.end_headers()
            if not reply.trickle:
                self.wfile.write(reply.body)
                return
            for byte in reply.body:
                if self.server.stop.wait(0.1):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def log_message(self, format, *args):
        pass  # keep the test output quiet


class FakeArxivServer(ThreadingHTTPServer):
    # Non-daemon handler threads, so server_close() waits for every one of them.
    daemon_threads = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeArxivHandler)
        self.stop = threading.Event()
        self.requests: list[dict] = []
        self.replies: dict[str, Reply] = {
            "1706.03762": recorded("1706.03762.xml"),
            "hep-th/9711200": recorded("hep-th_9711200.xml"),
            "2005.14165": recorded("2005.14165.xml"),
            "1234.56789": recorded("not_found.xml"),
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/api/query"


@pytest.fixture
def arxiv_api(settings):
    server = FakeArxivServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.ARXIV_API_URL = server.url
    settings.ARXIV_TIMEOUT = 2.0
    settings.SITE_URL = "https://paperclub.example.org"
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()
    thread.join()
