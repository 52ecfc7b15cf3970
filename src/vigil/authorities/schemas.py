"""The shape of a request as an authority sends it (API body or intake file).

Fields the safeguards judge (instrument, targets, date range) are loose here on
purpose: a missing instrument or a hashtag target is stored and refused with a
reason code, so refusals are counted, rather than bounced as a malformed body.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vigil.authorities.models import AgencyType, DataCategory, NondisclosureBasis, RequestKind


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorityIn(_In):
    name: str = Field(min_length=1, max_length=300)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    agency_type: AgencyType


class TargetIn(_In):
    identifier_type: str = Field(max_length=24)
    value: str = Field(max_length=500)


class TimeRangeIn(_In):
    from_: AwareDatetime | None = Field(default=None, alias="from")
    to: AwareDatetime | None = None


class NondisclosureIn(_In):
    basis: NondisclosureBasis
    expires_at: AwareDatetime | None = None  # None: until the authority lifts it


class DeadlinesIn(_In):
    acknowledge_by: AwareDatetime | None = None
    comply_by: AwareDatetime | None = None


class RequestIn(_In):
    reference: str = Field(min_length=1, max_length=200)
    kind: RequestKind
    authority: AuthorityIn
    instrument: str | None = Field(default=None, max_length=48)
    channel: str | None = Field(default=None, max_length=48)
    targets: list[TargetIn] = Field(default_factory=list, max_length=1000)
    time_range: TimeRangeIn | None = None
    data_categories: list[DataCategory] = Field(default_factory=list)
    nondisclosure: NondisclosureIn | None = None
    deadlines: DeadlinesIn = DeadlinesIn()
    preserve_days: int | None = Field(default=None, ge=1, le=3650)
    # When the request arrived, if earlier than intake (a letter typed in later).
    received_at: AwareDatetime | None = None

    @property
    def range_from(self) -> datetime | None:
        return self.time_range.from_ if self.time_range else None

    @property
    def range_to(self) -> datetime | None:
        return self.time_range.to if self.time_range else None
