"""The paper model's polarity (digitflow.reading.paper): the block means' bounds settle it
for a plain photo, and whatever they settle is what the neighbourhood's strays decide."""

import numpy as np
import pytest
from pictures import digit_ink, picture

from digitflow.reading import paper


def _settled(small: np.ndarray) -> str | None:
    dark_ink, light_ink = paper._strays(small - paper._edge_plane(small))
    return paper._settled_polarity(small, paper._block_means(small), dark_ink, light_ink)


def _unsettled_polarity(small: np.ndarray, monkeypatch) -> str:
    """``_polarity`` with the bounds never settling: the neighbourhood's strays decide."""
    dark_ink, light_ink = paper._strays(small - paper._edge_plane(small))
    with monkeypatch.context() as patched:
        patched.setattr(paper, "_settled_polarity", lambda *args: None)
        return paper._polarity(small, dark_ink, light_ink)


@pytest.mark.parametrize("light_on_dark", [False, True])
def test_a_plain_photo_settles_its_polarity_without_the_neighbourhood(light_on_dark):
    small = picture(digit_ink(), canvas=(100, 120), at=(10, 20), light_on_dark=light_on_dark)
    assert _settled(small) == ("light-on-dark" if light_on_dark else "dark-on-light")


def _pictures():
    """Photos whose polarity is plain, hard (faint ink, a shadow, noise alone) or either."""
    rng = np.random.default_rng(0)
    for k in range(40):
        ink = digit_ink(label=k % 10, size_px=int(rng.integers(30, 90)))
        lighting = np.linspace(rng.uniform(0.3, 1.0), 1.0, 100, dtype=np.float32)[None, :]
        small = picture(ink, (100, 100), (5, 5), light_on_dark=bool(k % 2), lighting=lighting)
        contrast = rng.uniform(0.02, 1.0)
        small = 0.5 + contrast * (small - 0.5) + rng.normal(0, 0.03, small.shape)
        if k % 5 == 0:  # a shadow's edge across the sheet
            small[:, : int(rng.integers(20, 80))] *= 0.5
        yield np.clip(small, 0, 1).astype(np.float32)
    yield rng.uniform(0, 1, (60, 60)).astype(np.float32)


def test_a_settled_polarity_is_the_one_the_neighbourhood_strays_give(monkeypatch):
    pictures = list(_pictures())
    settled = [_settled(small) for small in pictures]
    assert None in settled and "dark-on-light" in settled and "light-on-dark" in settled
    for small, polarity in zip(pictures, settled, strict=True):
        if polarity is not None:
            assert polarity == _unsettled_polarity(small, monkeypatch)
