"""Walking an input folder: every file under it that matches the patterns, in path order.

Rules, documented for users in ``predict-folder --help``:

- Files come out sorted by their path relative to the root, as POSIX strings compared
  character by character. The walk is lazy yet globally sorted: siblings are visited in
  order of ``name`` for files and ``name + "/"`` for folders, which is exactly the order of
  the full relative paths (``a.png`` < ``a/b.png`` because ``.`` < ``/``).
- Patterns are globs on the relative path, as ``pathlib`` reads them: ``*``, ``?`` and
  ``[...]`` stay inside one path component, ``**`` spans any number of folders.
  ``*.png`` matches only at the top level, ``**/*.png`` at any depth. Case-sensitive.
- Hidden names (starting with ``.``) are skipped, files and folders alike: ``.git``,
  ``.DS_Store``, editor swap files and our own temporary files are never digits.
- Symlinks are skipped unless followed, and counted in ``stats``. When followed, they may
  lead outside the root (a folder of links to scans kept elsewhere is what the option is
  for), but a folder link to any folder on the real path of the folder it sits in — the
  root's own parents included — is a loop: it is reported once through ``on_skip`` and not
  entered. Loops are found by (device, inode), whatever the names.
- A folder holding :data:`DEBUG_MARKER` is the ``--debug-dir`` of some run: it is skipped
  (reported through ``on_skip``), whichever options this run has.
- Paths in ``skip`` (the run's own outputs, found by file identity) are left out; a
  skipped folder is not entered.
- A file that cannot be predicted whatever its content (a dangling symlink, a FIFO or
  device, a folder that cannot be listed) is still yielded, with ``problem`` saying why,
  so that it becomes an error row instead of vanishing. An unreadable folder is yielded
  as ``name/``.
"""

import os
import re
import stat
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

FileIdentity = tuple[int, int]
"""(st_dev, st_ino): the same file whatever path reaches it."""

DEBUG_MARKER = ".digitflow-debug"
"""The file that marks a folder of debug pictures, so that no later walk predicts them."""


@dataclass
class WalkStats:
    """What a walk left out that the user should know about."""

    skipped_symlinks: int = 0


@dataclass(frozen=True)
class FoundFile:
    rel_path: str
    """Relative to the walked root, POSIX separators; the sort and incremental key."""
    path: Path | str
    """What a worker opens: a local path, or a URL for a folder in object storage."""
    size_bytes: int
    mtime_ns: int
    problem: str = ""
    """Why this entry cannot be read at all (empty for an ordinary file)."""


def walk_files(
    root: Path,
    patterns: Collection[str] = ("**/*",),
    *,
    follow_symlinks: bool = False,
    skip: Collection[Path] = (),
    on_skip: Callable[[str], None] | None = None,
    stats: WalkStats | None = None,
) -> Iterator[FoundFile]:
    """Yield the files under ``root`` that match any of ``patterns``, sorted by relative path.

    ``root`` itself must be a listable folder (callers check it to report a fatal error).
    """
    matchers = [glob_regex(p) for p in patterns]
    walker = _Walker(
        matchers,
        follow_symlinks,
        _identities(skip),
        on_skip or (lambda _: None),
        stats if stats is not None else WalkStats(),
    )
    yield from walker.walk(Path(root), "", ancestors=_real_path_identities(Path(root)))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a pathlib-style glob; match it against ``rel_path + "/"``.

    Every component, ``**`` included, translates to a regex ending in ``/``, so ``**`` can
    stand for zero folders without special cases.
    """
    parts = []
    for component in pattern.strip("/").split("/"):
        if component == "**":
            parts.append("(?:[^/]+/)*")
        else:
            parts.append(_component_regex(component) + "/")
    return re.compile("".join(parts))


def _component_regex(component: str) -> str:
    regex, i = [], 0
    while i < len(component):
        char = component[i]
        close = component.find("]", i + 2) if char == "[" else -1
        if char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif close != -1:
            body = component[i + 1 : close]
            negate = body.startswith("!")
            body = re.sub(r"([\\^\[])", r"\\\1", body[1:] if negate else body)
            regex.append(f"[{'^/' if negate else ''}{body}]")
            i = close
        else:
            regex.append(re.escape(char))
        i += 1
    return "".join(regex)


def _identity(st: os.stat_result) -> FileIdentity:
    return (st.st_dev, st.st_ino)


def _real_path_identities(folder: Path) -> frozenset[FileIdentity]:
    """The identities of ``folder`` and of every folder above it on its real path."""
    real = Path(os.path.realpath(folder))
    return _identities([real, *real.parents])


def _identities(paths: Collection[Path]) -> frozenset[FileIdentity]:
    found = set()
    for path in paths:
        try:
            found.add(_identity(os.stat(path)))
        except OSError:
            continue  # an output that does not exist yet cannot be inside the walk
    return frozenset(found)


class _Walker:
    def __init__(
        self,
        matchers: list[re.Pattern[str]],
        follow_symlinks: bool,
        skip: frozenset[FileIdentity],
        on_skip: Callable[[str], None],
        stats: WalkStats,
    ):
        self.matchers = matchers
        self.follow_symlinks = follow_symlinks
        self.skip = skip
        self.on_skip = on_skip
        self.stats = stats

    def walk(
        self, folder: Path, rel_prefix: str, ancestors: frozenset[FileIdentity]
    ) -> Iterator[FoundFile]:
        try:
            entries = self._sorted_entries(folder)
        except OSError as exc:
            yield FoundFile(rel_prefix, folder, 0, 0, f"cannot list folder: {_reason(exc)}")
            return
        for entry, is_folder in entries:
            rel_path = rel_prefix + entry.name
            matched = self.matches(rel_path)
            if not (is_folder or matched):
                continue  # unmatched files are never stat'ed: a narrow pattern stays cheap
            entry_stat = _stat_or_reason(entry)
            is_stat = isinstance(entry_stat, os.stat_result)
            if is_stat and _identity(entry_stat) in self.skip:
                continue
            if is_folder and is_stat:
                yield from self._walk_subfolder(entry, entry_stat, rel_path, ancestors)
            elif matched:
                yield _found_file(entry, entry_stat, rel_path)

    def _walk_subfolder(self, entry, entry_stat, rel_path, ancestors) -> Iterator[FoundFile]:
        identity = _identity(entry_stat)
        if identity in ancestors:
            self.on_skip(f"skipped {rel_path}/: a symlink loop back to one of its parents")
            return
        if os.path.lexists(os.path.join(entry.path, DEBUG_MARKER)):
            self.on_skip(f"skipped {rel_path}/: debug pictures of an earlier --debug-dir")
            return
        # Through a link the walk now stands in another part of the tree: its real parents
        # are the ones a loop could lead back to.
        inside = _real_path_identities(Path(entry.path)) if entry.is_symlink() else {identity}
        yield from self.walk(Path(entry.path), rel_path + "/", ancestors | inside)

    def matches(self, rel_path: str) -> bool:
        return any(m.fullmatch(rel_path + "/") for m in self.matchers)

    def _sorted_entries(self, folder: Path) -> list[tuple[os.DirEntry, bool]]:
        """Entries to visit, each with whether it is a folder, in the order that keeps the
        whole walk sorted by relative path."""
        keyed = []
        with os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                if not self.follow_symlinks and entry.is_symlink():
                    self.stats.skipped_symlinks += 1
                    continue
                is_folder = _is_folder(entry)
                keyed.append((entry.name + "/" if is_folder else entry.name, entry, is_folder))
        keyed.sort(key=lambda item: item[0])
        return [(entry, is_folder) for _, entry, is_folder in keyed]


def _is_folder(entry: os.DirEntry) -> bool:
    """From the listing itself where the OS says (no stat call); a broken link is no folder."""
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def _stat_or_reason(entry: os.DirEntry) -> os.stat_result | str:
    try:
        return entry.stat(follow_symlinks=True)
    except FileNotFoundError:
        return "dangling symlink: its target does not exist"
    except OSError as exc:
        return f"cannot read: {_reason(exc)}"


def _found_file(entry: os.DirEntry, entry_stat: os.stat_result | str, rel_path: str) -> FoundFile:
    path = Path(entry.path)
    if isinstance(entry_stat, str):
        return FoundFile(rel_path, path, 0, 0, entry_stat)
    problem = "" if stat.S_ISREG(entry_stat.st_mode) else "not a regular file"
    return FoundFile(rel_path, path, entry_stat.st_size, entry_stat.st_mtime_ns, problem)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
