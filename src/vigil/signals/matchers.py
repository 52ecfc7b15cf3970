"""In-memory index over enabled bank entries, built once per scan run.

Hashes, normalised text, URLs and domains are dictionary look-ups; terms and
patterns go through ``text_matchers``; PDQ through a :class:`PdqMatcher`, by
default the exact multi-index :class:`~vigil.signals.pdq_index.PdqIndex`.

Two bank settings shape every look-up. ``rollout``: an item outside a bank's
share is not matched against it at all. ``negative``: a bank of known-benign
content; when the same content (the same media file, the item's text, the same
link, the same stretch of text) also matches a positive entry of the same kind,
the positive match becomes a :class:`Suppression` instead of a signal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.banks.models import DEFAULT_PDQ_THRESHOLD, Bank, BankEntry
from vigil.banks.normalize import normalise_text, text_digest
from vigil.signals.drafts import (
    BankSettings,
    EntryRef,
    Gate,
    MediaHashes,
    ScanInput,
    ScanResult,
    SignalDraft,
    Suppression,
)
from vigil.signals.pdq_matching import PdqMatcher, PdqMatcherBuilder, pdq_bytes
from vigil.signals.text_matchers import RegexMatcher, Span, TermMatcher
from vigil.signals.url_matching import match_urls

__all__ = [
    "BankIndex",
    "EntryRef",
    "MediaHashes",
    "ScanInput",
    "ScanResult",
    "SignalDraft",
    "Suppression",
]


@dataclass
class BankIndex:
    banks: dict[int, BankSettings] = field(default_factory=dict)
    by_kind: dict[str, dict[str, list[EntryRef]]] = field(default_factory=lambda: defaultdict(dict))
    terms: TermMatcher | None = None
    patterns: RegexMatcher | None = None
    pdq: PdqMatcher | None = None
    pdq_radius: int = 0
    pdq_values: dict[int, str] = field(default_factory=dict)
    entries: int = 0

    @classmethod
    def load(cls, session: Session, pdq_builder: PdqMatcherBuilder | None = None) -> BankIndex:
        index = cls()
        rows = session.execute(
            select(
                Bank.id,
                Bank.name,
                Bank.kind,
                Bank.category,
                Bank.negative,
                Bank.rollout,
                Bank.threshold,
                Bank.match_transforms,
                BankEntry.id,
                BankEntry.value,
                BankEntry.external_id,
                BankEntry.source,
                BankEntry.tags,
            )
            .join(BankEntry, BankEntry.bank_id == Bank.id)
            .where(Bank.enabled.is_(True), BankEntry.enabled.is_(True))
            .order_by(BankEntry.id)
        )
        for bank_id, name, kind, category, negative, rollout, threshold, turns, *entry in rows:
            entry_id, value, external_id, source, tags = entry
            if bank_id not in index.banks:
                if kind == "pdq" and threshold is None:
                    threshold = DEFAULT_PDQ_THRESHOLD
                index.banks[bank_id] = BankSettings(
                    bank_id, name, kind, bool(negative), float(rollout), threshold, bool(turns)
                )
            ref = EntryRef(
                bank_id, name, category, entry_id, external_id, source, tuple(tags or ())
            )
            index.by_kind[kind].setdefault(value, []).append(ref)
            index.entries += 1
        if index.by_kind.get("term"):
            index.terms = TermMatcher(index.by_kind["term"])
        if index.by_kind.get("regex"):
            index.patterns = RegexMatcher(index.by_kind["regex"])
        if index.by_kind.get("pdq"):
            index._build_pdq(pdq_builder)
        return index

    def _build_pdq(self, builder: PdqMatcherBuilder | None) -> None:
        if builder is None:
            from vigil.signals.pdq_index import PdqIndex

            builder = PdqIndex.build
        values = self.by_kind["pdq"]
        # One row per distinct hash; the matcher answers with the first entry id holding it.
        self.pdq_values = {refs[0].entry_id: value for value, refs in values.items()}
        self.pdq = builder(list(self.pdq_values), [pdq_bytes(v) for v in self.pdq_values.values()])
        self.pdq_radius = max(
            b.threshold or DEFAULT_PDQ_THRESHOLD for b in self.banks.values() if b.kind == "pdq"
        )

    def match(self, item: ScanInput) -> list[SignalDraft]:
        return self.scan(item).signals

    def scan(self, item: ScanInput) -> ScanResult:
        """Signals for one item, and the matches that known-benign entries withheld."""
        result = ScanResult()
        gate = Gate(self.banks, item.item_id)
        for media in item.media:
            where = f"media #{media.position}"
            for kind, value in (("sha256", media.sha256), ("md5", media.md5)):
                refs = self.by_kind.get(kind, {}).get(value or "")
                if refs:
                    self._decide(result, gate, item.item_id, kind, value or "", refs, where)
            if media.pdq and self.pdq is not None:
                self._match_pdq(result, gate, item.item_id, media.pdq, where)
        text_bank = self.by_kind.get("text")
        if text_bank and (
            digest := item.text_sha256 or (text_digest(item.text) if item.text else None)
        ):
            refs = text_bank.get(digest)
            if refs:
                self._decide(result, gate, item.item_id, "text", digest, refs, "text")
        if self.by_kind.get("url") or self.by_kind.get("domain"):
            match_urls(
                self.by_kind.get("url", {}), self.by_kind.get("domain", {}), result, gate, item
            )
        if item.text and (self.terms is not None or self.patterns is not None):
            text = normalise_text(item.text)
            if self.terms is not None:
                self._match_spans(result, gate, item.item_id, "term", self.terms.occurrences(text))
            if self.patterns is not None:
                found = self.patterns.occurrences(text)
                self._match_spans(result, gate, item.item_id, "regex", found)
        return result

    def _decide(
        self,
        result: ScanResult,
        gate: Gate,
        item_id: int,
        kind: str,
        value: str,
        refs: Sequence[EntryRef],
        where: str,
    ) -> None:
        """Exact look-ups: any known-benign entry on this content withholds every positive one."""
        positive, negative = gate.split(refs)
        for ref in positive:
            if negative:
                result.suppressed.append(Suppression(item_id, kind, ref, negative[0], where))
                continue
            label = "normalised text" if kind == "text" else f"{kind.upper()} of {where}"
            result.signals.append(
                SignalDraft(item_id, kind, value, f"{label} equals {ref.label}", ref)
            )

    def _match_pdq(
        self, result: ScanResult, gate: Gate, item_id: int, pdq_hex: str, where: str
    ) -> None:
        assert self.pdq is not None
        try:
            query = pdq_bytes(pdq_hex)
        except ValueError:
            return
        positive: list[tuple[EntryRef, int]] = []
        negative: list[tuple[EntryRef, int]] = []
        for entry_id, distance in self.pdq.match(query, self.pdq_radius):
            refs = self.by_kind["pdq"][self.pdq_values[entry_id]]
            for ref in refs:
                bank = self.banks[ref.bank_id]
                if distance > (bank.threshold or DEFAULT_PDQ_THRESHOLD) or not gate.admits(ref):
                    continue
                (negative if bank.negative else positive).append((ref, distance))
        nearest_benign = min(negative, key=lambda hit: hit[1], default=None)
        for ref, distance in sorted(positive, key=lambda hit: (hit[1], hit[0].entry_id)):
            if nearest_benign is not None:
                result.suppressed.append(
                    Suppression(item_id, "pdq", ref, nearest_benign[0], where, distance)
                )
                continue
            threshold = self.banks[ref.bank_id].threshold
            result.signals.append(
                SignalDraft(
                    item_id,
                    "pdq",
                    pdq_hex,
                    f"PDQ of {where} is {distance} bits from {ref.label} (threshold {threshold})",
                    ref,
                    distance=distance,
                )
            )

    def _match_spans(
        self,
        result: ScanResult,
        gate: Gate,
        item_id: int,
        kind: str,
        found: dict[str, list[Span]],
    ) -> None:
        """Terms and patterns: a known-benign match withholds positive ones it fully covers.

        One signal per distinct term (or pattern) and entry; it is raised when at
        least one occurrence lies outside every known-benign occurrence.
        """
        bank = self.by_kind[kind]
        benign: list[tuple[Span, EntryRef]] = []
        positives: list[tuple[str, list[EntryRef]]] = []
        for value, spans in found.items():
            positive, negative = gate.split(bank[value])
            if negative:
                benign += [(span, negative[0]) for span in spans]
            if positive:
                positives.append((value, positive))
        for value, refs in positives:
            spans = found[value]
            covering = [_covering(span, benign) for span in spans]
            for ref in refs:
                if all(c is not None for c in covering):
                    by = covering[0]
                    assert by is not None
                    result.suppressed.append(Suppression(item_id, kind, ref, by, "text"))
                    continue
                reason = (
                    f"text contains term {value!r} from bank {ref.bank}"
                    if kind == "term"
                    else f"text matches pattern {ref.external_id or ref.entry_id} "
                    f"from bank {ref.bank}"
                )
                result.signals.append(SignalDraft(item_id, kind, value, reason, ref))


def _covering(span: Span, benign: list[tuple[Span, EntryRef]]) -> EntryRef | None:
    for (start, end), ref in benign:
        if start <= span[0] and span[1] <= end:
            return ref
    return None
