"""In-memory index over enabled bank entries, built once per scan run.

Hashes, URLs and domains are dictionary look-ups; terms are one compiled
alternation scanned once over the normalised text (not a loop over patterns).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.banks.models import Bank, BankEntry
from vigil.banks.normalize import (
    NormaliseError,
    extract_urls,
    normalise_text,
    normalise_url,
    url_domains,
)


@dataclass(frozen=True)
class EntryRef:
    bank_id: int
    bank: str
    category: str
    entry_id: int
    external_id: str | None


@dataclass(frozen=True)
class MediaHashes:
    position: int
    md5: str | None
    sha256: str | None


@dataclass(frozen=True)
class ScanInput:
    """What the matchers may look at for one item."""

    item_id: int
    text: str | None
    urls: Sequence[str]
    media: Sequence[MediaHashes]


@dataclass(frozen=True)
class SignalDraft:
    item_id: int
    kind: str
    matched: str
    reason: str
    entry: EntryRef | None = None
    notice_id: int | None = None
    notice_category: str | None = None


@dataclass
class BankIndex:
    by_kind: dict[str, dict[str, list[EntryRef]]] = field(default_factory=lambda: defaultdict(dict))
    term_pattern: re.Pattern[str] | None = None
    entries: int = 0

    @classmethod
    def load(cls, session: Session) -> BankIndex:
        index = cls()
        rows = session.execute(
            select(
                Bank.id,
                Bank.name,
                Bank.kind,
                Bank.category,
                BankEntry.id,
                BankEntry.value,
                BankEntry.external_id,
            )
            .join(BankEntry, BankEntry.bank_id == Bank.id)
            .where(Bank.enabled.is_(True), BankEntry.enabled.is_(True))
        )
        for bank_id, name, kind, category, entry_id, value, external_id in rows:
            ref = EntryRef(bank_id, name, category, entry_id, external_id)
            index.by_kind[kind].setdefault(value, []).append(ref)
            index.entries += 1
        terms = sorted(index.by_kind.get("term", {}), key=len, reverse=True)
        if terms:
            alternation = "|".join(re.escape(t) for t in terms)
            index.term_pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
        return index

    def match(self, item: ScanInput) -> list[SignalDraft]:
        found: list[SignalDraft] = []
        for media in item.media:
            for kind, value in (("sha256", media.sha256), ("md5", media.md5)):
                for ref in self.by_kind.get(kind, {}).get(value or "", []):
                    found.append(
                        SignalDraft(
                            item.item_id,
                            kind,
                            value or "",
                            f"{kind.upper()} of media #{media.position} equals entry "
                            f"{ref.external_id or ref.entry_id} in bank {ref.bank}",
                            ref,
                        )
                    )
        found += self._match_urls(item)
        if self.term_pattern is not None and item.text:
            seen: set[str] = set()
            for m in self.term_pattern.finditer(normalise_text(item.text)):
                term = m.group(0)
                if term in seen:
                    continue
                seen.add(term)
                for ref in self.by_kind["term"].get(term, []):
                    found.append(
                        SignalDraft(
                            item.item_id,
                            "term",
                            term,
                            f"text contains term {term!r} from bank {ref.bank}",
                            ref,
                        )
                    )
        return found

    def _match_urls(self, item: ScanInput) -> list[SignalDraft]:
        url_bank, domain_bank = self.by_kind.get("url", {}), self.by_kind.get("domain", {})
        if not url_bank and not domain_bank:
            return []
        candidates = list(item.urls) + (extract_urls(item.text) if item.text else [])
        found: list[SignalDraft] = []
        seen: set[tuple[str, str, int]] = set()
        for raw in candidates:
            try:
                url = normalise_url(raw)
            except NormaliseError:
                continue
            for ref in url_bank.get(url, []):
                if ("url", url, ref.entry_id) not in seen:
                    seen.add(("url", url, ref.entry_id))
                    found.append(
                        SignalDraft(
                            item.item_id, "url", url, f"URL {url} is in bank {ref.bank}", ref
                        )
                    )
            for domain in url_domains(url):
                for ref in domain_bank.get(domain, []):
                    if ("domain", domain, ref.entry_id) not in seen:
                        seen.add(("domain", domain, ref.entry_id))
                        found.append(
                            SignalDraft(
                                item.item_id,
                                "domain",
                                domain,
                                f"link to domain {domain} is in bank {ref.bank}",
                                ref,
                            )
                        )
        return found
