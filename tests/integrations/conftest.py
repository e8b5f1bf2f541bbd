"""Discord as the tests see it: a generated Ed25519 key signs each interaction as Discord
would, and a local HTTP server stands in for Discord's REST API and records the calls."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from nacl.signing import SigningKey

from integrations.models import DiscordLink
from tests.sessions.test_emails_webhooks import hook_server  # noqa: F401 (a fixture)

GUILD = "111111111111111111"
CHANNEL = "222222222222222222"
ORGANIZER_ID = "333333333333333331"
MEMBER_ID = "333333333333333332"
OUTSIDER_ID = "333333333333333333"
MANAGES_CHANNEL = str(1 << 4)  # Discord's Manage Channels bit
STRANGER_ID = "333333333333333334"  # no Paper Club account has this Discord account

URL = "/integrations/discord/interactions/"


@pytest.fixture
def signing_key(settings):
    key = SigningKey.generate()
    settings.DISCORD_PUBLIC_KEY = key.verify_key.encode().hex()
    settings.DISCORD_APPLICATION_ID = "444444444444444444"
    return key


def signed_headers(key: SigningKey, body: bytes, timestamp: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp}


class Discord:
    """Sends interactions to the endpoint as Discord does."""

    def __init__(self, key: SigningKey):
        self.key = key
        self.client = Client()

    def post(self, payload: dict, **overrides):
        body = json.dumps(payload).encode()
        headers = signed_headers(self.key, body) | overrides
        return self.client.post(URL, body, content_type="application/json", headers=headers)

    def interact(self, payload: dict) -> dict:
        response = self.post(payload)
        assert response.status_code == 200, response.content
        return response.json()

    def command(
        self,
        sub: str,
        user: str = MEMBER_ID,
        channel: str = CHANNEL,
        permissions: str = MANAGES_CHANNEL,
        guild: str = GUILD,
        **options,
    ):
        return self.interact(
            {
                "type": 2,
                "id": "1",
                "token": "interaction-token",
                "guild_id": guild,
                "channel_id": channel,
                # Discord's permission bits for this user in this channel.
                "member": {"user": {"id": user, "username": "someone"}, "permissions": permissions},
                "data": {
                    "name": "paper",
                    "type": 1,
                    "options": [
                        {
                            "name": sub,
                            "type": 1,
                            "options": [
                                {"name": k, "type": 3, "value": v} for k, v in options.items()
                            ],
                        }
                    ],
                },
            }
        )

    def click(
        self,
        custom_id: str,
        user: str = MEMBER_ID,
        values: list | None = None,
        flags: int = 0,
        token: str = "click-token",
    ):
        data = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
        if values is not None:
            data["values"] = values
        return self.interact(
            {
                "type": 3,
                "id": "2",
                "token": token,
                "guild_id": GUILD,
                "channel_id": CHANNEL,
                "member": {"user": {"id": user, "username": "someone"}},
                "message": {"id": "555555555555555555", "flags": flags},
                "data": data,
            }
        )


@pytest.fixture
def discord(signing_key) -> Discord:
    return Discord(signing_key)


def connect(user, discord_id: str) -> SocialAccount:
    return SocialAccount.objects.create(user=user, provider="discord", uid=discord_id)


@pytest.fixture
def linked(club, organizer, member, outsider):
    """The club linked to the channel and confirmed; organizer, member and outsider have
    connected their Discord accounts."""
    connect(organizer, ORGANIZER_ID)
    connect(member, MEMBER_ID)
    connect(outsider, OUTSIDER_ID)
    return DiscordLink.objects.create(
        club=club,
        guild_id=GUILD,
        channel_id=CHANNEL,
        confirmed_at=timezone.now(),
        confirmed_by_discord_user=ORGANIZER_ID,
    )


class Api(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Api.received.append(
            {
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "json": json.loads(body) if body else None,
            }
        )
        payload = json.dumps(
            Api.received[-1]["json"] if self.command == "PUT" else {"id": "666666666666666666"}
        ).encode()
        self.send_response(Api.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_PATCH = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def discord_api(settings):
    """Discord's REST API on a local port; `Api.received` lists the calls made to it."""
    Api.received, Api.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.DISCORD_API_URL = f"http://127.0.0.1:{server.server_port}/api/v10"
    settings.DISCORD_BOT_TOKEN = "test-bot-token"
    settings.DISCORD_APPLICATION_ID = "444444444444444444"
    yield Api
    server.shutdown()
    server.server_close()


def settings_url(club) -> str:
    return reverse("clubs:edit", args=[club.slug])
