"""Standard Webhooks signatures (the `standardwebhooks` package, so receivers verify with
the official libraries): `whsec_` + base64 secrets, `v1,<base64 HMAC-SHA256>` signatures
over `<webhook-id>.<webhook-timestamp>.<body>`."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

__all__ = ["headers", "new_secret"]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def headers(event_id: str, body: str, when: datetime, keys: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers; one signature per key, separated by a space
    (during a rotation's overlap both the new and the old secret sign)."""
    signatures = [Webhook(key).sign(event_id, when, body) for key in keys]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
