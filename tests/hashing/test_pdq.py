"""PDQ hashing: reference vectors, quality gate, dihedral set, image modes, draft decoding."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from vigil.hashing.pdq import (
    DIHEDRAL_ORDER,
    MIN_QUALITY,
    ImageError,
    PdqHash,
    decode,
    distances,
    hash_image,
    hash_image_dihedral,
    hashes_to_array,
    parse_pdq_hex,
    to_hex,
    usable,
    within,
)

T = Image.Transpose
# Expected hashes from these sources were made with pdqhash + Pillow (threatexchange) or
# with Java ImageIO, whose JPEG decode matches Pillow's: they must be reproduced bit for bit.
EXACT_SOURCES = ("java_test", "pytx_pdqhash", "pytx_signal_examples")
TOLERANCE = 10  # README: the same image through another decoder, quality >= 80
# Rotating pixels is exact, but PDQ's box filter and 64-point decimation are not symmetric
# under flips, so a transposed image lands 0-12 bits (measured) from its dihedral member;
# the other seven members are over 100 bits away.
DIHEDRAL_TOLERANCE = 16
# README: misc-images/b.jpg was deleted upstream; it is the same blob as bridge-mods/aaa-orig.jpg.
ALIASES = {"misc-images/b.jpg": "bridge-mods/aaa-orig.jpg"}
# Also in threatexchange's PdqSignal.get_examples() but not in the CSV; c.png is RGBA.
PYTX_MISC_EXAMPLES = {
    "misc-images/c.png": "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064",
    "misc-images/wee.jpg": "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d",
}
# Java PDQHasherTest: bridge-1-original and bridge-2-rotate-90, 120 bits apart.
JAVA_ORIG = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
JAVA_ROT90 = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
TRANSPOSE_OF = {
    "rotate90": T.ROTATE_90,
    "rotate180": T.ROTATE_180,
    "rotate270": T.ROTATE_270,
    "flipx": T.FLIP_TOP_BOTTOM,
    "flipy": T.FLIP_LEFT_RIGHT,
    "flip_plus1": T.TRANSPOSE,
    "flip_minus1": T.TRANSVERSE,
}


@dataclass(frozen=True)
class Row:
    source: str
    image: str
    path: Path
    expected: str
    expected_quality: int | None
    tolerance: int = TOLERANCE


@pytest.fixture(scope="module")
def pdq_dir(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "pdq"
    if not (path / "expected_hashes.csv").is_file():
        pytest.fail(f"PDQ reference data missing at {path}")
    return path


@pytest.fixture(scope="module")
def rows(pdq_dir: Path) -> list[Row]:
    """CSV rows (plus the two extra threatexchange examples) whose image file exists."""
    found: list[Row] = []
    with (pdq_dir / "expected_hashes.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            name = r["image"].split("(", 1)[0]
            name = ALIASES.get(name, name)
            path = pdq_dir / name if name.startswith("extra/") else pdq_dir / "data" / name
            quality = int(r["expected_quality"]) if r["expected_quality"] else None
            # The pure-Python port's own vectors carry its test's looser bound (hamming<=16).
            own = re.search(r"hamming<=(\d+)", r["tolerance_note"])
            tolerance = max(TOLERANCE, int(own.group(1))) if own else TOLERANCE
            if path.is_file():
                found.append(
                    Row(r["source"], name, path, r["expected_pdq_hex"], quality, tolerance)
                )
    for name, expected in PYTX_MISC_EXAMPLES.items():
        path = pdq_dir / "data" / name
        if path.is_file():
            found.append(Row("pytx_signal_examples(misc)", name, path, expected, None))
    return found


_cache: dict[Path, PdqHash] = {}


def _hash_file(path: Path) -> PdqHash:
    if path not in _cache:
        _cache[path] = hash_image(path.read_bytes())
    return _cache[path]


def _report(results: list[tuple[Row, PdqHash, str]]) -> str:
    lines = [f"{'source':30} {'image':40} dist max   q verdict  expected / got"]
    for row, got, verdict in results:
        dist = got.distance(PdqHash(row.expected, 0))
        lines.append(
            f"{row.source[:30]:30} {row.image[-40:]:40} {dist:4} {row.tolerance:3} "
            f"{got.quality:3} {verdict:8} {row.expected} / {got.hex}"
        )
    return "\n".join(lines)


def test_exact_rows_reproduce_bit_for_bit(rows: list[Row]) -> None:
    results = []
    for row in (r for r in rows if r.source.startswith(EXACT_SOURCES)):
        got = _hash_file(row.path)
        same_quality = row.expected_quality in (None, got.quality)
        results.append((row, got, "ok" if got.hex == row.expected and same_quality else "FAIL"))
    assert results, "no exact reference row has its image in the shared folder"
    assert all(v == "ok" for *_, v in results), "\n" + _report(results)


def test_other_rows_within_10_bits(rows: list[Row]) -> None:
    results = []
    for row in (r for r in rows if not r.source.startswith(EXACT_SOURCES)):
        got = _hash_file(row.path)
        if got.quality < 80:
            verdict = "skip-q"  # the README's 10-bit rule is for quality >= 80 only
        else:
            verdict = "ok" if got.distance(PdqHash(row.expected, 0)) <= row.tolerance else "FAIL"
        results.append((row, got, verdict))
    assert any(v == "ok" for *_, v in results), "no tolerance row was checked"
    assert all(v != "FAIL" for *_, v in results), "\n" + _report(results)


def _png(img: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def test_flat_image_is_below_quality_gate(pdq_dir: Path) -> None:
    flat = hash_image(_png(Image.new("RGB", (300, 200), (90, 140, 200))))
    assert MIN_QUALITY == 50
    assert flat.quality < MIN_QUALITY
    assert not usable(flat)
    assert usable(_hash_file(pdq_dir / "data/bridge-mods/aaa-orig.jpg"))
    assert usable(PdqHash(JAVA_ORIG, 50))
    assert not usable(PdqHash(JAVA_ORIG, 49))


@pytest.fixture(scope="module")
def bridge(pdq_dir: Path) -> bytes:
    return (pdq_dir / "data/reg-test-input/dih/bridge-1-original.jpg").read_bytes()


def test_dihedral_members_match_pillow_transposes(bridge: bytes) -> None:
    dihedral = hash_image_dihedral(bridge)
    assert len(dihedral) == len(DIHEDRAL_ORDER) == 8
    assert dihedral[0] == hash_image(bridge)
    original = Image.open(io.BytesIO(bridge))
    bad = []
    for name, op in TRANSPOSE_OF.items():
        got = hash_image(_png(original.transpose(op)))
        dists = [got.distance(h) for h in dihedral]
        index = DIHEDRAL_ORDER.index(name)
        others = [d for i, d in enumerate(dists) if i != index]
        if dists[index] > DIHEDRAL_TOLERANCE or min(others) <= 64:
            bad.append(f"{name}: distances to the 8 members {dists}")
    assert not bad, "\n".join(bad)


def test_dihedral_members_match_reference_rotated_files(pdq_dir: Path, bridge: bytes) -> None:
    dihedral = hash_image_dihedral(bridge)
    files = sorted((pdq_dir / "data/reg-test-input/dih").glob("bridge-*.jpg"))
    assert len(files) == 8
    dists = {f.name: dihedral[i].distance(_hash_file(f)) for i, f in enumerate(files)}
    assert all(d <= DIHEDRAL_TOLERANCE for d in dists.values()), dists


def test_exif_orientation_is_ignored_like_threatexchange(bridge: bytes) -> None:
    img = Image.open(io.BytesIO(bridge)).resize((800, 502))
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    tagged = _png(img, "JPEG", quality=95, exif=exif.tobytes())
    assert Image.open(io.BytesIO(tagged)).getexif()[0x0112] == 6
    assert hash_image(tagged) == hash_image(_png(img, "JPEG", quality=95))
    # The displayed orientation is still found through the dihedral set.
    shown = hash_image(_png(ImageOps.exif_transpose(Image.open(io.BytesIO(tagged)))))
    rotate270 = hash_image_dihedral(tagged)[DIHEDRAL_ORDER.index("rotate270")]
    assert shown.distance(rotate270) <= DIHEDRAL_TOLERANCE


@pytest.fixture(scope="module")
def scene(bridge: bytes) -> Image.Image:
    return Image.open(io.BytesIO(bridge)).convert("RGB").resize((480, 300))


def _grey_as_rgb(grey: Image.Image) -> bytes:
    return _png(Image.merge("RGB", (grey, grey, grey)))


def _alpha(size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").resize(size)


def _i16(im: Image.Image) -> bytes:
    """A 16-bit grey PNG spanning the full 0-65535 range."""
    return _png(Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257))


MODE_CASES: dict[str, Callable[[Image.Image], tuple[bytes, bytes]]] = {
    # (the image in that mode, the RGB image it must hash as): what threatexchange reads
    # for L, LA, RGBA and I;16 (Pillow clips 16-bit grey at 255); the shown colours for P, CMYK.
    "L": lambda im: (_png(im.convert("L")), _grey_as_rgb(im.convert("L"))),
    "LA": lambda im: (
        _png(Image.merge("LA", (im.convert("L"), _alpha(im.size)))),
        _grey_as_rgb(im.convert("L")),
    ),
    "RGBA": lambda im: (_png(Image.merge("RGBA", (*im.split(), _alpha(im.size)))), _png(im)),
    "I;16": lambda im: (
        _i16(im),
        _grey_as_rgb(im.convert("L").point(lambda v: min(v * 257, 255))),
    ),
    "P": lambda im: (_png(im.quantize(64)), _png(im.quantize(64).convert("RGB"))),
    "CMYK": lambda im: (_png(im.convert("CMYK"), "TIFF"), _png(im)),
}


@pytest.mark.parametrize("mode", list(MODE_CASES))
def test_modes_hash_as_their_rgb_pixels(scene: Image.Image, mode: str) -> None:
    in_mode, as_rgb = MODE_CASES[mode](scene)
    assert Image.open(io.BytesIO(in_mode)).mode == mode
    assert hash_image(in_mode) == hash_image(as_rgb)


@pytest.mark.parametrize("mode", ["P", "CMYK"])
def test_modes_where_threatexchange_misreads_colours_differ_from_it(
    scene: Image.Image, mode: str
) -> None:
    """Palette indices or C, M, Y read as grey / RGB give a different picture's hash."""
    img = scene.quantize(64) if mode == "P" else scene.convert("CMYK")
    raw = np.asarray(img)
    misread = np.repeat(raw[..., None], 3, axis=2) if raw.ndim == 2 else raw[..., :3]
    ours = hash_image(_png(img, "TIFF"))
    assert ours.distance(hash_image(_png(Image.fromarray(misread)))) > 3 * TOLERANCE


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\xff\xd8\xff\xe0" + b"\x00" * 64, b"\x89PNG\r\n\x1a\n"],
    ids=["empty", "text", "jpeg-header-only", "png-signature-only"],
)
def test_undecodable_bytes_raise_image_error(data: bytes) -> None:
    with pytest.raises(ImageError):
        hash_image(data)
    with pytest.raises(ImageError):
        hash_image_dihedral(data)


def test_truncated_jpeg_raises_image_error(bridge: bytes) -> None:
    assert issubclass(ImageError, ValueError)
    with pytest.raises(ImageError, match="truncated"):
        hash_image(bridge[: len(bridge) // 2])


@pytest.fixture(scope="module")
def large_jpeg() -> bytes:
    """A smooth 4000x3000 synthetic photo (gradients and shapes), JPEG quality 90."""
    w, h = 4000, 3000
    vertical = Image.linear_gradient("L").resize((w, h))
    horizontal = vertical.transpose(T.ROTATE_90).resize((w, h))
    img = Image.merge("RGB", (vertical, horizontal, Image.radial_gradient("L").resize((w, h))))
    draw = ImageDraw.Draw(img)
    draw.ellipse((400, 300, 1700, 1500), fill=(230, 40, 50))
    draw.rectangle((2300, 1600, 3700, 2700), fill=(20, 60, 190))
    draw.polygon([(300, 2800), (1400, 1800), (2000, 2900)], fill=(250, 240, 70))
    draw.line((0, 0, w, h), fill=(255, 255, 255), width=60)
    return _png(img, "JPEG", quality=90)


def test_large_jpeg_decodes_at_reduced_scale(large_jpeg: bytes, bridge: bytes) -> None:
    assert decode(large_jpeg).size == (1000, 750)
    assert decode(large_jpeg, max_side=None).size == (4000, 3000)
    assert decode(large_jpeg, max_side=300).size == (500, 375)
    assert decode(bridge).size == (1600, 1004)  # reference images keep their full size
    with pytest.raises(ValueError, match="max_side"):
        decode(large_jpeg, max_side=0)


def test_mpo_camera_jpeg_is_drafted() -> None:
    """Phones write JPEGs with extra frames (MPO); Pillow reports them as MPO, not JPEG."""
    photo = Image.linear_gradient("L").resize((2400, 2200)).convert("RGB")
    mpo = _png(photo, "MPO", save_all=True, append_images=[photo.resize((300, 300))])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    assert decode(mpo).size == (600, 550)


def test_non_jpeg_is_not_drafted() -> None:
    big_png = _png(Image.linear_gradient("L").resize((2100, 1100)))
    assert decode(big_png).size == (2100, 1100)


def test_draft_hash_within_10_bits_of_full_decode(large_jpeg: bytes) -> None:
    drafted = hash_image(large_jpeg)
    full = hash_image(large_jpeg, max_side=None)
    assert min(drafted.quality, full.quality) >= 80
    assert drafted.distance(full) <= TOLERANCE, (drafted, full)


def test_hex_helpers_round_trip_and_validate() -> None:
    bits = parse_pdq_hex(f"  {JAVA_ORIG.upper()}\n")
    assert len(bits) == 32
    assert to_hex(bits) == JAVA_ORIG
    assert PdqHash(JAVA_ORIG, 100).bits() == bits
    assert PdqHash.from_bits(bits, 100) == PdqHash(JAVA_ORIG, 100)
    for bad in (JAVA_ORIG[:-1], JAVA_ORIG[:-1] + "g", JAVA_ORIG + "0"):
        with pytest.raises(ValueError, match="64 hex digits"):
            parse_pdq_hex(bad)
    with pytest.raises(ValueError, match="32 bytes"):
        to_hex(bits[:31])
    with pytest.raises(ValueError, match="lowercase"):
        PdqHash(JAVA_ORIG.upper(), 100)
    with pytest.raises(ValueError, match="0-100"):
        PdqHash(JAVA_ORIG, 101)


def test_distance_scalar_and_vectorised_agree() -> None:
    orig, rot90 = PdqHash(JAVA_ORIG, 100), PdqHash(JAVA_ROT90, 100)
    assert orig.distance(rot90) == 120
    assert orig.distance(orig) == 0
    rng = np.random.default_rng(7)
    many = rng.integers(0, 256, size=(500, 32), dtype=np.uint8)
    many[0] = np.frombuffer(orig.bits(), dtype=np.uint8)
    many[1] = ~many[0]
    many[2] = np.frombuffer(rot90.bits(), dtype=np.uint8)
    got = distances(orig, many)
    expected = [orig.distance(PdqHash.from_bits(row.tobytes(), 100)) for row in many]
    assert got.tolist() == expected
    assert got[:3].tolist() == [0, 256, 120]
    assert distances(orig.bits(), many[1:3]).tolist() == [256, 120]
    assert within(orig, many, 120)[:2].tolist() == [0, 2]
    stacked = hashes_to_array([orig, rot90.bits(), JAVA_ORIG])
    assert stacked.shape == (3, 32)
    assert distances(orig, stacked).tolist() == [0, 120, 0]
    assert hashes_to_array([]).shape == (0, 32)
    with pytest.raises(ValueError, match=r"\(n, 32\) uint8"):
        distances(orig, many[:, :16])
    with pytest.raises(ValueError, match=r"\(n, 32\) uint8"):
        distances(orig, many.astype(np.int64))
