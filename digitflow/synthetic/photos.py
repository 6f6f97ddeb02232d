"""Photo-like pictures of single digits, for the tests, the committed examples and the bench.

``make_photo`` renders ink (any float array, ink high: an MNIST digit, or one drawn with
``draw_digit``) as a phone photo or scan of it: tinted paper, uneven lighting, random size,
placement and small rotation, blur and noise. ``encode_photo`` stores it in one of
``PHOTO_FORMATS``, the file kinds users' folders hold. Everything random comes from the
``np.random.Generator`` passed in, so a seed gives the same pictures and bytes.
"""

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from digitflow.atomic import write_bytes_atomic
from digitflow.synthetic.camera import photographed
from digitflow.synthetic.printed import MARGIN_RED, margin_line, printed_lines

PHOTO_FORMATS: dict[str, str] = {
    "jpeg": ".jpg",
    "png": ".png",
    "webp": ".webp",
    "bmp": ".bmp",
    "tiff16": ".tif",  # 16-bit grayscale
    "rgba_png": ".png",  # transparent background, opaque ink
    "palette_gif": ".gif",
    "exif_jpeg": ".jpg",  # stored turned, with the EXIF Orientation that turns it back
}
ORIENTATION_TAG = 0x0112
_STORE_TURNED = {  # EXIF orientation -> how to store an upright picture so viewers undo it
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


@dataclass(frozen=True)
class PhotoStyle:
    """Ranges a photo's look is drawn from (fractions are of the canvas or of full scale)."""

    canvas_px: tuple[int, int] = (40, 400)
    aspect: float | None = None  # canvas width over height (None: 0.75-1.33, either way)
    height_fraction: tuple[float, float] = (0.2, 0.8)
    max_rotation_deg: float = 15.0
    max_blur_strokes: float = 0.25  # Gaussian radius, in stroke widths (~1/10 digit height)
    max_noise: float = 0.03  # standard deviation
    max_lighting: float = 0.25  # brightness change across the picture
    pen_threshold: float = 0.5  # coverage where an enlarged digit's edge is: higher, finer pen
    light_on_dark: bool = False  # chalk on a board instead of ink on paper
    transparent: bool = False  # RGBA: paper fully transparent, ink opaque
    desk_margin: float = 0.0  # up to this share of each side shows a dark desk around the sheet
    printed: str = ""  # lines printed on the sheet: a key of printed.PRINTED_KINDS, "" none
    line_width: tuple[float, float] = (0.01, 0.08)  # printed lines' width, share of digit height
    box_margin: tuple[float, float] = (0.0, 0.5)  # box sides' distance from the ink, likewise
    line_tone: str = ""  # a key of printed.LINE_TONES, random when ""
    red_margin: bool = False  # a red margin line down the sheet near the digit
    perspective: float = 0.0  # the photo's corners moved by up to this share of its sides
    max_tilt_deg: float = 0.0  # the whole sheet (and the lines on it) turned by up to this
    shadow: float = 0.0  # a soft shadow band darkens the paper by up to this share
    colour_cast: float = 0.0  # each channel's gain off by up to this share


def make_photo(ink: np.ndarray, rng: np.random.Generator, **options) -> Image.Image:
    """An RGB (RGBA if ``transparent=True``) photo of the digit in ``ink`` (h, w), uint8 or
    float, ink high. ``options`` override ``PhotoStyle`` fields."""
    style = PhotoStyle(**options)
    shape = _canvas_shape(style.canvas_px, style.aspect, rng)
    top, bottom, left, right = _sheet(shape, style.desk_margin, rng)
    coverage = np.zeros(shape, dtype=np.float32)  # (h, w) in [0, 1]
    sheet_shape = (bottom - top, right - left)
    coverage[top:bottom, left:right] = _placed_ink(as_unit(ink), sheet_shape, style, rng)
    paper_rgb, ink_rgb = _colours(style.light_on_dark, rng)
    light = _lighting(shape, style.max_lighting, rng)[..., None]  # (h, w, 1)
    if style.transparent:
        rgb = np.broadcast_to(ink_rgb * light, (*shape, 3))
        pixels = np.concatenate([rgb, coverage[..., None]], axis=2)
    else:
        paper = _printed_paper(paper_rgb, coverage, style, rng)  # (h, w, 3)
        a = coverage[..., None]
        pixels = paper * (1 - a) + ink_rgb * a
        desk_rgb = paper_rgb
        if sheet_shape != shape:
            desk_rgb = rng.uniform(0.1, 0.4) * np.array([1.0, 0.85, 0.7])  # dark wood
            pixels[:top] = pixels[bottom:] = desk_rgb
            pixels[:, :left] = pixels[:, right:] = desk_rgb
        pixels = photographed(pixels, desk_rgb, style, rng) * light
        pixels = pixels + rng.normal(0.0, rng.uniform(0, style.max_noise), pixels.shape)
    return Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))


def _printed_paper(
    paper_rgb: np.ndarray, coverage: np.ndarray, style: PhotoStyle, rng: np.random.Generator
) -> np.ndarray:
    """The sheet's colour (h, w, 3) with the lines ``style`` asks for printed on it around
    the ink in ``coverage``."""
    paper = np.broadcast_to(paper_rgb, (*coverage.shape, 3)).astype(np.float64)
    if not (style.printed or style.red_margin):
        return paper
    rows, cols = (
        np.flatnonzero(coverage.max(axis=1) > 0.3),
        np.flatnonzero(coverage.max(axis=0) > 0.3),
    )
    ink_box = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)
    if style.printed:
        lines, line_rgb = printed_lines(
            style.printed,
            coverage.shape,
            ink_box,
            rng,
            style.line_width,
            style.box_margin,
            style.line_tone,
        )
        paper = paper * (1 - lines[..., None]) + line_rgb * lines[..., None]
    if style.red_margin:
        red = margin_line(coverage.shape, ink_box, rng)[..., None]
        paper = paper * (1 - red) + MARGIN_RED * red
    return paper


def encode_photo(photo: Image.Image, fmt: str, rng: np.random.Generator) -> bytes:
    """The bytes of ``photo`` stored as ``fmt`` (a key of PHOTO_FORMATS); lossy qualities and
    the EXIF orientation are drawn from ``rng``."""
    buffer = io.BytesIO()
    if fmt in ("jpeg", "webp"):
        quality = int(rng.integers(60, 96))
        photo.convert("RGB").save(buffer, fmt.upper(), quality=quality)
    elif fmt in ("png", "bmp"):
        photo.convert("RGB").save(buffer, fmt.upper())
    elif fmt == "rgba_png":
        photo.convert("RGBA").save(buffer, "PNG")
    elif fmt == "tiff16":
        pixels_u16 = np.asarray(photo.convert("L"), dtype=np.uint16) * 257  # 255 -> 65535
        Image.fromarray(pixels_u16).save(buffer, "TIFF", compression="tiff_adobe_deflate")
    elif fmt == "palette_gif":
        photo.convert("RGB").quantize(colors=64).save(buffer, "GIF")
    elif fmt == "exif_jpeg":
        orientation = int(rng.choice(list(_STORE_TURNED)))
        exif = Image.Exif()
        exif[ORIENTATION_TAG] = orientation
        stored = photo.convert("RGB").transpose(_STORE_TURNED[orientation])
        stored.save(buffer, "JPEG", quality=int(rng.integers(70, 96)), exif=exif.tobytes())
    else:
        raise ValueError(f"unknown photo format {fmt!r}; known: {', '.join(PHOTO_FORMATS)}")
    return buffer.getvalue()


def write_photo(
    ink: np.ndarray,
    rng: np.random.Generator,
    folder: Path,
    stem: str,
    fmt: str | None = None,
    **options,
) -> Path:
    """Render ``ink`` with ``make_photo`` and write it as ``folder/stem.<ext>`` in ``fmt``
    (drawn at random from PHOTO_FORMATS when None); returns the path written."""
    if fmt is None:
        fmt = str(rng.choice(list(PHOTO_FORMATS)))
    photo = make_photo(ink, rng, transparent=fmt == "rgba_png", **options)
    path = Path(folder) / f"{stem}{PHOTO_FORMATS[fmt]}"
    write_bytes_atomic(path, encode_photo(photo, fmt, rng))
    return path


def as_unit(ink: np.ndarray) -> np.ndarray:
    """Ink as float32 in [0, 1] (uint8 scaled by 255)."""
    ink = np.asarray(ink)
    scale = 255.0 if ink.dtype == np.uint8 else 1.0
    return np.clip(ink.astype(np.float32) / scale, 0, 1)


def _canvas_shape(
    canvas_px: tuple[int, int], aspect: float | None, rng: np.random.Generator
) -> tuple[int, int]:
    low, high = canvas_px
    side = int(rng.integers(low, high + 1))
    if aspect is not None:  # a number's wide canvas: ``side`` is its height
        return side, max(1, round(side * aspect))
    other = int(np.clip(round(side * rng.uniform(0.75, 1.33)), low, high))
    return (side, other) if rng.random() < 0.5 else (other, side)


def _sheet(
    shape: tuple[int, int], desk_margin: float, rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the paper: the whole canvas, or with a strip of desk of
    up to ``desk_margin`` of the side on each edge."""
    height, width = shape
    if not desk_margin:
        return 0, height, 0, width
    top, bottom = (round(height * rng.uniform(0.03, desk_margin)) for _ in range(2))
    left, right = (round(width * rng.uniform(0.03, desk_margin)) for _ in range(2))
    return top, height - bottom, left, width - right


def _placed_ink(
    ink: np.ndarray, shape: tuple[int, int], style: PhotoStyle, rng: np.random.Generator
) -> np.ndarray:
    """Coverage (h, w): the digit scaled, turned, sharpened like pen ink, blurred and placed."""
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    angle = np.radians(rng.uniform(-style.max_rotation_deg, style.max_rotation_deg))
    cos, sin = abs(np.cos(angle)), abs(np.sin(angle))
    height, width = ink.shape
    turned_h, turned_w = height * cos + width * sin, width * cos + height * sin
    scale = min(
        rng.uniform(*style.height_fraction) * shape[0] / turned_h,
        (shape[0] - 2) / turned_h,
        (shape[1] - 2) / turned_w,
    )
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    grown = np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BICUBIC))
    # A pen stroke has a sharp edge however much the scan is enlarged: re-threshold the
    # enlarged digit with a ramp about one output pixel wide (MNIST's greys are 1 px wide).
    ramp = min(0.5, 0.5 / scale)
    sharp = np.clip((grown - style.pen_threshold) / (2 * ramp) + 0.5, 0, 1).astype(np.float32)
    turned = Image.fromarray(sharp).rotate(np.degrees(angle), Image.Resampling.BICUBIC, expand=True)
    glyph = Image.fromarray(np.round(np.clip(np.asarray(turned), 0, 1) * 255).astype(np.uint8))
    blur = rng.uniform(0, style.max_blur_strokes) * 0.1 * glyph.height
    glyph = glyph.filter(ImageFilter.GaussianBlur(blur))
    coverage = np.zeros(shape, dtype=np.float32)
    glyph_h, glyph_w = min(glyph.height, shape[0]), min(glyph.width, shape[1])
    top = int(rng.integers(0, shape[0] - glyph_h + 1))
    left = int(rng.integers(0, shape[1] - glyph_w + 1))
    pixels = np.asarray(glyph, dtype=np.float32)[:glyph_h, :glyph_w] / 255
    coverage[top : top + glyph_h, left : left + glyph_w] = pixels
    return coverage


def _colours(light_on_dark: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Paper and ink RGB in [0, 1]: tinted paper; black, blue or pencil ink (or chalk)."""
    tint = 1 + rng.uniform(-0.06, 0.03, size=3)
    if light_on_dark:
        board = rng.uniform(0.1, 0.3) * tint
        chalk = rng.uniform(0.8, 0.95) * np.ones(3)
        return board, chalk
    paper = np.clip(rng.uniform(0.72, 0.97) * tint, 0, 1)
    kinds = (
        np.full(3, rng.uniform(0.02, 0.2)),  # black
        np.array([0.1, 0.15, 0.45]) * rng.uniform(0.6, 1.2),  # blue ballpoint
        np.full(3, rng.uniform(0.3, 0.45)),  # pencil
    )
    return paper, kinds[int(rng.integers(len(kinds)))]


def _lighting(shape: tuple[int, int], strength: float, rng: np.random.Generator) -> np.ndarray:
    """Brightness factor (h, w): a gradient from one side plus a vignette."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    ys, xs = ys / max(shape) - 0.5, xs / max(shape) - 0.5
    direction = rng.uniform(0, 2 * np.pi)
    gradient = np.cos(direction) * xs + np.sin(direction) * ys
    vignette = xs**2 + ys**2
    return 1 + rng.uniform(0, strength) * gradient - rng.uniform(0, strength) * vignette


def draw_digit(
    label: int,
    rng: np.random.Generator,
    size_px: int = 112,
    pen_fraction: tuple[float, float] = (0.07, 0.12),
) -> np.ndarray:
    """A handwritten-looking digit (size_px, size_px) float32, ink high, drawn as pen strokes
    (no MNIST data): each stroke of ``_STROKES[label]`` slanted, stretched and jittered, with a
    pen whose width is drawn from ``pen_fraction`` of ``size_px``."""
    supersample = 4
    canvas = Image.new("L", (size_px * supersample,) * 2, 0)
    pen = ImageDraw.Draw(canvas)
    width_px = max(1.0, rng.uniform(*pen_fraction) * size_px * supersample)
    transform = _hand_transform(rng)
    for stroke in _STROKES[label]:
        points = transform(np.asarray(stroke)) + rng.normal(0, 0.012, (len(stroke), 2))
        points = (0.12 + 0.76 * points) * size_px * supersample
        xy = [tuple(point) for point in points]
        pen.line(xy, fill=255, width=round(width_px), joint="curve")
        for x, y in (xy[0], xy[-1]):  # round pen tips
            r = width_px / 2
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(canvas.reduce(supersample), dtype=np.float32) / 255


def _hand_transform(rng: np.random.Generator):
    """A random slant, width and tilt about the unit box's centre."""
    slant = rng.uniform(-0.3, 0.1)
    stretch = rng.uniform(0.75, 1.1)
    tilt = np.radians(rng.uniform(-6, 6))
    matrix = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    matrix = matrix @ np.array([[stretch, slant], [0.0, 1.0]])

    def transform(points: np.ndarray) -> np.ndarray:  # (n, 2) x, y in [0, 1]
        return (points - 0.5) @ matrix.T + 0.5

    return transform


def _arc(cx, cy, rx, ry, start_deg, end_deg, steps=28) -> list[tuple[float, float]]:
    """Points on an ellipse in image coordinates (y down: 90° is the bottom)."""
    t = np.radians(np.linspace(start_deg, end_deg, steps))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t), strict=True))


_STROKES: dict[int, list[list[tuple[float, float]]]] = {  # unit box, x right, y down
    0: [_arc(0.5, 0.5, 0.3, 0.46, -90, 275)],
    1: [[(0.56, 0.04), (0.44, 0.96)]],
    2: [_arc(0.5, 0.3, 0.28, 0.26, 190, 380) + [(0.2, 0.95), (0.84, 0.93)]],
    3: [_arc(0.5, 0.27, 0.26, 0.23, 200, 450) + _arc(0.5, 0.72, 0.29, 0.25, -90, 160)],
    4: [[(0.26, 0.04), (0.14, 0.62), (0.86, 0.6)], [(0.68, 0.12), (0.64, 0.96)]],
    5: [[(0.8, 0.05), (0.33, 0.06), (0.27, 0.45)] + _arc(0.5, 0.68, 0.29, 0.28, -140, 150)],
    6: [[(0.7, 0.04), (0.45, 0.2), (0.27, 0.5)] + _arc(0.51, 0.7, 0.25, 0.25, 180, -180)],
    7: [[(0.16, 0.07), (0.84, 0.07), (0.42, 0.96)]],
    8: [_arc(0.5, 0.26, 0.21, 0.22, 90, 450), _arc(0.5, 0.72, 0.27, 0.25, -90, 270)],
    9: [_arc(0.5, 0.3, 0.25, 0.25, 0, 360), [(0.75, 0.3), (0.68, 0.96)]],
}
