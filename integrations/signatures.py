"""Discord signs every interaction it sends with the application's Ed25519 key."""

import time

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_AGE = 5 * 60  # seconds: an older (or a future) timestamp is a replay


def verify(
    *,
    public_key_hex: str,
    signature_hex: str,
    timestamp: str,
    body: bytes,
    now: float | None = None,
) -> bool:
    """Whether `signature_hex` signs timestamp + body with the key, and the timestamp is
    within MAX_AGE of now. Any malformed part is a plain False."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > MAX_AGE:
        return False
    try:
        key = VerifyKey(bytes.fromhex(public_key_hex))
        signature = bytes.fromhex(signature_hex)
        if len(signature) != 64:
            return False
        key.verify(timestamp.encode() + body, signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True
