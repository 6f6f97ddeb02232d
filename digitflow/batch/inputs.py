"""The folder predict-folder reads: a local folder, or a URL fsspec reaches (``s3://``,
``gs://``, ``az://``...). Each is checked once before any work, walked lazily in path order,
and names the ``open`` that workers read its files with.

A URL's listing follows the local walk's rules (``folder_walk``): sorted by relative path,
hidden names skipped, the same globs. It lists one folder (one prefix up to the next ``/``) at
a time, so the driver holds one folder's listing, never a whole bucket's. A remote file's
``size_bytes`` and ``mtime_ns`` are the listing's size and last-modified time: the keys
``--incremental`` compares. Credentials and endpoints come from the storage library's own
configuration (for S3 the AWS environment variables and files, ``AWS_ENDPOINT_URL`` included),
never from the command line.
"""

import os
import re
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from digitflow.batch.folder_walk import FoundFile, WalkStats, glob_regex, walk_files
from digitflow.errors import DigitflowError
from digitflow.extras import MissingExtra, import_extra

EXTRA_OF_PROTOCOL = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
EXTRA_OF_PROTOCOL |= dict.fromkeys(("az", "abfs", "abfss", "adl"), "azure")
"""The digitflow extra that installs each storage library."""
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_MODIFIED_KEYS = ("LastModified", "last_modified", "mtime", "updated", "modified", "created")
"""Where fsspec's storage libraries put an entry's last-modified time (s3fs, adlfs, local and
sftp, gcsfs, others)."""


class InputFolderError(DigitflowError):
    """The folder to predict is missing, not a folder, or cannot be listed."""


class InputFolder(Protocol):
    location: str
    """Where the folder is, for the run's summary: an absolute path or the URL."""
    open_file: Callable | None
    """What a worker opens a file's ``path`` with, as ``open_file(path, "rb")``; None: the
    built-in ``open``."""

    def walk(
        self,
        patterns: Collection[str],
        *,
        follow_symlinks: bool = False,
        skip: Collection[Path] = (),
        on_skip: Callable[[str], None] | None = None,
    ) -> Iterator[FoundFile]:
        """The files that match any of ``patterns``, sorted by relative path."""


def open_input_folder(location: str) -> InputFolder:
    """The checked folder at ``location``; raises :class:`InputFolderError`, or
    :class:`MissingExtra` for a URL whose storage library is not installed."""
    protocol = url_protocol(location)
    if protocol == "file":
        folder = LocalFolder(Path(location.removeprefix("file://")))
    elif protocol:
        folder = RemoteFolder(location)
    else:
        folder = LocalFolder(Path(location))
    folder.check()
    return folder


def url_protocol(location: str) -> str | None:
    """The scheme of a URL (``s3``), or None for a local path."""
    match = _URL.match(location)
    return match.group(1).lower() if match else None


class LocalFolder:
    """A folder on this machine (a plain path or ``file://``): see ``folder_walk``."""

    open_file = None

    def __init__(self, root: Path):
        self.root = root
        self.location = str(root.resolve())

    def check(self) -> None:
        try:
            with os.scandir(self.root):
                pass
        except FileNotFoundError:
            raise InputFolderError(f"input folder {self.root} does not exist") from None
        except NotADirectoryError:
            raise InputFolderError(f"input folder {self.root} is not a folder") from None
        except OSError as exc:
            raise InputFolderError(
                f"input folder {self.root} cannot be read: {exc.strerror}"
            ) from None

    def walk(
        self,
        patterns: Collection[str],
        *,
        follow_symlinks: bool = False,
        skip: Collection[Path] = (),
        on_skip: Callable[[str], None] | None = None,
        stats: WalkStats | None = None,
    ) -> Iterator[FoundFile]:
        return walk_files(
            self.root,
            patterns,
            follow_symlinks=follow_symlinks,
            skip=skip,
            on_skip=on_skip,
            stats=stats,
        )


class RemoteFolder:
    """A folder URL opened through fsspec; files are named by full URLs that workers open."""

    def __init__(self, url: str):
        protocol = url_protocol(url) or ""
        extra = EXTRA_OF_PROTOCOL.get(protocol, protocol)
        fsspec = import_extra("fsspec", extra, f"reading {protocol}:// folders")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except ImportError:
            raise MissingExtra(
                f"reading {protocol}:// folders needs the {extra} extra: "
                f"pip install 'digitflow[{extra}]'"
            ) from None
        except ValueError as exc:
            raise InputFolderError(f"input folder {url}: {exc}") from None
        self.url = self.location = url
        self.root = self.root.rstrip("/")
        self.open_file = fsspec.open

    def check(self) -> None:
        """Raise :class:`InputFolderError` unless the root lists as a folder."""
        try:
            entries = self.fs.ls(self.root, detail=True, refresh=True)
        except FileNotFoundError:
            raise InputFolderError(f"input folder {self.url} does not exist") from None
        # Storage libraries raise their own types for credentials and permissions
        # (botocore's NoCredentialsError, google.auth's errors): any of them is fatal here.
        except Exception as exc:
            raise InputFolderError(
                f"input folder {self.url} cannot be listed ({type(exc).__name__}: {exc})"
            ) from None
        if len(entries) == 1 and _is_the(entries[0], self.root) and entries[0]["type"] == "file":
            raise InputFolderError(f"input folder {self.url} is not a folder")

    def walk(self, patterns: Collection[str], **_local_only) -> Iterator[FoundFile]:
        """The files under the root that match any of ``patterns``, sorted by relative path.
        Object stores have no symlinks, and the run's outputs are never in them."""
        matchers = [glob_regex(p) for p in patterns]
        yield from self._walk(self.root, "", matchers)

    def _walk(self, folder: str, rel_prefix: str, matchers) -> Iterator[FoundFile]:
        try:
            entries = self.fs.ls(folder, detail=True, refresh=True)
        except OSError as exc:
            yield FoundFile(
                rel_prefix, self.fs.unstrip_protocol(folder), 0, 0, f"cannot list folder: {exc}"
            )
            return
        keyed = []
        for entry in entries:
            name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
            if _is_the(entry, folder) or name.startswith("."):
                continue
            is_folder = entry["type"] == "directory"
            keyed.append((name + "/" if is_folder else name, name, is_folder, entry))
        keyed.sort(key=lambda item: item[0])  # the local walk's order: a.png < a/b.png
        for _, name, is_folder, entry in keyed:
            rel_path = rel_prefix + name
            if is_folder:
                yield from self._walk(entry["name"].rstrip("/"), rel_path + "/", matchers)
            elif any(m.fullmatch(rel_path + "/") for m in matchers):
                url = self.fs.unstrip_protocol(entry["name"])
                yield FoundFile(rel_path, url, int(entry.get("size") or 0), _mtime_ns(entry))


def _is_the(entry: dict[str, Any], path: str) -> bool:
    return entry["name"].rstrip("/") == path.rstrip("/")


def _mtime_ns(entry: dict[str, Any]) -> int:
    """The entry's last-modified time in ns since the epoch; 0 when the listing has none
    (then ``--incremental`` compares the size alone)."""
    value = next((entry[k] for k in _MODIFIED_KEYS if entry.get(k) is not None), None)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return int(value.timestamp()) * 10**9 + value.microsecond * 1000
    return int(float(value) * 1e9) if value is not None else 0
