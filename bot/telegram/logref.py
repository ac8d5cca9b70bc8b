"""How chats are named in the logs."""

import hashlib


def chat_ref(chat_id: int) -> str:
    """Returns an opaque reference to a chat for the logs (never the id itself)."""
    return hashlib.sha256(str(chat_id).encode()).hexdigest()[:12]
