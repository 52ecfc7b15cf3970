"""Ingest records as the platform sends them, validated by Pydantic.

JSONL lines and CSV rows both become an :class:`ItemRecord` or a
:class:`NoticeRecord`. Validation errors name the field, so the rejects file
can say exactly what was wrong with which line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from vigil.hashing.pdq import MIN_QUALITY as MIN_PDQ_QUALITY
from vigil.hashing.pdq import ImageError, hash_image_dihedral
from vigil.hashing.pdq import usable as pdq_usable
from vigil.items.models import ItemKind

PlatformId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^\S+$")
]
Md5 = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[0-9a-fA-F]{32}$")]
Sha256 = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]
PdqHex = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]
Country = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Language = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z]{2}$")]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=4096, pattern=r"^https?://\S+$")
]

MAX_TEXT = 100_000
MAX_MEDIA_BYTES = 20 * 1024 * 1024


def _decode_b64(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not valid base64") from exc
    if len(raw) > MAX_MEDIA_BYTES:
        raise ValueError(f"media larger than {MAX_MEDIA_BYTES} bytes")
    return value


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, str_strip_whitespace=True)


class MediaRecord(_Record):
    """Media by URL, by bytes (base64), or only by hashes when the platform keeps the file.

    With the bytes of an image, Vigil computes its PDQ hash and the hashes of its
    seven rotations and mirrors itself. A platform that sends only hashes may
    send ``pdq`` (with ``pdq_quality`` when it has it). Hashes below PDQ quality
    50 are dropped: flat images match too much to be evidence.
    """

    url: Url | None = None
    data_b64: Annotated[str | None, AfterValidator(_decode_b64)] = None
    md5: Md5 | None = None
    sha256: Sha256 | None = None
    pdq: PdqHex | None = None
    pdq_quality: int | None = Field(default=None, ge=0, le=100)
    mime: str | None = Field(default=None, max_length=100)
    # The other seven dihedral hashes, in DIHEDRAL_ORDER[1:], when computed from the image.
    _pdq_variants: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _something_to_match(self) -> MediaRecord:
        if not (self.url or self.data_b64 or self.md5 or self.sha256 or self.pdq):
            raise ValueError("media needs at least one of url, data_b64, md5, sha256, pdq")
        if self.pdq_quality is not None and self.pdq is None:
            raise ValueError("pdq_quality given without pdq")
        if self.data_b64 is not None:
            raw = base64.b64decode(self.data_b64)
            md5, sha = hashlib.md5(raw).hexdigest(), hashlib.sha256(raw).hexdigest()  # noqa: S324
            if self.md5 and self.md5 != md5:
                raise ValueError("md5 does not match the media bytes")
            if self.sha256 and self.sha256 != sha:
                raise ValueError("sha256 does not match the media bytes")
            self.md5, self.sha256 = md5, sha
            self._hash_image(raw)
        if self.pdq_quality is not None and self.pdq_quality < MIN_PDQ_QUALITY:
            self.pdq, self.pdq_quality = None, None
        return self

    def _hash_image(self, raw: bytes) -> None:
        """PDQ from the bytes themselves; a hash the platform sent is replaced by it.

        Bytes that do not decode as an image (whatever their mime type says) get
        no PDQ hash but are still ingested: their MD5 and SHA-256 can match.
        """
        try:
            hashes = hash_image_dihedral(raw)
        except ImageError:
            return
        original = hashes[0]
        if pdq_usable(original):
            self.pdq, self.pdq_quality = original.hex, original.quality
            self._pdq_variants = tuple(h.hex for h in hashes[1:])
        else:
            self.pdq, self.pdq_quality = None, None

    @property
    def pdq_variants(self) -> tuple[str, ...]:
        return self._pdq_variants

    @property
    def data(self) -> bytes | None:
        return base64.b64decode(self.data_b64) if self.data_b64 is not None else None


class ItemRecord(_Record):
    """One piece of content the platform holds: a post, comment, profile, media or public message."""

    record: Literal["item"] = "item"
    id: PlatformId
    kind: ItemKind
    author_id: PlatformId
    author_handle: str | None = Field(default=None, max_length=200)
    author_country: Country | None = None
    author_type: Literal["private", "business"] = "private"
    author_registered_at: AwareDatetime | None = None
    created_at: AwareDatetime
    audience: Literal["public"] = "public"
    space: str | None = Field(default=None, max_length=200)
    parent_id: PlatformId | None = None
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    language: Language | None = None
    country: Country | None = None
    urls: list[Url] = Field(default_factory=list, max_length=100)
    media: list[MediaRecord] = Field(default_factory=list, max_length=20)

    @field_validator("audience", mode="before")
    @classmethod
    def _public_only(cls, value: Any) -> Any:
        if value != "public":
            raise ValueError(
                "only content in public spaces is ingested; Vigil has no path for "
                "monitoring private messages"
            )
        return value

    @model_validator(mode="after")
    def _has_content(self) -> ItemRecord:
        if self.kind is ItemKind.PUBLIC_MESSAGE and not self.space:
            raise ValueError("a public_message needs the id of its public space in 'space'")
        if self.kind is ItemKind.COMMENT and not self.parent_id:
            raise ValueError("a comment needs 'parent_id'")
        if self.text is None and not self.media and not self.urls and self.kind != ItemKind.PROFILE:
            raise ValueError("an item needs text, urls or media")
        return self


class NoticeRecord(_Record):
    """A user or trusted-flagger report about an item already ingested (DSA Art. 16)."""

    record: Literal["notice"]
    id: PlatformId
    item_id: PlatformId
    reporter: str | None = Field(default=None, max_length=200)
    reporter_type: Literal["user", "trusted_flagger"] = "user"
    category: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=5000)
    received_at: AwareDatetime
