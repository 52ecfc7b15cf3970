"""``vigil authorities report``: requests from authorities and referrals to them, side by side.

Requests per authority and country (``figures.request_figures``) and referrals
per route and priority (``referrals.services.referral_figures``) for one period,
as Rich tables for a person and as JSON for a transparency report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.table import Table
from sqlalchemy.orm import Session

from vigil.authorities.figures import RequestFigures, request_figures
from vigil.referrals.services import RouteFigures, referral_figures


@dataclass(frozen=True)
class AuthoritiesReport:
    since: datetime
    until: datetime
    requests: list[RequestFigures]
    referrals: list[RouteFigures]

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "requests": [
                {
                    "authority": r.authority,
                    "country": r.country,
                    "requests": r.requests,
                    "accounts_specified": r.accounts_specified,
                    "share_some_data_produced": r.share_some_data,
                    "refusals": dict(sorted(r.refusals.items())),
                    "median_seconds_to_acknowledge": r.median_ack_seconds,
                    "median_seconds_to_give_effect": r.median_effect_seconds,
                }
                for r in self.requests
            ],
            "referrals": [
                {
                    "route": f.route,
                    "priority": f.priority,
                    "proposed": f.proposed,
                    "approved": f.approved,
                    "submitted": f.submitted,
                    "late": f.late,
                    "median_seconds_detection_to_submission": f.median_detection_to_submission_s,
                }
                for f in self.referrals
            ],
        }


def build(session: Session, since: datetime, until: datetime) -> AuthoritiesReport:
    return AuthoritiesReport(
        since,
        until,
        request_figures(session, since, until),
        referral_figures(session, since, until),
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def tables(report: AuthoritiesReport) -> list[Table]:
    """The report as two tables: requests in, referrals out."""
    period = f"{report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"
    requests = Table(
        "authority",
        "country",
        "requests",
        "accounts specified",
        "some data produced",
        "refusals by reason",
        "median to acknowledge",
        "median to give effect",
        title=f"Requests from authorities, {period}",
    )
    for r in report.requests:
        share = "-" if r.share_some_data is None else f"{r.share_some_data:.0%}"
        refusals = ", ".join(f"{k} {v}" for k, v in sorted(r.refusals.items())) or "-"
        requests.add_row(
            r.authority,
            r.country,
            str(r.requests),
            str(r.accounts_specified),
            share,
            refusals,
            _duration(r.median_ack_seconds),
            _duration(r.median_effect_seconds),
        )
    referrals = Table(
        "route",
        "priority",
        "proposed",
        "approved",
        "submitted",
        "late",
        "median detection to submission",
        title=f"Referrals to authorities, {period}",
    )
    for f in report.referrals:
        referrals.add_row(
            f.route,
            f.priority,
            str(f.proposed),
            str(f.approved),
            str(f.submitted),
            str(f.late),
            _duration(f.median_detection_to_submission_s),
        )
    return [requests, referrals]
