"""Requests from authorities, the accounts or content they name, and what was produced.

``AuthorityRequest.status`` is a projection kept equal to :func:`reducer.request_status`
over the request's events. Target values (user names, URLs) live only here, never in
events; events carry ids, counts and reason codes.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base


class RequestKind(enum.StrEnum):
    PRESERVATION = "preservation"
    EMERGENCY_DISCLOSURE = "emergency_disclosure"
    PRODUCTION = "production"  # a production order or subpoena
    DSA_ART9_ORDER_TO_ACT = "dsa_art9_order_to_act"
    DSA_ART10_ORDER_TO_PROVIDE_INFORMATION = "dsa_art10_order_to_provide_information"
    TCO_REMOVAL_ORDER = "tco_removal_order"

    @property
    def produces(self) -> bool:
        """Whether the request is answered with data (and so needs verification first)."""
        return self in _PRODUCING

    @property
    def acts(self) -> bool:
        """Whether the request is answered by giving effect to an order (removal, action)."""
        return self in (RequestKind.DSA_ART9_ORDER_TO_ACT, RequestKind.TCO_REMOVAL_ORDER)


_PRODUCING = frozenset(
    {
        RequestKind.EMERGENCY_DISCLOSURE,
        RequestKind.PRODUCTION,
        RequestKind.DSA_ART10_ORDER_TO_PROVIDE_INFORMATION,
    }
)


class RequestStatus(enum.StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    VERIFIED = "verified"
    # Emergency disclosure: one legal officer approved, a second must too.
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    APPROVED = "approved"
    PRODUCED = "produced"
    EFFECT_GIVEN = "effect_given"
    REFUSED = "refused"


class AgencyType(enum.StrEnum):
    POLICE = "police"
    PROSECUTOR = "prosecutor"
    COURT = "court"
    ADMIN_AUTHORITY = "admin_authority"
    INTELLIGENCE = "intelligence"


class VerificationMethod(enum.StrEnum):
    """Independent channels for checking that a request really comes from the authority."""

    PORTAL_IDENTITY = "portal_identity"
    CALLBACK_TO_PUBLISHED_SWITCHBOARD = "callback_to_published_switchboard"
    DOMAIN_DKIM_CHECK = "domain_dkim_check"
    KNOWN_CONTACT = "known_contact"
    CERTIFICATE_SIGNATURE = "certificate_signature"


class DataCategory(enum.StrEnum):
    SUBSCRIBER_BASIC = "subscriber_basic"
    NON_CONTENT_TRAFFIC_LOGS = "non_content_traffic_logs"
    CONTENT = "content"


class NondisclosureBasis(enum.StrEnum):
    US_2705B_ORDER = "US_2705B_ORDER"
    UK_IPA_S82_CD = "UK_IPA_S82_CD"
    UK_IPA_S57_INTERCEPTION = "UK_IPA_S57_INTERCEPTION"
    EU_EPOC_CONFIDENTIALITY = "EU_EPOC_CONFIDENTIALITY"
    TCO_ART11_WITHHOLD_6W_PLUS_6W = "TCO_ART11_WITHHOLD_6W_PLUS_6W"
    AUTHORITY_REQUEST_NO_ORDER = "AUTHORITY_REQUEST_NO_ORDER"


class AuthorityRequest(Base):
    __tablename__ = "authority_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200))  # the authority's own reference
    kind: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str | None] = mapped_column(String(48))
    authority_name: Mapped[str] = mapped_column(String(300))
    authority_country: Mapped[str] = mapped_column(String(2))
    agency_type: Mapped[str] = mapped_column(String(24))
    instrument: Mapped[str | None] = mapped_column(String(48))
    data_categories: Mapped[list[Any]] = mapped_column(JSON)
    range_from: Mapped[datetime | None]
    range_to: Mapped[datetime | None]
    nondisclosure_basis: Mapped[str | None] = mapped_column(String(48))
    nondisclosure_expires_at: Mapped[datetime | None]
    acknowledge_by: Mapped[datetime | None]
    comply_by: Mapped[datetime | None]
    preserve_days: Mapped[int | None] = mapped_column(Integer)
    received_by: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(200))
    verification_method: Mapped[str | None] = mapped_column(String(48))
    verification_evidence: Mapped[str | None] = mapped_column(String(500))
    # Emergency disclosure: the recorded good-faith belief, kept here and never in events.
    good_faith_reason: Mapped[str | None] = mapped_column(Text)
    first_approver: Mapped[str | None] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    produced_at: Mapped[datetime | None]
    effect_given_at: Mapped[datetime | None]
    refused_at: Mapped[datetime | None]
    refusal_code: Mapped[str | None] = mapped_column(String(48))
    user_notified_at: Mapped[datetime | None]


class AuthorityTarget(Base):
    """One account or piece of content a request names, and what it matched when received."""

    __tablename__ = "authority_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("authority_requests.id"), index=True)
    identifier_type: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(500))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))


class AuthorityProduction(Base):
    """What was handed over: categories, accounts and the package's SHA-256 (not the data)."""

    __tablename__ = "authority_productions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("authority_requests.id"), index=True)
    produced_by: Mapped[str] = mapped_column(String(200))
    produced_at: Mapped[datetime]
    categories: Mapped[list[Any]] = mapped_column(JSON)
    account_ids: Mapped[list[Any]] = mapped_column(JSON)
    item_count: Mapped[int] = mapped_column(Integer)
    package_sha256: Mapped[str] = mapped_column(String(64))
