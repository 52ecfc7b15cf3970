"""CyberTipline XML: the ``<report>`` and each file's ``<fileDetails>``, in schema order.

NCMEC refuses elements out of the XSD's sequence order (response code 4100), so
each builder below writes children in exactly the order of ``cyber_tipline.xsd``
(see ../shared/reference/ncmec_report_elements.json; tests check every element
against it). ``fileViewedByEsp`` is true only for a file a person opened in
Vigil: police may need a warrant to open a file the platform never viewed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from vigil.policy.schema import ReferralPriority
from vigil.referrals.package import EvidenceFile, Package, iso

INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"


@dataclass(frozen=True)
class Reporter:
    """Who reports, from configuration (never from the package)."""

    platform: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    terms_url: str | None = None


def _text(parent: ET.Element, name: str, value: str | None) -> ET.Element | None:
    if value is None:
        return None
    child = ET.SubElement(parent, name)
    child.text = value
    return child


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _serialise(root: ET.Element) -> bytes:
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _incident_time(package: Package) -> str:
    """The publication time, never after the approval (NCMEC refuses future times)."""
    times = package.manifest["times"]
    published = datetime.fromisoformat(times["published_at"])
    cap = times.get("approved_at") or times.get("proposed_at")
    if cap is not None:
        published = min(published, datetime.fromisoformat(cap))
    return str(iso(published))


def _reasoning(package: Package) -> str:
    r = package.manifest["reasoning"]
    signals = ", ".join(
        f"{s['kind']}" + (f" ({s['bank']})" if s.get("bank") else "") for s in r["signals"]
    )
    ref = package.manifest["referral"]
    return (
        f"Reviewed and confirmed by two people as {r['clause']} (rule {r['rule_id']}); "
        f"signals: {signals or 'none'}; Vigil referral {ref['id']}; "
        f"package SHA-256 {package.sha256}"
    )


def report_xml(package: Package, reporter: Reporter) -> bytes:
    """The ``<report>`` document for ``POST /submit``."""
    m = package.manifest
    root = ET.Element("report")
    summary = ET.SubElement(root, "incidentSummary")
    _text(summary, "incidentType", INCIDENT_TYPE)
    _text(summary, "platform", reporter.platform)
    if m["referral"]["priority"] == ReferralPriority.P1_IMMEDIATE.value:
        _text(summary, "escalateToHighPriority", "Priority P1: approved for immediate referral")
    _text(summary, "incidentDateTime", _incident_time(package))
    rep = ET.SubElement(root, "reporter")
    person = ET.SubElement(rep, "reportingPerson")
    _text(person, "firstName", reporter.first_name)
    _text(person, "lastName", reporter.last_name)
    _text(person, "email", reporter.email)
    _text(rep, "legalURL", reporter.terms_url)
    ids = m["identifiers"]
    user = ET.SubElement(root, "personOrUserReported")
    _text(user, "espIdentifier", ids["platform_account_id"])
    _text(user, "screenName", ids.get("handle"))
    _text(root, "additionalInfo", _reasoning(package))
    return _serialise(root)


def file_details_xml(report_id: str, file_id: str, file: EvidenceFile) -> bytes:
    """The ``<fileDetails>`` document for ``POST /fileinfo`` after a file's upload."""
    root = ET.Element("fileDetails")
    _text(root, "reportId", report_id)
    _text(root, "fileId", file_id)
    _text(root, "fileName", file.name)
    _text(root, "uploadedToEspTimestamp", iso(file.uploaded_at))
    _text(root, "fileViewedByEsp", _bool(file.viewed_by_person))
    _text(root, "fileRelevance", "Reported")
    sha = _text(root, "originalFileHash", file.sha256)
    assert sha is not None
    sha.set("hashType", "SHA256")
    if file.md5:
        md5 = _text(root, "originalFileHash", file.md5)
        assert md5 is not None
        md5.set("hashType", "MD5")
    return _serialise(root)


def parse_response(body: bytes) -> dict[str, str]:
    """``reportResponse`` / ``reportDoneResponse`` as a flat mapping of its simple children."""
    root = ET.fromstring(body)  # noqa: S314 (the configured NCMEC endpoint's answer)
    return {child.tag: (child.text or "") for child in root if len(child) == 0}
