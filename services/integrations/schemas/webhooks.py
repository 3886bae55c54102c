"""Request and response shapes of webhook endpoints and their delivery attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from shared.types import CONTROL_CHARS, text

__all__ = [
    "AttemptPublic",
    "EndpointCreate",
    "EndpointPublic",
    "EndpointUpdate",
    "EndpointWithSecret",
    "Queued",
    "Redeliver",
]

Url = Annotated[
    str,
    text(2048, min_length=8, shape=rf"^https?://[^\s{CONTROL_CHARS}]+$"),
    Field(
        description="Where to POST events. In production: https, a public host, no "
        "credentials or fragment.",
        examples=["https://erp.example.com/hooks/betterwork"],
    ),
]
EventTypes = Annotated[
    list[Annotated[str, text(80)]],
    Field(max_length=100, description="Only these event types; empty: every type."),
]
Description = Annotated[str, text(500, min_length=0)]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    event_types: EventTypes = []
    description: Description = ""
    enabled: StrictBool = True


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: StrictBool | None = Field(
        None, description="false pauses deliveries; true resumes them (after a disable too)."
    )


class EndpointPublic(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why it was disabled automatically (every retry of a delivery failed)."
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointPublic):
    secret: str = Field(
        description="The signing secret (`whsec_` + base64), shown only now: keep it."
    )
    previous_secret_expires_at: datetime | None = Field(
        None, description="After a rotation: until when the old secret also signs."
    )


class Redeliver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, text(40, shape=r"^evt_[0-9A-Za-z]+$")] | None = None
    since: datetime | None = Field(
        None, description="Every event this endpoint receives taken in since then."
    )

    @model_validator(mode="after")
    def _one_of(self) -> Redeliver:
        if (self.event_id is None) == (self.since is None):
            raise ValueError("give exactly one of event_id and since")
        return self


class Queued(BaseModel):
    queued: int = Field(description="How many deliveries were (re)queued.")
    event_id: str | None = Field(None, description="The test event's id (for /test).")


class AttemptPublic(BaseModel):
    id: str
    event_id: str
    attempt: int = Field(
        description="1 for the first try of a delivery, 2 for its first retry… A probe of a "
        "receiver that is down (an extra try, every 30 s, outside the retry schedule) repeats "
        "the number of the attempt before it and, when it fails, says so in `error`: it does "
        "not count toward the schedule."
    )
    status_code: int | None = Field(description="The receiver's status; null: no reply.")
    latency_ms: int
    error: str | None = Field(description="Why it failed; null on success.")
    next_retry_at: datetime | None = Field(description="When it is tried again, if it is.")
    created_at: datetime
