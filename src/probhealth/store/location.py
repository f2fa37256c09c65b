"""Is a database path somewhere SQLite's locking cannot be trusted? (reliability row 5)

Network filesystems break SQLite's locks and WAL does not work over them; sync clients
(OneDrive, Dropbox, iCloud, Google Drive) copy the database file without its ``-wal``. We warn
rather than refuse: some offices keep data on a share by policy, and the worker must know.
"""

from __future__ import annotations

from pathlib import Path

NETWORK_FS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smbfs",
        "smb3",
        "afs",
        "9p",
        "fuse.sshfs",
        "sshfs",
        "davfs",
        "fuse.davfs2",
        "ncpfs",
        "glusterfs",
        "ceph",
        "fuse.rclone",
    }
)
SYNC_DIR_MARKERS = (
    "onedrive",
    "dropbox",
    "icloud drive",
    "mobile documents",
    "google drive",
    "googledrive",
    "box sync",
    "nextcloud",
    "owncloud",
)


def mount_fstype(path: Path, mounts_text: str | None = None) -> str | None:
    """The filesystem type of the mount holding ``path``, from ``/proc/mounts`` (Linux)."""
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = str(path)
    best: tuple[int, str] | None = None
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        prefix = mount_point.rstrip("/") + "/"
        if (target == mount_point or target.startswith(prefix) or mount_point == "/") and (
            best is None or len(mount_point) > best[0]
        ):
            best = (len(mount_point), parts[2])
    return best[1] if best else None


def where(path: Path, mounts_text: str | None = None) -> tuple[str, str] | None:
    """("sync", marker) / ("share", "") / ("network", fstype) for a risky location, else None."""
    try:
        resolved = path.resolve()
    except OSError:
        resolved = path
    lowered = str(resolved).lower()
    for marker in SYNC_DIR_MARKERS:
        if marker in lowered:
            return ("sync", marker)
    if str(resolved).startswith("\\\\"):
        return ("share", "")
    fstype = mount_fstype(resolved, mounts_text)
    if fstype and fstype.lower() in NETWORK_FS:
        return ("network", fstype)
    return None


def location_warning(path: Path, mounts_text: str | None = None) -> str | None:
    """One line to show the worker about the database's folder, or None when it is fine."""
    found = where(path, mounts_text)
    if found is None:
        return None
    kind, detail = found
    if kind == "sync":
        return (
            f"Warning: the database is in a synced folder ({detail}); sync can copy it "
            "half-written and lose answers. Keep it in a local folder (see {opt:db})."
        )
    if kind == "share":
        return "Warning: the database is on a network share; SQLite locking is unreliable there."
    return (
        f"Warning: the database is on a network filesystem ({detail}); SQLite locking is "
        "unreliable there and answers can be lost. Keep it on a local disk, or use PostgreSQL."
    )


def export_warning(path: Path, mounts_text: str | None = None) -> str | None:
    """One line about an export file's folder: health data there is copied off this machine."""
    found = where(path, mounts_text)
    if found is None:
        return None
    place = f"a synced folder ({found[1]})" if found[0] == "sync" else "a network folder"
    return (
        f"Warning: the export is going to {place}, so this health data will be copied off this "
        "computer. Prefer a local, encrypted folder."
    )
