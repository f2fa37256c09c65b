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


def location_warning(path: Path, mounts_text: str | None = None) -> str | None:
    """One line to show the worker, or None when the location is fine."""
    try:
        resolved = path.resolve()
    except OSError:
        resolved = path
    lowered = str(resolved).lower()
    for marker in SYNC_DIR_MARKERS:
        if marker in lowered:
            return (
                f"Warning: the database is in a synced folder ({marker}); sync can copy it "
                "half-written and lose answers. Keep it in a local folder (see --db)."
            )
    if str(resolved).startswith("\\\\"):
        return "Warning: the database is on a network share; SQLite locking is unreliable there."
    fstype = mount_fstype(resolved, mounts_text)
    if fstype and fstype.lower() in NETWORK_FS:
        return (
            f"Warning: the database is on a network filesystem ({fstype}); SQLite locking is "
            "unreliable there and answers can be lost. Keep it on a local disk, or use PostgreSQL."
        )
    return None
