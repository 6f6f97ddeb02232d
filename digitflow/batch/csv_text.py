"""Text cells of the predictions CSV: any POSIX file name survives the round trip, the file
stays valid UTF-8 with one line per row, and no spreadsheet evaluates a cell.

The escape, documented for users in the README ("Scheduled predictions"):

1. ``\\`` is written ``\\\\``; every control character (``\\n``, ``\\r``, tab, ...) and every byte
   of the name that is not valid UTF-8 is written ``\\xNN``, NN being that byte in hex. So
   ``\\xNN`` always stands for the byte NN of the name, and no line break is left in a cell.
2. A cell that would begin with ``=``, ``+``, ``-``, ``@`` or ``'`` gets one ``'`` in front
   (OWASP's CSV-injection advice; tab and CR were escaped by step 1). Quoting the ``'`` too
   makes the escape reversible: a program drops one leading ``'``, then undoes step 1.

Commas and double quotes are left to the CSV quoting itself.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "'")
"""First characters a spreadsheet would take as a formula (and the quote that marks one)."""

_SURROGATE_BASE = 0xDC00
"""``os.fsdecode`` maps an undecodable byte b (0x80..0xFF) to the lone surrogate U+DC00 + b."""

_NEEDS_ESCAPE = re.compile("[\\\\\x00-\x1f\x7f\udc80-\udcff]")
_ESCAPED = re.compile(r"\\(\\|x[0-9a-f]{2})")


def escape_cell(text: str) -> str:
    """The cell holding ``text`` (a file name as ``os.fsdecode`` gives it, or a message)."""
    cell = _NEEDS_ESCAPE.sub(_escape_char, text)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def unescape_cell(cell: str) -> str:
    """The text a cell holds; ``os.fsencode(unescape_cell(cell))`` is the name's exact bytes."""
    return _ESCAPED.sub(_unescape_match, cell.removeprefix("'"))


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if match.group() == "\\":
        return "\\\\"
    return f"\\x{code - _SURROGATE_BASE if code >= _SURROGATE_BASE else code:02x}"


def _unescape_match(match: re.Match[str]) -> str:
    escaped = match.group(1)
    if escaped == "\\":
        return "\\"
    byte = int(escaped[1:], 16)
    return chr(byte if byte < 0x80 else _SURROGATE_BASE + byte)
