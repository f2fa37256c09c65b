"""The parts of ``audit verify --records`` that need no database (store/digests.py): what a
stale digest means, and the second process's output read back."""

from __future__ import annotations

import io

import pytest

from probhealth.store import digests

AT = [7, "abc", 3]


@pytest.mark.parametrize(
    ("events", "stale", "settled"),
    [
        ([{"k": "a"}, {"k": "b"}], {"a"}, True),  # edited: its last digest is current
        ([{"k": "a"}, {"k": "b"}], {"b"}, False),  # set back to its earlier content
        ([{"k": "a"}, {"k": "b"}], {"a", "b"}, False),  # changed to something else
        ([{"k": "a"}, {"k": None}], {"a", None}, True),  # deleted, and gone
        ([{"k": "a"}, {"k": None}], {None}, False),  # deleted, then put back
        ([{"k": "a", "j": "c"}, {"k": "b"}, {"k": "a"}], {"b"}, True),  # edited and edited back
    ],
    ids=["edited", "set-back", "changed", "deleted", "put-back", "edited-back"],
)
def test_a_stale_digest_settles_only_when_its_record_ends_as_recorded(events, stale, settled):
    """Both ways of settling them (record by record when few, by last digest when many)."""
    read = len({v for e in events for v in e.values()} - stale)  # the rows (current digests)
    assert digests._stale_settled(events, set(stale)) is settled
    assert digests._last_settled(events, set(stale), read) is settled


def test_many_stale_digests_are_settled_by_last_digest(monkeypatch):
    """Every record edited once: the check takes the C-level way, not record by record."""
    events = [{f"k{i}": f"old{i}" for i in range(100)}, {f"k{i}": f"new{i}" for i in range(100)}]
    stale = {f"old{i}" for i in range(100)}

    def refuse(*args: object) -> bool:
        raise AssertionError("looked up record by record")

    monkeypatch.setattr(digests, "_stale_settled", refuse)
    assert digests._settled(events, set(stale), 100, 100) == 100
    assert digests._settled(events, stale | {"new5"}, 99, 99) is None  # one deleted outside


def _frames(pieces: list[list[str] | None], at: list[object] = AT) -> bytes:
    out = io.BytesIO()
    digests.write_frames(out, at, pieces)
    return out.getvalue()


def test_the_second_process_output_reads_back_piece_by_piece(monkeypatch):
    monkeypatch.setattr(digests, "_FRAME", 2)  # several frames for one piece
    pieces: list[list[str] | None] = [["a" * 32, "b" * 32, "c" * 32], [], None, ["d" * 32]]
    assert digests.read_frames(_frames(pieces), AT, 4) == pieces
    assert digests.read_frames(_frames(pieces, [8, "abc", 3]), AT, 4) is None  # another head


@pytest.mark.parametrize("cut", [-1, -5, -40], ids=["end-mark", "frame", "header"])
def test_output_cut_short_is_refused(cut):
    with pytest.raises(ValueError):
        digests.read_frames(_frames([["a" * 32, "b" * 32]])[:cut], AT, 1)


def test_output_naming_a_piece_it_was_not_given_is_refused():
    with pytest.raises(ValueError):
        digests.read_frames(_frames([["a" * 32], ["b" * 32]]), AT, 1)
