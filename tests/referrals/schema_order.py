"""Checks an XML element tree against the CyberTipline element reference (schema order)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def reference(shared: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared / "reference" / "ncmec_report_elements.json").read_text(encoding="utf-8")
    )
    return data


def problems(element: ET.Element, spec: dict[str, Any], path: str = "") -> list[str]:
    """Unknown elements or attributes, children out of sequence order, repeats of a
    single-occurrence element, and missing required children."""
    here = f"{path}/{element.tag}"
    out: list[str] = []
    children = spec.get("children") or []
    names = [c["name"] for c in children]
    allowed_attrs = {a["name"] for a in spec.get("attributes") or []}
    out += [f"{here}@{a}: unknown attribute" for a in element.attrib if a not in allowed_attrs]
    last = -1
    counts: dict[str, int] = {}
    for child in element:
        if child.tag not in names:
            out.append(f"{here}/{child.tag}: not an element of {element.tag}")
            continue
        index = names.index(child.tag)
        if index < last:
            out.append(f"{here}/{child.tag}: out of schema order after {names[last]}")
        last = max(last, index)
        counts[child.tag] = counts.get(child.tag, 0) + 1
        if children[index].get("maxOccurs") == "1" and counts[child.tag] > 1:
            out.append(f"{here}/{child.tag}: may occur once")
        out += problems(child, children[index], here)
    for child_spec in children:
        required = child_spec.get("minOccurs") == "1" and not spec.get("choice")
        if required and child_spec["name"] not in counts:
            out.append(f"{here}/{child_spec['name']}: required but missing")
    return out
