"""The ``MD5SUMS`` file the download stage leaves beside the four IDX files, in md5sum's own
format (so ``md5sum -c MD5SUMS`` checks them by hand too), and the check normalise makes
against it: a raw file edited, damaged or replaced after the download is never prepared.

For MNIST it holds the published digests the download verified; for a converted CSV pair,
the digests of what was converted.
"""

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from digitflow.atomic import write_text_atomic
from digitflow.errors import DigitflowError

MD5SUMS = "MD5SUMS"
_LINE = re.compile(r"([0-9a-f]{32})  (\S+)")


class RawFileChanged(DigitflowError):
    """A raw file does not have the md5 the download stage recorded for it (or no md5 was
    recorded): the message names the file and says to run the download stage again."""


def file_md5(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def write_md5sums(folder: Path, md5_by_name: Mapping[str, str]) -> None:
    lines = "".join(f"{md5}  {name}\n" for name, md5 in md5_by_name.items())
    write_text_atomic(Path(folder) / MD5SUMS, lines)


def verify_md5sums(folder: Path, names: Iterable[str]) -> None:
    """Check each of ``names`` in ``folder`` against the folder's MD5SUMS."""
    record = Path(folder) / MD5SUMS
    redo = "run the download stage again (dvc repro -f download)"
    try:
        lines = record.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise RawFileChanged(f"{record}: not found; the download stage writes it: {redo}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RawFileChanged(f"{record}: unreadable ({exc}); {redo}") from exc
    recorded = {}
    for number, line in enumerate(lines, start=1):
        match = _LINE.fullmatch(line)
        if match is None:
            raise RawFileChanged(f"{record}: line {number} is not '<md5>  <file name>'; {redo}")
        recorded[match[2]] = match[1]
    for name in names:
        path = Path(folder) / name
        if name not in recorded:
            raise RawFileChanged(f"{record} has no md5 for {name}; {redo}")
        if not path.is_file():
            raise RawFileChanged(f"{path}: not found; {redo}")
        actual = file_md5(path)
        if actual != recorded[name]:
            raise RawFileChanged(
                f"{path} has md5 {actual}, not the {recorded[name]} recorded at download; "
                f"it was changed since: {redo}"
            )
