"""Streaming reads (store/stream.py, maintenance.audit_rows) close their cursor however the
reading ends. On PostgreSQL they are server-side cursors: one left to the garbage collector
stays open on the server and psycopg warns (an error under this suite's warning filter);
export and ``suggest --all`` failed that way before the cursor was closed explicitly."""

from __future__ import annotations

import gc

from sqlalchemy import select
from sqlmodel import col

from probhealth.store.maintenance import audit_rows
from probhealth.store.models import Person
from probhealth.store.stream import stream
from tests.helpers import Cli, add_person


def _three_people(store) -> None:
    cli = Cli(store.target.path or store.target.url)
    for crn in ("X100001", "X100002", "X100003"):
        add_person(cli, crn)


def test_a_stream_left_halfway_closes_its_cursor(store):
    _three_people(store)
    with store.raw() as conn:
        rows = stream(conn, select(col(Person.crn)).order_by(col(Person.crn)))
        assert next(rows)[0] == "X100001"
    gc.collect()  # an unclosed server-side cursor would warn here
    with store.raw() as conn:  # and the connection is fit to use again
        got = [r[0] for r in stream(conn, select(col(Person.crn)).order_by(col(Person.crn)))]
    assert got == ["X100001", "X100002", "X100003"]


def test_audit_rows_left_halfway_close_their_cursor(store):
    _three_people(store)
    rows = audit_rows(store, batch=1)
    first = next(rows)
    rows.close()
    gc.collect()
    assert first[0] == min(r[0] for r in audit_rows(store))
    assert len(list(audit_rows(store))) >= 3
