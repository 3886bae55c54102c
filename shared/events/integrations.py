"""Events of the integrations service itself."""

from __future__ import annotations

from shared.events import EventData, event


@event("webhook_endpoint.disabled", "integrations", "A webhook endpoint failed every retry.")
class WebhookEndpointDisabled(EventData):
    endpoint_id: str
    url: str
    reason: str


@event("webhook.test", "integrations", "A test event sent on request to one endpoint.")
class WebhookTest(EventData):
    endpoint_id: str
    message: str
