"""How chats are named in the logs: a keyed hash, never the id.

A plain hash of a Telegram chat id can be reversed by trying every id; the key (the bot's
token, which only the operator has) makes the reference useless to whoever reads only the
logs, while it stays the same across workers and restarts of one deployment.
"""

import hashlib
import hmac

_key = [b""]


def use_key(secret: str) -> None:
    """Keys every chat reference with this secret (done when the application is built)."""
    _key[0] = secret.encode()


def chat_ref(chat_id: int) -> str:
    """Returns an opaque reference to a chat for the logs (never the id itself)."""
    return hmac.new(_key[0], str(chat_id).encode(), hashlib.sha256).hexdigest()[:12]
