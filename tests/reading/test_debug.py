"""The --debug-dir picture (digitflow.reading.debug)."""

import numpy as np
import pytest
from pictures import digit_ink, picture
from PIL import Image

from digitflow.reading.debug import PANEL_PX, debug_picture
from digitflow.reading.images import read_image


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_the_original_panel_of_a_deep_grey_picture_shows_its_digit(mode):
    gray = picture(digit_ink())
    if mode == "F":
        image = Image.fromarray(gray.astype(np.float32))
    else:
        image = Image.fromarray(np.rint(gray * 65535).astype(np.uint16)).convert(mode)
    assert image.mode == mode
    original = np.asarray(debug_picture(image, read_image(image)).convert("L"))[:, :PANEL_PX]
    assert original.min() < 60 and original.max() > 200
