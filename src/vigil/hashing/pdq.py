"""PDQ perceptual hashes of images, via Meta's C++ reference (the ``pdqhash`` wheel).

Hashes agree bit for bit with threatexchange's ``PdqSignal`` (and so with
hasher-matcher-actioner) wherever that hasher reads colours correctly: RGB, RGBA
(alpha ignored, not composited), L, LA and I;16 (clipped to 8 bits by Pillow).
Like threatexchange, the EXIF orientation tag is ignored: the stored pixels are
hashed, and ``hash_image_dihedral`` covers the other seven orientations.
Two deliberate departures, where threatexchange hashes something other than
the picture: palette images (it hashes the palette *indices*) and CMYK (it reads
C, M, Y as R, G, B, which inverts the hash). Both are hashed here from the RGB
colours they display as.

Large JPEGs are decoded by libjpeg at 1/2, 1/4 or 1/8 scale (Pillow's draft mode):
PDQ only needs a 64x64 luminance image, so a decode whose sides stay >= 512
pixels moves the hash by a few bits at most, and a 12 MP photo hashes 9-25x faster.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image, UnidentifiedImageError

HASH_BYTES: Final = 32
MIN_QUALITY: Final = 50
"""Below this quality (flat or nearly flat images) hashes match too much to be trusted."""

DEFAULT_MAX_SIDE: Final = 512
"""Draft box for JPEG decoding: both decoded sides stay >= this many pixels.

Measured on the ThreatExchange bridge images: a decode whose shorter side is
about 500 px is 0-4 bits from the full decode, about 250 px up to 14 bits. With
512, images up to 1023 px on the shorter side (all reference images) decode at
full size, and a 4000x3000 photo decodes at 1/4 scale (1000x750).
"""

DIHEDRAL_ORDER: Final = (
    "original",
    "rotate90",  # counter-clockwise: Pillow Transpose.ROTATE_90
    "rotate180",  # Transpose.ROTATE_180
    "rotate270",  # counter-clockwise (90 clockwise): Transpose.ROTATE_270
    "flipx",  # about the horizontal axis (upside down): Transpose.FLIP_TOP_BOTTOM
    "flipy",  # about the vertical axis (mirror): Transpose.FLIP_LEFT_RIGHT
    "flip_plus1",  # about the main diagonal: Transpose.TRANSPOSE
    "flip_minus1",  # about the anti-diagonal: Transpose.TRANSVERSE
)
"""Order of ``hash_image_dihedral``'s result (the C++ reference's order and names)."""

_HEX = re.compile(r"[0-9a-f]{64}")
_DRAFTABLE = frozenset({"JPEG", "MPO"})  # MPO: camera JPEGs with extra frames (gain maps)
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)

HashArray = npt.NDArray[np.uint8]


class ImageError(ValueError):
    """The bytes are not an image that can be decoded and hashed."""


@dataclass(frozen=True)
class PdqHash:
    """A 256-bit PDQ hash (64 lowercase hex digits) and its quality, 0-100."""

    hex: str
    quality: int

    def __post_init__(self) -> None:
        if not _HEX.fullmatch(self.hex):
            raise ValueError(f"a PDQ hash is 64 lowercase hex digits, got {self.hex!r}")
        if not 0 <= self.quality <= 100:
            raise ValueError(f"PDQ quality is 0-100, got {self.quality}")

    @classmethod
    def from_bits(cls, bits: bytes, quality: int) -> PdqHash:
        return cls(to_hex(bits), quality)

    def bits(self) -> bytes:
        """The 32 bytes, first hex digit in the high nibble of the first byte."""
        return bytes.fromhex(self.hex)

    def distance(self, other: PdqHash) -> int:
        """Hamming distance: how many of the 256 bits differ."""
        return (int(self.hex, 16) ^ int(other.hex, 16)).bit_count()


def usable(h: PdqHash) -> bool:
    """Whether the hash carries enough image detail to match on (quality >= 50)."""
    return h.quality >= MIN_QUALITY


def parse_pdq_hex(text: str) -> bytes:
    """32 bytes from 64 hex digits; surrounding whitespace and upper case are accepted."""
    cleaned = text.strip().lower()
    if not _HEX.fullmatch(cleaned):
        raise ValueError(f"a PDQ hash is 64 hex digits, got {text!r}")
    return bytes.fromhex(cleaned)


def to_hex(bits: bytes) -> str:
    """The canonical 64-digit lowercase form of a 32-byte hash."""
    if len(bits) != HASH_BYTES:
        raise ValueError(f"a PDQ hash is {HASH_BYTES} bytes, got {len(bits)}")
    return bytes(bits).hex()


def hashes_to_array(hashes: Iterable[PdqHash | bytes | str]) -> HashArray:
    """Stack hashes (objects, 32-byte strings or hex) into an (n, 32) uint8 array."""
    rows: list[bytes] = []
    for h in hashes:
        if isinstance(h, PdqHash):
            rows.append(h.bits())
        elif isinstance(h, str):
            rows.append(parse_pdq_hex(h))
        else:
            to_hex(h)  # validates the length
            rows.append(bytes(h))
    if not rows:
        return np.zeros((0, HASH_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def distances(query: PdqHash | bytes, hashes: HashArray) -> npt.NDArray[np.int64]:
    """Hamming distance from one hash to each row of an (n, 32) uint8 array, vectorised."""
    q = np.frombuffer(query.bits() if isinstance(query, PdqHash) else query, dtype=np.uint8)
    if q.shape != (HASH_BYTES,):
        raise ValueError(f"a PDQ hash is {HASH_BYTES} bytes, got {q.size}")
    arr = np.asarray(hashes)
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != HASH_BYTES:
        raise ValueError(f"expected an (n, 32) uint8 array, got {arr.dtype} {arr.shape}")
    # XOR gives a fresh C-contiguous array, so each row can be read as four 64-bit words.
    xor = np.bitwise_xor(arr, q)
    counts: npt.NDArray[np.int64] = np.bitwise_count(xor.view(np.uint64)).sum(
        axis=1, dtype=np.int64
    )
    return counts


def within(query: PdqHash | bytes, hashes: HashArray, max_distance: int) -> npt.NDArray[np.intp]:
    """Row indices of the hashes at Hamming distance <= max_distance from query."""
    return np.flatnonzero(distances(query, hashes) <= max_distance)


def decode(data: bytes, *, max_side: int | None = DEFAULT_MAX_SIDE) -> Image.Image:
    """Decode image bytes, letting libjpeg downscale a large JPEG while it stays >= max_side.

    ``max_side`` is the draft box (Pillow's ``draft(mode, (max_side, max_side))``):
    the coarsest scale of 1/2, 1/4 and 1/8 that keeps both sides >= max_side is
    used. Other formats, and JPEGs under twice the box, decode at full size;
    ``None`` always decodes at full size. Only the first frame is read.
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be positive or None, got {max_side}")
    try:
        img = Image.open(io.BytesIO(data))
        if max_side is not None and img.format in _DRAFTABLE:
            img.draft("RGB", (max_side, max_side))
        img.load()
    except UnidentifiedImageError as exc:
        raise ImageError("not an image in any format Pillow can read") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large to hash: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise ImageError(f"cannot decode image: {exc}") from exc
    return img


def _rgb_array(img: Image.Image) -> npt.NDArray[np.uint8]:
    """The (h, w, 3) uint8 RGB pixels that pdqhash turns into luminance.

    Pillow's conversions reproduce threatexchange for its modes: L and LA are
    replicated grey, RGBA drops alpha, I;16 (and other 16/32-bit greys) clip
    at 255. P, PA, CMYK and the rest go through their real colours.
    """
    if img.mode != "RGB":
        try:
            if img.mode in ("P", "PA"):
                # Via RGBA: the same colours, without Pillow's palette-transparency warning.
                img = img.convert("RGBA")
            img = img.convert("RGB")
        except ValueError as exc:
            raise ImageError(f"cannot hash image mode {img.mode}: {exc}") from exc
    return np.asarray(img, dtype=np.uint8)


def _from_vector(vector: npt.NDArray[np.integer], quality: int) -> PdqHash:
    # pdqhash returns 256 ints (0/1), most significant bit first, as threatexchange reads them.
    bits = np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes()
    return PdqHash(bits.hex(), int(quality))


def hash_image(data: bytes, *, max_side: int | None = DEFAULT_MAX_SIDE) -> PdqHash:
    """PDQ hash of an image file's bytes; ``max_side=None`` disables draft decoding.

    Raises ImageError for bytes Pillow cannot decode. Check ``usable`` before
    matching: flat images get a low quality and near-arbitrary bits.
    """
    vector, quality = pdqhash.compute(_rgb_array(decode(data, max_side=max_side)))
    return _from_vector(vector, quality)


def hash_image_dihedral(data: bytes, *, max_side: int | None = DEFAULT_MAX_SIDE) -> list[PdqHash]:
    """The 8 hashes of the image's rotations and mirrors, in ``DIHEDRAL_ORDER``.

    Computed in one pass from the same DCT, so it costs about one ``hash_image``.
    Matching a query's 8 hashes against a bank finds rotated or mirrored copies,
    including photos whose EXIF orientation was applied by one side only.
    """
    vectors, quality = pdqhash.compute_dihedral(_rgb_array(decode(data, max_side=max_side)))
    return [_from_vector(v, quality) for v in vectors]


def _frequency_is_odd(index: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
    # Row and column i of PDQ's 16x16 DCT block hold frequency i + 1 (the DC term is skipped).
    odd: npt.NDArray[np.bool_] = (index + 1) % 2 == 1
    return odd


_ROW, _COL = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
_ODD_ROW, _ODD_COL = _frequency_is_odd(_ROW), _frequency_is_odd(_COL)
# Per transform: transpose the block first?, then which coefficients change sign.
_HASH_DOMAIN: Final[dict[str, tuple[bool, npt.NDArray[np.bool_]]]] = {
    "original": (False, np.zeros((16, 16), dtype=bool)),
    "rotate90": (True, _ODD_ROW),
    "rotate180": (False, _ODD_ROW ^ _ODD_COL),
    "rotate270": (True, _ODD_COL),
    "flipx": (False, _ODD_ROW),
    "flipy": (False, _ODD_COL),
    "flip_plus1": (True, np.zeros((16, 16), dtype=bool)),
    "flip_minus1": (True, _ODD_ROW ^ _ODD_COL),
}


def dihedral_from_hash(bits: bytes) -> list[bytes]:
    """Estimate the 8 dihedral hashes (``DIHEDRAL_ORDER``) from a hash alone, without the image.

    For platforms that send only hashes. Mirroring an image negates the DCT
    coefficients of odd frequency along that axis and a transpose transposes
    the block, so each hash bit either moves, flips, or both. The estimate is
    not exact because the median threshold moves when coefficients change sign:
    on the reference images it is 0 bits off for the transposes and about 7-11
    bits (at most 28) for the others, so rotated copies still match within
    PDQ's threshold of 31 in most cases. With the image, use ``hash_image_dihedral``.
    """
    to_hex(bits)  # validates the length
    batch = dihedral_from_hashes(np.frombuffer(bits, dtype=np.uint8).reshape(1, HASH_BYTES))
    return [row.tobytes() for row in batch[0]]


def dihedral_from_hashes(hashes: HashArray) -> HashArray:
    """:func:`dihedral_from_hash` for many hashes at once: ``(n, 32)`` bytes in, ``(n, 8, 32)`` out.

    Rescans estimate the orientations of every stored hash-only image, so one
    numpy pass per chunk instead of one per image.
    """
    if hashes.ndim != 2 or hashes.shape[1] != HASH_BYTES:
        raise ValueError(f"expected an (n, {HASH_BYTES}) array of hash bytes, got {hashes.shape}")
    n = hashes.shape[0]
    vectors = np.unpackbits(hashes, axis=1)
    # The hash's first bit is the block's last coefficient (C++ word order, printed high first).
    blocks = vectors[:, ::-1].reshape(n, 16, 16)
    out = np.empty((n, len(DIHEDRAL_ORDER), HASH_BYTES), dtype=np.uint8)
    for k, name in enumerate(DIHEDRAL_ORDER):
        transpose, negate = _HASH_DOMAIN[name]
        moved = blocks.transpose(0, 2, 1) if transpose else blocks
        flipped = np.where(negate, 1 - moved, moved).astype(np.uint8)
        out[:, k] = np.packbits(flipped.reshape(n, 256)[:, ::-1], axis=1)
    return out
