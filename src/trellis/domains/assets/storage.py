"""The asset files on disk and the type check of an upload.

Files live in ``<data dir>/assets/<storage key>``; the key is a fresh UUID, so no part of a
path ever comes from the uploader. The type is decided by the content (magic bytes, the parts
of an Office file, UTF-8 text), and must agree with the file name's extension: a ``.pdf`` that
is really a ZIP, or an ``.exe`` renamed ``.png``, is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

from trellis.files import copy_private, open_private, private_dir

CHUNK = 1024 * 1024

# extension -> (kind, content type)
TYPES: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "svg": ("svg", "image/svg+xml"),
    "zip": ("zip", "application/zip"),
    "docx": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "txt": ("text", "text/plain; charset=utf-8"),
    "csv": ("text", "text/csv; charset=utf-8"),
    "mp4": ("mp4", "video/mp4"),
}
ALLOWED_EXTENSIONS = tuple(sorted(TYPES))
OFFICE_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
SVG_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^>]*>\s*)?<svg\b", re.S
)


class UnsupportedFile(Exception):
    """The upload is not one of the allowed types (or its content and name disagree)."""


class TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str
    extension: str
    content_type: str


def extension_of(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def _sniff(head: bytes, path: Path) -> str | None:
    """The kind of file the content is, or None for none we accept."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return None
        for kind, prefix in OFFICE_PARTS.items():
            if "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names):
                return kind
        return "zip"
    if b"\x00" in head:
        return None
    try:
        # A multi-byte character may be cut at the end of the sample.
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return None
    if SVG_START.match(head):
        return "svg"
    return "text"


class AssetStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            raise ValueError("not a storage key")
        return self.root / key

    def save(self, source: IO[bytes], filename: str, *, max_bytes: int) -> Stored:
        """Copy an upload into the store, checking its size and type; nothing is left behind
        when it is refused."""
        extension = extension_of(filename)
        if extension not in TYPES:
            raise UnsupportedFile(
                f"Files ending in .{extension or '(nothing)'} are not accepted; allowed: "
                + ", ".join(ALLOWED_EXTENSIONS)
                + "."
            )
        private_dir(self.root)
        key = uuid.uuid4().hex
        target = self.root / key
        partial = self.root / f".{key}.part"
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with open_private(partial) as handle:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"The file is larger than {max_bytes} bytes.")
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    handle.write(chunk)
            if size == 0:
                raise UnsupportedFile("The file is empty.")
            kind = _sniff(head, partial)
            expected = TYPES[extension][0]
            if kind != expected:
                raise UnsupportedFile(
                    f"The content of the file is not {extension.upper()}"
                    + (f" (it looks like {kind.upper()})." if kind else ".")
                )
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return Stored(key, size, digest.hexdigest(), extension, TYPES[extension][1])

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def copy(self, key: str) -> str:
        new = uuid.uuid4().hex
        copy_private(self.path(key), self.root / new)
        return new


class UnconfiguredAssetStore(AssetStore):
    """The store before the composition root wires the real one: it refuses every use, so that
    a command that forgot to configure it fails instead of writing files where it runs."""

    def __init__(self) -> None:
        super().__init__(Path("."))

    def _refuse(self) -> NoReturn:
        raise RuntimeError("Asset storage is not configured (see trellis.api.app.configure_mail).")

    def path(self, key: str) -> Path:
        self._refuse()

    def save(self, source: IO[bytes], filename: str, *, max_bytes: int) -> Stored:
        self._refuse()

    def delete(self, key: str) -> None:
        self._refuse()

    def copy(self, key: str) -> str:
        self._refuse()
