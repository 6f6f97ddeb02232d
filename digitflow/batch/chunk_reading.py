"""What a worker does with one chunk of files: decode each to a 28x28 digit, and predict them
(or, in number mode, read each as a number).

Every backend (``digitflow.batch.backends``) runs these same functions, so a row reads the
same whichever process or machine made it. One bad file never stops a chunk: it gets an
error message instead of a digit.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from digitflow.atomic import write_bytes_atomic
from digitflow.network.mlp import Network
from digitflow.network.whole_digit import probabilities_and_scores
from digitflow.reading import images, one_digit
from digitflow.reading.debug import debug_picture
from digitflow.reading.images import Polarity
from digitflow.reading.number_picture import number_picture
from digitflow.reading.one_digit import LinesPutBack
from digitflow.reading.segment import Classify, Likeness, Rejected, Segmentation

UNLIKE_A_DIGIT = "looks like none of the digits the network learned (a letter, a drawing?)"
"""The reason of a row whose picture the network's digit-likeness score turns away."""
UNLIKE_A_NUMBER_DIGIT = "digit {} of {} looks like none of the digits the network learned"
"""The reason of a number row one of whose digits the digit likeness turns away (a letter
among the digits: with one in a number of 2-4, bench/trust.py --numbers)."""
LINE_CHANGES_THE_DIGIT = "a printed line touches the digit: with it put back, it reads {}"
"""The reason of a row whose digit reads as another with the printed lines near it put back
(``one_digit.with_lines_put_back``): the line took a stroke, or left one in ..."""
PUT_BACK_MIN_CONFIDENCE = 0.9
"""... when the network reads that other digit with at least this (calibrated) confidence:
a stub of a crossing line put back often turns a right digit into a doubtful other one, a
stroke put back gives the digit that was written (bench/trust.py --documents, 400 a style
on the 8 styles with lines: of the confident wrong ``ok`` rows, 4 of 19 caught for 0 right
ones lost at this level, 7 for 13 at any level; on a second sample 3 of 28 for 2)."""

LINE_TOOK_THE_DIGIT = "a printed line took some of the digit's ink: with it back, it is not a {}"
"""The reason of a row whose digit lost ink to the printed lines (at least
:data:`TAKEN_DOUBT_SHARE` of what it kept) and, with their pixels near it put back, is read
as the same digit with a probability below :data:`PUT_BACK_MIN_SUPPORT`: the digit read
depends on ink a line may have taken. Among rows otherwise ``ok`` on documents
(bench/trust.py --documents, seeds 0-2, 300 a style, 8,477 ok rows, 40 wrong) it caught 5
wrong rows, one or two on every seed, for 15 right ones; the lines took less than that from
most wrong rows (a hard digit the network misreads in any style, not reading's doing)."""
TAKEN_DOUBT_SHARE = 0.1
PUT_BACK_MIN_SUPPORT = 0.5

ChunkFiles = list[tuple[Path | str, str]]
"""``(path or URL, rel_path)`` of each file to read: only these travel to a worker, never
pixels."""
ChunkResult = tuple[np.ndarray | list[np.ndarray], list[str], list[str]]
"""``(probs, errors, rejections)``: one error message per file ("" when it was read); the
probabilities of the k files that were read, in order: (10, k) in digit mode; in number mode
one (digits, 10) array per file read, its digits left to right; and for each of those k why
it is not what the read mode expects ("" when nothing says so; in number mode, more marks
than ``max_digits`` or several lines of writing, with no digits)."""
Decoded = tuple[np.ndarray, list[str], list[str], list[LinesPutBack | None]]
"""What :func:`decode_files` returns: see there."""


@dataclass(frozen=True)
class Decoding:
    """How every file of a batch is decoded, sent along with each chunk."""

    polarity: Polarity
    debug_dir: Path | None
    read: str = "digit"
    """"digit" or "number" (``predict_folder.read``)."""
    max_digits: int = 12
    open_file: Callable | None = None
    """What a file's path is opened with (``inputs.InputFolder.open_file``); None: ``open``."""


def read_chunk(files: ChunkFiles, decoding: Decoding, network: Network) -> ChunkResult:
    """Decode and predict a chunk in one go: what a worker holding the model runs."""
    if decoding.read == "number":
        return read_numbers(files, decoding, network)
    return predict_decoded(network, *decode_files(files, decoding))


def decode_files(files: ChunkFiles, decoding: Decoding) -> Decoded:
    """Read files as 28x28 digits: (k, 28, 28) float32, one error message per file ("" when
    it decoded; its digit is then zeros), and for each file decoded the reason it is not one
    digit ("" when nothing says so; ``digitflow.reading.one_digit``) and its 28x28 with the
    printed lines near it put back (None when no line came near it)."""
    digits_kx28x28 = np.zeros((len(files), 28, 28), np.float32)
    errors = [""] * len(files)
    rejections, put_back = [], []
    for i, (path, rel_path) in enumerate(files):
        try:
            image, reading = images.read_file(
                path, decoding.polarity, decoding.open_file, refuse_several=False
            )
        except Exception as exc:  # one bad file must never stop the batch: it becomes a row
            errors[i] = describe_failure(exc, path, rel_path)
            continue
        digits_kx28x28[i] = reading.digit
        ink_taken = one_digit.ink_taken_with_lines(reading)  # both checks need it: once
        rejections.append(one_digit.rejection(reading, ink_taken))
        put_back.append(one_digit.with_lines_put_back(reading, ink_taken))
        if decoding.debug_dir is not None:
            save_debug_png(decoding.debug_dir / f"{rel_path}.png", debug_picture(image, reading))
    return digits_kx28x28, errors, rejections, put_back


def read_numbers(files: ChunkFiles, decoding: Decoding, network: Network) -> ChunkResult:
    """Read files as numbers: the network reads as the picture is split (segmentation
    chooses its cuts by what the network reads best), so both happen here."""

    classify, likeness = number_readers(network)
    numbers, errors, rejections = [], [""] * len(files), []
    for i, (path, rel_path) in enumerate(files):
        try:
            number = images.read_number(
                path,
                classify,
                decoding.polarity,
                decoding.max_digits,
                decoding.open_file,
                likeness,
            )
        except Rejected as rejected:  # an answer about the picture, not a failure
            numbers.append(np.zeros((0, 10), dtype=np.float32))
            rejections.append(str(rejected))
            continue
        except Exception as exc:  # one bad file must never stop the batch: it becomes a row
            errors[i] = describe_failure(exc, path, rel_path)
            continue
        numbers.append(number.probs_kx10)
        rejections.append(unlike_digit_of_number(network, number))
        if decoding.debug_dir is not None:
            picture = Image.fromarray(number_picture(number))
            save_debug_png(decoding.debug_dir / f"{rel_path}.png", picture)
    return numbers, errors, rejections


def unlike_digit_of_number(network: Network, number: Segmentation) -> str:
    """:data:`UNLIKE_A_NUMBER_DIGIT` for the first of a number's digits the model's digit
    likeness turns away, as it turns away a lone digit, from the likeness segmentation read
    them with (``number_readers``); "" when it turns away none (or the model has no
    likeness)."""
    if network.likeness is None or number.likeness is None:
        return ""
    unlike = np.flatnonzero(network.likeness.below_min_of(number.likeness, number.probs_kx10.T))
    if not unlike.size:
        return ""
    return UNLIKE_A_NUMBER_DIGIT.format(int(unlike[0]) + 1, len(number.likeness))


def number_readers(network: Network) -> tuple[Classify, Likeness | None]:
    """What segmentation reads a number's pieces with: the network's probabilities of
    (k, 28, 28) digits, and the same with its digit likeness and whole-digit score in one pass
    (None when the model has no likeness)."""

    def classify(digits_kx28x28: np.ndarray) -> np.ndarray:
        return network.predict_proba(digits_kx28x28.reshape(len(digits_kx28x28), 28 * 28).T).T

    def likeness(digits_kx28x28: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        X_784xk = digits_kx28x28.reshape(len(digits_kx28x28), 28 * 28).T
        probs, log_odds, whole = probabilities_and_scores(network, X_784xk)
        return probs.T, log_odds, whole

    return classify, None if network.likeness is None else likeness


def predict_decoded(
    network: Network,
    digits_kx28x28: np.ndarray,
    errors: list[str],
    rejections: list[str],
    put_back: list[LinesPutBack | None],
) -> ChunkResult:
    """The chunk's result from what :func:`decode_files` returned: probabilities (10, number
    of files without an error) of the decoded digits, and their rejections: reading's; or
    for a digit reading had nothing against, :data:`LINE_CHANGES_THE_DIGIT` or
    :data:`LINE_TOOK_THE_DIGIT` from how it reads with the lines put back (``put_back``), or
    :data:`UNLIKE_A_DIGIT` when the model's digit-likeness score
    (``digitflow.network.digit_likeness``, if it has one) is below its minimum."""
    ok = [i for i, error in enumerate(errors) if not error]
    if not ok:
        return np.zeros((network.layer_sizes[-1], 0), np.float32), errors, rejections
    X_784xk = digits_kx28x28[ok].reshape(len(ok), 28 * 28).T  # row-major, as in training
    if network.likeness is None:
        probs, unlike = network.predict_proba(X_784xk), np.zeros(len(ok), bool)
    else:
        probs, unlike = network.likeness.unlike(network, X_784xk)
    changed = _changed_digits(network, probs.argmax(axis=0), put_back)
    rejections = [
        reason or changed[j] or (UNLIKE_A_DIGIT if unlike[j] else "")
        for j, reason in enumerate(rejections)
    ]
    return probs, errors, rejections


def _changed_digits(
    network: Network, predicted: np.ndarray, put_back: list[LinesPutBack | None]
) -> list[str]:
    """For each decoded digit, from its ``put_back`` 28x28: :data:`LINE_CHANGES_THE_DIGIT`
    when it reads as another digit than ``predicted`` (m,) at
    :data:`PUT_BACK_MIN_CONFIDENCE` or more; :data:`LINE_TOOK_THE_DIGIT` when the lines took
    :data:`TAKEN_DOUBT_SHARE` of the digit's ink or more and it reads as ``predicted`` with
    less than :data:`PUT_BACK_MIN_SUPPORT`; else ""."""
    changed = [""] * len(put_back)
    some = [j for j, back in enumerate(put_back) if back is not None]
    if not some:
        return changed
    X_784xs = np.stack([put_back[j].digit for j in some]).reshape(len(some), 28 * 28).T
    probs = network.predict_proba(X_784xs)  # (10, s)
    for column, j in enumerate(some):
        digit, read = int(predicted[j]), probs[:, column]
        if read.argmax() != digit and read.max() >= PUT_BACK_MIN_CONFIDENCE:
            changed[j] = LINE_CHANGES_THE_DIGIT.format(int(read.argmax()))
        elif put_back[j].ink_taken >= TAKEN_DOUBT_SHARE and read[digit] < PUT_BACK_MIN_SUPPORT:
            changed[j] = LINE_TOOK_THE_DIGIT.format(digit)
    return changed


def describe_failure(exc: Exception, path: Path | str, rel_path: str) -> str:
    """The error cell of a file's row. Its path is in the row already, so a message's
    ``<path>: `` prefix is dropped, and the path anywhere else in it (an OSError quotes it)
    is given relative to the input folder: the cell reads the same wherever the folder lives."""
    if isinstance(exc, images.ImageError | Rejected):
        message = str(exc).removeprefix(f"{path}: ")
    elif isinstance(exc, MemoryError):
        message = "decoding ran out of memory"
    elif isinstance(exc, OSError):
        message = f"cannot read: {exc.strerror or exc}"
    else:
        message = f"unexpected {type(exc).__name__} while reading: {exc}"
    return message.replace(str(path), rel_path)


def save_debug_png(path: Path, picture: Image.Image) -> None:
    """Write a ``debug_picture`` (original | lines and groups found | the 28x28) as PNG."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    write_bytes_atomic(path, buffer.getvalue())
