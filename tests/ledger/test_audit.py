"""The pure ledger auditor: each finding kind, and a property over single random mutations."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.ledger import audit, signing
from backend.ledger.audit import Finding, LedgerAuditor, SignedCheckpoint
from backend.ledger.entries import Asset, EntryKind, EntryRecord, entry_leaf_hash
from backend.ledger.merkle import MerkleAccumulator

NAME = "test.example/ledger"
KEY = signing.private_key_from_seed(hashlib.sha256(b"audit key").digest())
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACCOUNTS = [uuid.UUID(int=i + 1) for i in range(4)]

Row = tuple[int, EntryRecord, str]


def make_records(n: int) -> list[EntryRecord]:
    assets = list(Asset)
    return [
        EntryRecord(seq=i, txn=uuid.UUID(int=1000 + i // 2), kind=list(EntryKind)[i % 5],
                    account=ACCOUNTS[i % 4], asset=assets[i % 3], scope="11" if i % 3 == 2 else "",
                    amount=(i % 9 + 1) * (-1 if i % 4 == 3 else 1), ref=f"r:{i}", at=T0 + timedelta(minutes=i))
        for i in range(n)
    ]


def rows_of(records: Sequence[EntryRecord]) -> list[Row]:
    return [(r.seq, r, entry_leaf_hash(r).hex()) for r in records]


def checkpoints_of(rows: Sequence[Row], sizes: Sequence[int], key=KEY) -> list[SignedCheckpoint]:
    acc, out = MerkleAccumulator(), []
    for _, _, h in rows:
        acc.append(bytes.fromhex(h))
        if acc.size in sizes:
            note = signing.sign_checkpoint(signing.Checkpoint(NAME, acc.size, acc.root()), NAME, key)
            out.append(SignedCheckpoint(note, acc.size, acc.root().hex(), [p.hex() for p in acc.peaks]))
    return out


def balances_of(records: Sequence[EntryRecord]) -> dict[tuple[uuid.UUID, str, str], int]:
    out: dict[tuple[uuid.UUID, str, str], int] = defaultdict(int)
    for r in records:
        out[(r.account, str(r.asset), r.scope)] += r.amount
    return dict(out)


def audit_rows(rows, checkpoints, balances=None, head=None, **kw) -> audit.AuditReport:
    auditor = LedgerAuditor(checkpoints, NAME, KEY.public_key(), head_size=head, **kw)
    for seq, record, stored in rows:
        auditor.feed(seq, record, stored)
    return auditor.finish(balances)


def clean(n: int = 20, sizes: Sequence[int] = (8, 20)):
    records = make_records(n)
    rows = rows_of(records)
    return records, rows, checkpoints_of(rows, sizes), balances_of(records)


def kinds(report) -> list[str]:
    return [f.kind for f in report.findings]


def test_a_clean_ledger_is_ok():
    _, rows, cps, balances = clean()
    report = audit_rows(rows, cps, balances, head=20)
    assert report.ok and report.findings == []
    assert (report.entries, report.checkpoints, report.uncheckpointed) == (20, 2, 0)
    assert report.seconds > 0 and report.rate > 0


def test_the_empty_ledger_is_ok():
    report = audit_rows([], [], {}, head=0)
    assert report.ok and report.entries == 0


def test_entries_after_the_last_checkpoint_are_only_noted():
    _, rows, cps, balances = clean(20, (8,))
    report = audit_rows(rows, cps, balances, head=20)
    assert report.ok and report.uncheckpointed == 12
    (note,) = report.findings
    assert (note.kind, note.seq, note.last, note.is_error) == (audit.UNCHECKPOINTED, 8, 19, False)


def test_a_changed_row_is_tampered():
    records, rows, cps, balances = clean()
    rows[5] = (5, dataclasses.replace(records[5], amount=999), rows[5][2])
    report = audit_rows(rows, cps, balances, head=20)
    assert not report.ok
    assert str(next(f for f in report.findings if f.kind == audit.TAMPERED)) == \
        "TAMPERED entry 5: its content does not hash to its stored leaf hash"
    assert Finding(audit.CHECKPOINT_MISMATCH, 0, report.findings[0].detail, 7) in report.findings
    assert audit.BALANCE_MISMATCH in kinds(report)


def test_a_row_rewritten_with_its_hash_is_localised_by_the_checkpoints():
    records, rows, cps, balances = clean()
    forged = dataclasses.replace(records[12], ref="r:forged")
    rows[12] = (12, forged, entry_leaf_hash(forged).hex())
    report = audit_rows(rows, cps, balances, head=20)
    assert kinds(report) == [audit.CHECKPOINT_MISMATCH]
    assert str(report.findings[0]) == ("CHECKPOINT_MISMATCH entries 8..19: the entries do not reproduce "
                                       "the signed root of the checkpoint of size 20")


def test_authentic_peaks_keep_later_checkpoints_independent():
    records, rows, _, balances = clean()
    forged = dataclasses.replace(records[3], ref="r:forged")
    rows[3] = (3, forged, entry_leaf_hash(forged).hex())
    cps = checkpoints_of(rows_of(records), (8, 20))
    report = audit_rows(rows, cps, balances, head=20)
    assert [(f.kind, f.seq, f.last) for f in report.findings] == [(audit.CHECKPOINT_MISMATCH, 0, 7)]
    without_peaks = [cp._replace(peaks=()) for cp in cps]
    report = audit_rows(rows, without_peaks, balances, head=20)
    assert [(f.seq, f.last) for f in report.findings] == [(0, 7), (0, 19)]
    forged_peaks = [cp._replace(peaks=[bytes(32).hex()] * len(list(cp.peaks))) for cp in cps]
    report = audit_rows(rows, forged_peaks, balances, head=20)
    assert [(f.seq, f.last) for f in report.findings] == [(0, 7), (0, 19)]


def test_swapped_rows_are_reordered():
    _, rows, cps, balances = clean()
    rows[2], rows[9] = (2, rows[9][1], rows[9][2]), (9, rows[2][1], rows[2][2])
    report = audit_rows(rows, cps, balances, head=20)
    assert [str(f) for f in report.findings if f.kind == audit.REORDERED] == [
        "REORDERED entry 2: holds the record written as entry 9",
        "REORDERED entry 9: holds the record written as entry 2",
    ]
    assert audit.BALANCE_MISMATCH not in kinds(report)


def test_a_deleted_row_is_missing():
    _, rows, cps, balances = clean()
    del rows[6]
    report = audit_rows(rows, cps, balances, head=20)
    assert "MISSING entry 6: no row: a gap in the sequence numbers" in map(str, report.findings)


def test_deleted_rows_at_the_end_are_missing_by_head_or_checkpoint():
    _, rows, cps, balances = clean()
    report = audit_rows(rows[:17], cps, balances, head=20)
    missing = [f for f in report.findings if f.kind == audit.MISSING]
    assert [(f.seq, f.last) for f in missing] == [(17, 19)]
    assert "signed checkpoint covers 20 entries" in missing[0].detail
    _, rows, cps, balances = clean(20, (8,))
    report = audit_rows(rows[:17], cps, balances, head=20)
    assert [(f.seq, f.last, f.detail) for f in report.findings if f.kind == audit.MISSING] == [
        (17, 19, "no row, but the ledger head says 20")]


def test_a_moved_row_is_missing_and_reordered_and_extra():
    _, rows, cps, balances = clean()
    _, record, stored = rows.pop(4)
    rows.append((1000, record, stored))
    report = audit_rows(rows, cps, balances, head=20)
    assert [str(f) for f in report.errors if f.kind != audit.CHECKPOINT_MISMATCH] == [
        "MISSING entry 4: no row: a gap in the sequence numbers",
        "REORDERED entry 1000: holds the record written as entry 4",
        "EXTRA entry 1000: lies beyond the ledger head (size 20) and no signed checkpoint covers it",
    ]


def test_without_a_head_gaps_up_to_the_last_row_are_missing():
    _, rows, cps, balances = clean()
    _, record, stored = rows.pop(4)
    rows.append((30, record, stored))
    report = audit_rows(rows, cps, balances)
    assert [(f.seq, f.last) for f in report.findings if f.kind == audit.MISSING] == [(4, 4), (20, 29)]


def test_a_repeated_seq_is_a_duplicate():
    records, rows, cps, balances = clean()
    copy = dataclasses.replace(records[7], ref="r:copy")
    rows.insert(8, (7, copy, entry_leaf_hash(copy).hex()))
    report = audit_rows(rows, cps, balances, head=20)
    assert [(f.kind, f.seq) for f in report.findings] == [(audit.DUPLICATE, 7)]


def test_unreadable_rows_are_tampered():
    _, rows, cps, _ = clean()
    auditor = LedgerAuditor(cps, NAME, KEY.public_key(), head_size=20)
    for seq, record, stored in rows:
        if seq == 3:
            auditor.feed_unreadable(3, "bad time")
        else:
            auditor.feed(seq, record, stored)
    report = auditor.finish()
    assert "TAMPERED entry 3: the row cannot be read as an entry (bad time)" in map(str, report.findings)


def test_a_stored_hash_that_is_not_hex_is_tampered():
    _, rows, cps, balances = clean()
    rows[1] = (1, rows[1][1], "zz")
    report = audit_rows(rows, cps, balances, head=20)
    assert "TAMPERED entry 1: its stored leaf hash is not hexadecimal" in map(str, report.findings)


def test_checkpoints_with_bad_signatures_are_reported_and_ignored():
    _, rows, cps, balances = clean()
    other = signing.private_key_from_seed(bytes(32))
    forged = checkpoints_of(rows, (8,), key=other)[0]
    edited = cps[1]._replace(tree_size=21)
    mangled = cps[0]._replace(note=cps[0].note.replace("\n\n", "\n"))
    report = audit_rows(rows, [forged, edited, mangled], balances, head=20)
    details = [f.detail for f in report.findings if f.kind == audit.BAD_SIGNATURE]
    assert details == [
        f"checkpoint of size 8: no signature by {NAME} on the checkpoint",
        (f"checkpoint of size 21: the signed note says size 20 and root {cps[1].root_hex}, "
         f"the row says size 21 and root {cps[1].root_hex}"),
        "checkpoint of size 8: the note has no signature block",
    ]
    assert report.checkpoints == 3
    assert audit.CHECKPOINT_MISMATCH not in kinds(report)  # the signed size 20 still matches


def test_balances_must_equal_the_sum_of_entries():
    records, rows, cps, balances = clean()
    key = (ACCOUNTS[1], "volunteer_minutes", "")
    balances[key] += 5
    balances[(uuid.UUID(int=99), "points", "")] = 7
    del balances[(ACCOUNTS[0], "points", "")]
    report = audit_rows(rows, cps, balances, head=20)
    assert [str(f) for f in report.findings] == [
        (f"BALANCE_MISMATCH: account {ACCOUNTS[0]} points scope '': materialised 0, entries sum to "
         f"{sum(r.amount for r in records if r.account == ACCOUNTS[0] and r.asset == Asset.POINTS)}"),
        (f"BALANCE_MISMATCH: account {ACCOUNTS[1]} volunteer_minutes scope '': materialised "
         f"{balances[key]}, entries sum to {balances[key] - 5}"),
        f"BALANCE_MISMATCH: account {uuid.UUID(int=99)} points scope '': materialised 7, entries sum to 0",
    ]


def test_findings_beyond_the_limit_are_counted():
    _, rows, cps, balances = clean()
    rows = [(s, dataclasses.replace(r, ref=r.ref + "x"), h) for s, r, h in rows]
    report = audit_rows(rows, cps, balances, head=20, max_findings=5)
    assert len(report.findings) == 5 and report.counts[audit.TAMPERED] == 20
    assert report.omitted == sum(report.counts.values()) - 5 and not report.ok


def test_finding_text_and_ranges():
    assert str(Finding(audit.MISSING, 7, "gone")) == "MISSING entry 7: gone"
    assert str(Finding(audit.MISSING, 7, "gone", 9)) == "MISSING entries 7..9: gone"
    assert str(Finding(audit.BAD_SIGNATURE, None, "x")) == "BAD_SIGNATURE: x"
    assert Finding(audit.MISSING, 7, "", 9).covers(9) and not Finding(audit.MISSING, 7, "").covers(8)
    assert not Finding(audit.BALANCE_MISMATCH, None, "").covers(0)


# --- property: one mutation of the entry rows is always found, by the stated mechanism ----------
#
# Attack model: the attacker edits ledger_entry rows only; the head, the balances and the signed
# checkpoints (one covering every entry, maybe an earlier one) keep their values. Then:
#   edit a field, stored hash kept       -> TAMPERED at the row
#   edit a field and recompute the hash  -> CHECKPOINT_MISMATCH over a range containing the row
#   swap two rows (content and hash)     -> REORDERED at both rows, each naming the other
#   delete a row                         -> MISSING at its seq
#   move a row to an unused seq          -> MISSING at the old seq; REORDERED (hash kept) or
#                                           EXTRA (hash recomputed) at the new one
#   insert a forged row with a correct hash at p, renumbering the rows after it
#                                        -> CHECKPOINT_MISMATCH containing p if p < n; EXTRA at
#                                           p = n (a correct append is found only because the
#                                           head and the balances were not updated with it)
#   a second row with an existing seq    -> DUPLICATE at that seq (the database's key forbids it)

FIELDS = ["amount", "account", "asset", "kind", "ref", "scope", "at", "txn"]


def _edit(record: EntryRecord, name: str) -> EntryRecord:
    value = {
        "amount": record.amount + 1 if record.amount != -1 else 5,
        "account": uuid.UUID(int=record.account.int + 100),
        "asset": next(a for a in Asset if a != record.asset),
        "kind": next(k for k in EntryKind if k != record.kind),
        "ref": record.ref + "'",
        "scope": record.scope + "9",
        "at": record.at + timedelta(microseconds=1),
        "txn": uuid.uuid5(record.txn, "forged"),
    }[name]
    return dataclasses.replace(record, **{name: value})


def _errors_covering(report, seq: int, kind: str | None = None) -> list[Finding]:
    return [f for f in report.errors if f.covers(seq) and (kind is None or f.kind == kind)]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(1, 60))
def test_any_single_mutation_is_detected_and_located(data, n):
    records = make_records(n)
    rows = rows_of(records)
    early = data.draw(st.integers(0, n), label="earlier checkpoint")
    cps = checkpoints_of(rows, sorted({early, n} - {0}))
    balances = balances_of(records)

    assert audit_rows(rows, cps, balances, head=n).ok

    mutations = ["edit", "rehash", "delete", "move", "insert", "duplicate"] + (["swap"] if n > 1 else [])
    mutation = data.draw(st.sampled_from(mutations), label="mutation")
    i = data.draw(st.integers(0, n - 1), label="row")
    if mutation in ("edit", "rehash"):
        changed = _edit(records[i], data.draw(st.sampled_from(FIELDS), label="field"))
        stored = entry_leaf_hash(changed).hex() if mutation == "rehash" else rows[i][2]
        rows[i] = (i, changed, stored)
    elif mutation == "swap":
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i), label="other")
        rows[i], rows[j] = (i, records[j], rows[j][2]), (j, records[i], rows[i][2])
    elif mutation == "delete":
        del rows[i]
    elif mutation == "move":
        to = data.draw(st.integers(n, n + 50), label="to")
        rehash = data.draw(st.booleans(), label="rehash")
        moved = dataclasses.replace(records[i], seq=to)
        rows.pop(i)
        rows.append((to, records[i], entry_leaf_hash(moved).hex() if rehash else rows_of(records)[i][2]))
    elif mutation == "insert":
        i = data.draw(st.integers(0, n), label="at")
        forged = dataclasses.replace(records[0], seq=i, ref="r:forged", amount=50)
        rows = rows[:i] + [(i, forged, entry_leaf_hash(forged).hex())] + [(s + 1, r, h) for s, r, h in rows[i:]]
    else:
        copy = dataclasses.replace(records[i], ref="r:copy")
        rows.insert(i + 1, (i, copy, entry_leaf_hash(copy).hex()))

    report = audit_rows(rows, cps, balances, head=n)

    assert not report.ok
    if mutation == "edit":
        assert _errors_covering(report, i, audit.TAMPERED)
    elif mutation == "rehash":
        assert _errors_covering(report, i, audit.CHECKPOINT_MISMATCH)
        assert not _errors_covering(report, i, audit.TAMPERED)
    elif mutation == "swap":
        assert f"REORDERED entry {i}: holds the record written as entry {j}" in map(str, report.findings)
        assert f"REORDERED entry {j}: holds the record written as entry {i}" in map(str, report.findings)
    elif mutation == "delete":
        assert _errors_covering(report, i, audit.MISSING)
    elif mutation == "move":
        assert _errors_covering(report, i, audit.MISSING)
        if rehash:
            assert _errors_covering(report, to, audit.EXTRA)
        else:
            assert f"REORDERED entry {to}: holds the record written as entry {i}" in map(str, report.findings)
    elif mutation == "insert":
        assert _errors_covering(report, i, audit.CHECKPOINT_MISMATCH if i < n else audit.EXTRA)
        if i == n:
            assert audit.BALANCE_MISMATCH in kinds(report)
    else:
        assert _errors_covering(report, i, audit.DUPLICATE)
