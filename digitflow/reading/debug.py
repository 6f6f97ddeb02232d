"""What reading a picture did, as one picture for ``--debug-dir``: side by side, the original,
the analysis copy with what was taken out (printed lines red, ink groups that are not the
digit orange, the digit's groups blue), and the 28×28 the network saw."""

import numpy as np
from PIL import Image

from digitflow.reading.colour import grayscale_array
from digitflow.reading.recipe import Reading

PANEL_PX = 112
"""Each panel's height; the 28×28 is enlarged 4× to it."""
GAP_PX = 4
LINES_RGB = (230, 40, 40)
DROPPED_RGB = (240, 160, 30)
DIGIT_RGB = (40, 90, 230)


def debug_picture(image: Image.Image, reading: Reading) -> Image.Image:
    """RGB picture: original | what was found | the 28×28 (white on black, like MNIST)."""
    original = _panel(_original_rgb(image))
    found = _panel(Image.fromarray(_found_rgb(reading)))
    digit = np.zeros((28, 28), np.float32) if reading.digit is None else reading.digit
    seen = Image.fromarray(_bytes(digit)).convert("RGB")
    seen = seen.resize((PANEL_PX, PANEL_PX), Image.Resampling.NEAREST)
    panels = [original, found, seen]
    width = sum(panel.width for panel in panels) + GAP_PX * (len(panels) - 1)
    sheet = Image.new("RGB", (width, PANEL_PX), (128, 128, 128))
    left = 0
    for panel in panels:
        sheet.paste(panel, (left, 0))
        left += panel.width + GAP_PX
    return sheet


def _original_rgb(image: Image.Image) -> Image.Image:
    """The picture as 8-bit RGB. Pillow's ``convert`` clips 16- and 32-bit grey (I;16, I, F)
    to white, so those go through the grey the reading itself used."""
    if image.mode.startswith(("I", "F")):
        return Image.fromarray(_bytes(grayscale_array(image))).convert("RGB")
    return image.convert("RGB")


def _found_rgb(reading: Reading) -> np.ndarray:
    """(h, w, 3) uint8: the analysis copy in grey, what reading took out or kept coloured."""
    picture = reading.picture
    gray = picture.small if picture.paper.polarity == "dark-on-light" else 1.0 - picture.small
    rgb = np.repeat(_bytes(gray)[..., None], 3, axis=2)
    if reading.groups is not None:
        ink = picture.signal > 0.35 * float(picture.signal.max())
        rgb[ink & ~reading.groups.digit] = DROPPED_RGB
        rgb[reading.groups.digit] = DIGIT_RGB
    if picture.printed is not None:
        rgb[picture.printed] = LINES_RGB
    return rgb


def _bytes(unit: np.ndarray) -> np.ndarray:
    """Grey in [0, 1] as uint8 0-255."""
    return np.rint(np.clip(unit, 0, 1) * 255).astype(np.uint8)


def _panel(image: Image.Image) -> Image.Image:
    """``image`` scaled to PANEL_PX high, its aspect kept (at most 3 panels wide)."""
    width = max(1, min(3 * PANEL_PX, round(image.width * PANEL_PX / image.height)))
    return image.resize((width, PANEL_PX), Image.Resampling.BILINEAR)
