"""Record digests, second form (issue 14 item 2): the canonical text of a record is built by
SQLite (``digests.canonical_sql``), so ``audit verify --records`` reads one column a row.

The first form (Python's ``repr`` of each column) cannot be built in SQL, so the records are
moved on, not simply digested again: each record whose content still matches its last
first-form digest gets its second-form digest on a ``record.redigest`` event. A record that
does not match (changed outside probhealth before this upgrade) is left as it is, so
``audit verify --records`` keeps naming it, with the event that last recorded it.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ACTION = "record.redigest"


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    found = conn.exec_driver_sql("SELECT 1 FROM audit_event WHERE records IS NOT NULL LIMIT 1")
    if found.first() is None:
        return  # nothing recorded yet: a new database's db.init records the second form
    from probhealth.store import audit, digests

    last, _ = digests.recorded(conn)
    moved: dict[str, dict[str, str | None]] = {}
    for table, key, first_form, text in digests.legacy_scan(conn):
        if last.get(table.name, {}).get(key) == first_form:
            moved.setdefault(table.name, {})[key] = digests.digest_of(text)
    for piece in digests.chunks(moved):
        count = sum(len(v) for v in piece.values())
        audit.append_raw(
            conn,
            actor="probhealth",
            action=ACTION,
            entity="records",
            detail=f'{{"records":{count}}}',
            records=digests.encode(piece),
        )


def downgrade() -> None:
    raise RuntimeError("probhealth migrations are forward-only; restore a backup instead")
