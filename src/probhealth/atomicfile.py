"""Writing an output file so that nobody ever sees half of it (reliability rows 7, 12, 13).

The data goes to a private (0600) temporary file in the target's own folder, is flushed and
fsynced, then appears under the target name in one step: ``os.link`` when the target must not
be overwritten (fails if it appeared meanwhile), ``os.replace`` with ``--force``. On any error
or Ctrl-C the temporary file is removed. ``-`` means standard output.

Targets are checked first: no ``..`` in the path, the folder must exist, a folder or a symlink
is never a target, and an existing file needs ``--force``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from probhealth.errors import BadInput, StorageError


def output_path(text: str, option: str = "{opt:out}") -> Path:
    """An output file named on the command line, refused while it is still text: ``Path``
    would drop a trailing slash and turn "newdir/" into a file called "newdir"."""
    if not text.strip():
        raise BadInput(f"{option} is empty; give a file name.")
    if text.endswith(("/", os.sep)):
        raise BadInput(f"{option} {text!r} ends in a slash; give a file name, not a folder.")
    return Path(text)


def check_target(
    target: Path, *, force: bool, exists_hint: str = "Use {opt:force} to replace it."
) -> Path:
    """Refuse an output path we must not write (NUL, '..', a folder, a symlink, a missing
    folder, an existing file without ``force``); return it with ``~`` expanded."""
    text = str(target)
    if "\x00" in text:
        raise BadInput("The output path contains a NUL character.")
    if ".." in Path(text).parts or ".." in text.replace("\\", "/").split("/"):
        raise BadInput(f"The output path {text!r} contains '..'; give a plain path to the file.")
    if any(len(part) > 255 for part in Path(text).parts):
        raise BadInput("A part of the output path is longer than 255 characters.")
    try:
        return _check_existing(target.expanduser(), force=force, exists_hint=exists_hint)
    except OSError as exc:
        raise BadInput(
            f"Cannot use the output path: {exc.strerror or type(exc).__name__}."
        ) from None


def _check_existing(path: Path, *, force: bool, exists_hint: str) -> Path:
    if path.is_symlink():
        raise BadInput(f"{path} is a symbolic link; give the path of a regular file.")
    if path.is_dir():
        raise BadInput(
            f"{path} is a folder; give a file name inside it, e.g. {path / 'export.csv'}."
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(
            f"The folder {parent} does not exist; create it first or choose another {{opt:out}}."
        )
    if path.exists() and not force:
        raise BadInput(f"{path} already exists; nothing was written. {exists_hint}")
    if path.exists() and not path.is_file():
        raise BadInput(f"{path} is not a regular file.")
    return path


@contextlib.contextmanager
def atomic_text(
    target: Path | None, *, force: bool = False, bom: bool = False
) -> Iterator[IO[str]]:
    """Yield a text stream; on success it becomes ``target`` (None: standard output)."""
    if target is None:
        if bom:
            sys.stdout.write("\ufeff")
        yield sys.stdout
        sys.stdout.flush()
        return
    with _atomic(target, force=force, binary=False) as fh:
        if bom:
            fh.write("\ufeff")
        yield fh


def write_bytes(target: Path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``target`` the same way (0600, whole or not at all); its path."""
    with _atomic(target, force=force, binary=True) as fh:
        fh.write(data)
    return target.expanduser()


# Our temporary files: ".NAME.XXXXXXXX.partial" (tempfile.mkstemp's eight random characters:
# exports), ".NAME.PID-XXXXXXXX.partial" (the audit anchor and database backups, store/), and
# the "-journal" SQLite may leave beside a backup's.
_PARTIAL = re.compile(r"^\..+\.(?:[a-z0-9_]{8}|[0-9]+-[0-9a-f]{8})\.partial(-journal)?$")
_swept: list[Path] = []


def temporary_name(target: Path) -> Path:
    """A temporary name beside ``target`` that ``sweep_partials`` knows as ours (for writers
    that create the file themselves; they hold it with ``hold`` while writing)."""
    import secrets

    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")


def hold(fd: int) -> None:
    """Mark an open temporary file as being written, until it is closed or this process
    dies: ``sweep_partials`` leaves it alone."""
    _lock(fd, wait=True)


def _lock(fd: int, *, wait: bool) -> bool:
    """An exclusive advisory lock on an open temporary file: held while it is written, and
    released by the kernel when the writer dies, so a lock that can be taken marks a file
    nobody is writing any more. False where locks are not available."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def sweep_partials(folder: Path, *, report: bool = True) -> list[Path]:
    """Remove the temporary files that interrupted writes of ours left in ``folder`` (a
    killed identifiable export leaves one full of personal data). Only our own naming, our
    own regular 0600 files, untouched for two seconds, and only those no running write holds
    locked. ``report``: counted by ``take_swept`` (what an export says it removed)."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        found = _PARTIAL.match(entry.name)
        if not found:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not entry.is_file(follow_symlinks=False) or info.st_mode & 0o077:
                continue
            if uid is not None and info.st_uid != uid:
                continue
            if time.time() - info.st_mtime < 2:  # may be a new write not locked yet
                continue
            # A backup's journal goes with its file: kept while that is held.
            held = entry.path.removesuffix("-journal") if found.group(1) else entry.path
            try:
                fd = os.open(held, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except FileNotFoundError:
                if held == entry.path:
                    continue
                fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if _lock(fd, wait=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
        finally:
            os.close(fd)
    if report:
        _swept.extend(removed)
    return removed


def take_swept() -> list[Path]:
    """The stale temporary files removed since the last call (for the front end to say)."""
    out = list(_swept)
    _swept.clear()
    return out


@contextlib.contextmanager
def _atomic(target: Path, *, force: bool, binary: bool) -> Iterator[Any]:
    path = check_target(target, force=force)
    sweep_partials(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        _lock(fd, wait=True)  # marks it in use until written, or until this process dies
        os.fchmod(fd, 0o600)
        opened = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with opened as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise BadInput(
                    f"{path} appeared while exporting; nothing was written. Use {{opt:force}} to replace it."
                ) from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                if path.exists():  # filesystems without hard links: check, then rename
                    raise BadInput(
                        f"{path} appeared while exporting; nothing was written."
                    ) from None
                os.replace(tmp, path)
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise StorageError(
                "The disk is full; the export was not written.",
                hint="Free some space and try again.",
            ) from None
        raise StorageError(f"Could not write {path}: {exc.strerror or exc}.") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
