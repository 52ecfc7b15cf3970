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
from typing import cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from vigil.banks.models import DEFAULT_PDQ_THRESHOLD, Bank, BankEntry
from vigil.banks.normalize import normalise_text, text_digest
from vigil.hashing.pdq import DIHEDRAL_ORDER, dihedral_from_hash
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
from vigil.signals.pdq_matching import (
    PdqMatcher,
    PdqMatcherBuilder,
    UpdatablePdqMatcher,
    pdq_bytes,
)
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
    pdq_transforms: bool = False  # some PDQ bank also matches rotations and mirrors
    # Matcher id -> hash, and hash -> matcher id: one matcher row per distinct hash.
    pdq_values: dict[int, str] = field(default_factory=dict)
    pdq_rows: dict[str, int] = field(default_factory=dict)
    pdq_builder: PdqMatcherBuilder | None = None
    entries: int = 0

    @classmethod
    def load(
        cls,
        session: Session,
        pdq_builder: PdqMatcherBuilder | None = None,
        *,
        only: ColumnElement[bool] | None = None,
    ) -> BankIndex:
        """Every enabled entry of every enabled bank; ``only`` narrows that (a rescan's entries)."""
        index = cls(pdq_builder=pdq_builder)
        query = (
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
                BankEntry.quarantined_at,
            )
            .join(BankEntry, BankEntry.bank_id == Bank.id)
            .where(Bank.enabled.is_(True), BankEntry.enabled.is_(True))
            .order_by(BankEntry.id)
        )
        if only is not None:
            query = query.where(only)
        rows = session.execute(query)
        for bank_id, name, kind, category, negative, rollout, threshold, turns, *entry in rows:
            entry_id, value, external_id, source, tags, held_at = entry
            held = held_at is not None  # quarantined: its signals may not act alone
            if bank_id not in index.banks:
                if kind == "pdq" and threshold is None:
                    threshold = DEFAULT_PDQ_THRESHOLD
                index.banks[bank_id] = BankSettings(
                    bank_id,
                    name,
                    kind,
                    bool(negative),
                    float(rollout),
                    threshold,
                    bool(turns),
                    category=category,
                )
            ref = EntryRef(
                bank_id, name, category, entry_id, external_id, source, tuple(tags or ()), held
            )
            index.by_kind[kind].setdefault(value, []).append(ref)
            index.entries += 1
        if index.by_kind.get("term"):
            index.terms = TermMatcher(index.by_kind["term"])
        if index.by_kind.get("regex"):
            index.patterns = RegexMatcher(index.by_kind["regex"])
        if index.by_kind.get("pdq"):
            index._build_pdq()
        return index

    def _builder(self) -> PdqMatcherBuilder:
        if self.pdq_builder is not None:
            return self.pdq_builder
        from vigil.signals.pdq_index import PdqIndex

        return PdqIndex.build

    def _build_pdq(self) -> None:
        values = self.by_kind["pdq"]
        # One row per distinct hash; the matcher answers with the first entry id holding it.
        self.pdq_values = {refs[0].entry_id: value for value, refs in values.items()}
        self.pdq_rows = {value: row for row, value in self.pdq_values.items()}
        hashes = [pdq_bytes(v) for v in self.pdq_values.values()]
        self.pdq = self._builder()(list(self.pdq_values), hashes)
        self.update_pdq_settings()

    def update_pdq_settings(self) -> None:
        """The look-up radius is the widest PDQ bank threshold; each bank's own applies after."""
        pdq_banks = [b for b in self.banks.values() if b.kind == "pdq" and b.enabled]
        self.pdq_radius = max((b.threshold or DEFAULT_PDQ_THRESHOLD for b in pdq_banks), default=0)
        self.pdq_transforms = any(b.match_transforms for b in pdq_banks)

    def add_pdq(self, rows: Sequence[tuple[int, str]]) -> None:
        """New distinct hashes, each under the id of the first entry that holds it."""
        fresh = [(row, value) for row, value in rows if value not in self.pdq_rows]
        if not fresh:
            return
        for row, value in fresh:
            self.pdq_values[row] = value
            self.pdq_rows[value] = row
        ids, hashes = [r for r, _ in fresh], [pdq_bytes(v) for _, v in fresh]
        if self.pdq is None:
            self.pdq = self._builder()(ids, hashes)
        else:
            updatable = cast(UpdatablePdqMatcher, self.pdq)
            updatable.add(ids, hashes)
        self.update_pdq_settings()

    def remove_pdq(self, values: Sequence[str]) -> None:
        """Hashes no enabled entry holds any more: withdrawn from the matcher, not rebuilt."""
        rows = [self.pdq_rows.pop(v) for v in values if v in self.pdq_rows]
        if rows and self.pdq is not None:
            cast(UpdatablePdqMatcher, self.pdq).disable(rows)
        for row in rows:
            self.pdq_values.pop(row, None)

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
                self._match_pdq(result, gate, item.item_id, media, where)
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

    def _pdq_queries(self, media: MediaHashes) -> list[tuple[str, bytes]]:
        """The hashes to look up for one media file, each named by its orientation.

        Always the hash itself; with any bank matching rotations and mirrors, also
        the seven other orientations: computed from the image when Vigil had it,
        estimated from the hash when the platform sent only the hash.
        """
        assert media.pdq is not None
        try:
            original = pdq_bytes(media.pdq)
        except ValueError:
            return []
        queries = [("original", original)]
        if self.pdq_transforms:
            if len(media.pdq_variants) == len(DIHEDRAL_ORDER) - 1:
                variants = [pdq_bytes(v) for v in media.pdq_variants]
            else:
                variants = dihedral_from_hash(original)[1:]
            queries += list(zip(DIHEDRAL_ORDER[1:], variants, strict=True))
        return queries

    def _match_pdq(
        self, result: ScanResult, gate: Gate, item_id: int, media: MediaHashes, where: str
    ) -> None:
        assert self.pdq is not None
        assert media.pdq is not None
        # Nearest orientation per entry; only banks that match transforms see the others.
        best: dict[int, tuple[int, str, EntryRef]] = {}
        for orientation, query in self._pdq_queries(media):
            for entry_id, distance in self.pdq.match(query, self.pdq_radius):
                # ``get``: an entry withdrawn by a refresh in another thread simply drops out.
                value = self.pdq_values.get(entry_id)
                for ref in self.by_kind["pdq"].get(value or "", ()):
                    bank = self.banks[ref.bank_id]
                    if orientation != "original" and not bank.match_transforms:
                        continue
                    if distance > (bank.threshold or DEFAULT_PDQ_THRESHOLD):
                        continue
                    seen = best.get(ref.entry_id)
                    if seen is None or distance < seen[0]:
                        best[ref.entry_id] = (distance, orientation, ref)
        positive: list[tuple[int, str, EntryRef]] = []
        negative: list[tuple[int, str, EntryRef]] = []
        for hit in best.values():
            if gate.admits(hit[2]):
                (negative if self.banks[hit[2].bank_id].negative else positive).append(hit)
        nearest_benign = min(negative, key=lambda hit: hit[0], default=None)
        for distance, orientation, ref in sorted(positive, key=lambda h: (h[0], h[2].entry_id)):
            if nearest_benign is not None:
                result.suppressed.append(
                    Suppression(item_id, "pdq", ref, nearest_benign[2], where, distance)
                )
                continue
            threshold = self.banks[ref.bank_id].threshold
            seen_as = "" if orientation == "original" else f" ({orientation})"
            result.signals.append(
                SignalDraft(
                    item_id,
                    "pdq",
                    media.pdq,
                    f"PDQ of {where}{seen_as} is {distance} bits from {ref.label} "
                    f"(threshold {threshold})",
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
            positive, negative = gate.split(bank.get(value, []))
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
