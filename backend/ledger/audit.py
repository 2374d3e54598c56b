"""Auditing the ledger in one streaming pass. Pure: no ORM, no I/O.

Feed every stored row in ``seq`` order to :class:`LedgerAuditor`, then call
:meth:`LedgerAuditor.finish`. Each row's content is re-encoded at its position and hashed; the
recomputed leaves go into one :class:`MerkleAccumulator` whose root is compared with every
signed checkpoint as the pass reaches its size, so memory stays O(log n) for the tree plus the
per-account sums and the (few) suspicious rows.

What each mechanism catches:

* a row whose content was changed but not its stored hash: ``tampered`` (or ``reordered`` when
  the content and hash are those written for another position);
* a row rewritten together with its stored hash: only the signed root can tell, so a
  ``checkpoint_mismatch`` names the range since the last checkpoint that still matches;
* deleted rows: ``missing`` (a gap, or fewer rows than the head or a signed checkpoint says);
* rows beyond the head: ``extra``; the same stored seq twice or out of order: ``duplicate``;
* edited or forged checkpoint rows: ``bad_signature``; edited balances: ``balance_mismatch``;
* stored Merkle nodes (which serve proofs) that differ from the recomputed tree, are missing
  or lie beyond it, and a head compact range that disagrees: ``node_mismatch``
  (:class:`NodeAuditor`).

Rows after the last checkpoint that were rewritten with their hash, and with balances to match,
cannot be detected by anyone until a checkpoint signs them; ``uncheckpointed`` counts them.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backend.ledger.entries import EntryRecord, entry_leaf_hash
from backend.ledger.merkle import MerkleAccumulator
from backend.ledger.signing import CheckpointError, open_checkpoint
from backend.ledger.tree import TreeState, node_key, split_key

TAMPERED = "tampered"
REORDERED = "reordered"
MISSING = "missing"
EXTRA = "extra"
DUPLICATE = "duplicate"
CHECKPOINT_MISMATCH = "checkpoint_mismatch"
BAD_SIGNATURE = "bad_signature"
BALANCE_MISMATCH = "balance_mismatch"
UNCHECKPOINTED = "uncheckpointed"
NODE_MISMATCH = "node_mismatch"
INFO_KINDS = frozenset({UNCHECKPOINTED})

_PLACEHOLDER = bytes(32)  # leaf of a missing or unreadable row: matches no signed root
_MAX_SUSPECTS = 10_000  # rows kept for the reorder search; later ones are reported at once
_MAX_GAP_CANDIDATES = 10_000


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or note): ``seq``..``last`` (inclusive) is the affected range, if any."""

    kind: str
    seq: int | None
    detail: str
    last: int | None = None

    @property
    def is_error(self) -> bool:
        return self.kind not in INFO_KINDS

    def covers(self, seq: int) -> bool:
        if self.seq is None:
            return False
        return self.seq <= seq <= (self.seq if self.last is None else self.last)

    def __str__(self) -> str:
        if self.seq is None:
            subject = ""
        elif self.last is None or self.last == self.seq:
            subject = f" entry {self.seq}"
        else:
            subject = f" entries {self.seq}..{self.last}"
        return f"{self.kind.upper()}{subject}: {self.detail}"


class SignedCheckpoint(NamedTuple):
    """A ``ledger_checkpoint`` row: the signed note, its columns and the stored peaks (hex)."""

    note: str
    tree_size: int
    root_hex: str
    peaks: Iterable[str] = ()


@dataclass
class AuditReport:
    findings: list[Finding]
    entries: int
    checkpoints: int
    uncheckpointed: int
    seconds: float
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not any(n for kind, n in self.counts.items() if kind not in INFO_KINDS)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def omitted(self) -> int:
        """Findings counted but not kept (beyond ``max_findings``)."""
        return sum(self.counts.values()) - len(self.findings)

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else 0.0


class LedgerAuditor:
    """Streams the ledger once; see the module docstring for what it reports."""

    def __init__(self, checkpoints: Iterable[SignedCheckpoint | tuple[Any, ...]], key_name: str,
                 public_key: Ed25519PublicKey, *, head_size: int | None = None,
                 max_findings: int = 10_000, reorder_budget: int = 200_000) -> None:
        self._started = time.perf_counter()
        self._findings: list[Finding] = []
        self._counts: Counter[str] = Counter()
        self._max_findings = max_findings
        self._reorder_budget = reorder_budget
        self._targets: dict[int, list[tuple[bytes, Any]]] = defaultdict(list)
        self._checkpoints = 0
        for row in checkpoints:
            self._open(SignedCheckpoint(*row), key_name, public_key)
        self._sizes = sorted(self._targets, reverse=True)  # popped from the end, smallest first
        self._signed_size = max(self._targets, default=0)
        self._head = head_size
        self._expected = self._signed_size if head_size is None else max(head_size, self._signed_size)
        self._acc = MerkleAccumulator()
        self._good = 0  # the ledger below this size agrees with a signed root
        self._next = 0  # the next position (seq) expected
        self._entries = 0
        self._unsigned = 0
        self._first_unsigned = 0
        self._sums: dict[tuple[str, str, str], int] = defaultdict(int)
        self._suspects: list[tuple[int, EntryRecord, str]] = []
        self._gaps: list[tuple[int, int]] = []
        self._check_checkpoints()

    @property
    def entries(self) -> int:
        return self._entries

    def feed(self, stored_seq: int, record: EntryRecord, stored_leaf_hash_hex: str) -> bytes | None:
        """Check one row; rows must come in increasing ``stored_seq`` order.

        Returns the leaf hash recomputed from the row's content (``None`` for a repeated seq).
        """
        if not self._advance(stored_seq):
            return None
        self._sums[(str(record.account), str(record.asset), record.scope)] += record.amount
        at_position = record if record.seq == stored_seq else dataclasses.replace(record, seq=stored_seq)
        leaf = entry_leaf_hash(at_position)
        if leaf.hex() != stored_leaf_hash_hex.lower():
            if len(self._suspects) < _MAX_SUSPECTS:
                self._suspects.append((stored_seq, record, stored_leaf_hash_hex))
            else:
                self._add(TAMPERED, stored_seq, "its content does not hash to its stored leaf hash")
        self._append(stored_seq, leaf)
        return leaf

    def feed_unreadable(self, stored_seq: int, reason: str) -> None:
        """A row whose columns cannot even be decoded into an entry."""
        if not self._advance(stored_seq):
            return
        self._add(TAMPERED, stored_seq, f"the row cannot be read as an entry ({reason})")
        self._append(stored_seq, _PLACEHOLDER)

    def finish(self, materialised_balances: Mapping[tuple[Any, Any, str], int] | None = None) -> AuditReport:
        """Close the pass: missing tail, remaining checkpoints, reorders, balances."""
        if self._next < self._expected:
            why = (f"a signed checkpoint covers {self._signed_size} entries"
                   if self._signed_size >= (self._head or 0) else f"the ledger head says {self._head}")
            self._missing(self._next, self._expected, f"no row, but {why}")
            self._fill(self._signed_size)
        self._classify_suspects()
        if self._unsigned:
            count = f"{self._unsigned} entries" if self._unsigned > 1 else "1 entry"
            self._add(UNCHECKPOINTED, self._first_unsigned, f"{count} after the last signed checkpoint "
                      f"(size {self._signed_size}) not yet covered by a signature", last=self._next - 1)
        if materialised_balances is not None:
            self._check_balances(materialised_balances)
        self._findings.sort(key=_order)
        return AuditReport(self._findings, self._entries, self._checkpoints, self._unsigned,
                           time.perf_counter() - self._started, self._counts)

    def _open(self, cp: SignedCheckpoint, key_name: str, public_key: Ed25519PublicKey) -> None:
        self._checkpoints += 1
        where = f"checkpoint of size {cp.tree_size}"
        try:
            signed = open_checkpoint(cp.note, key_name, public_key)
        except CheckpointError as exc:
            self._add(BAD_SIGNATURE, None, f"{where}: {exc}")
            return
        if signed.size != cp.tree_size or signed.root.hex() != str(cp.root_hex).lower():
            self._add(BAD_SIGNATURE, None, f"{where}: the signed note says size {signed.size} and root "
                      f"{signed.root.hex()}, the row says size {cp.tree_size} and root {cp.root_hex}")
        self._targets[signed.size].append((signed.root, cp.peaks))

    def _advance(self, seq: int) -> bool:
        """Account for gaps before ``seq``; False if ``seq`` was seen already."""
        self._entries += 1
        if seq < self._next:
            self._add(DUPLICATE, seq, f"appears again (or out of order) after entry {self._next - 1}")
            return False
        if seq > self._next:
            limit = seq if self._head is None else min(seq, self._expected)
            if limit > self._next:
                self._missing(self._next, limit, "no row: a gap in the sequence numbers")
            self._fill(min(seq, self._signed_size))
        if self._head is not None and seq >= self._expected:
            self._add(EXTRA, seq, f"lies beyond the ledger head (size {self._head}) "
                      "and no signed checkpoint covers it")
        if seq >= self._signed_size:
            if not self._unsigned:
                self._first_unsigned = seq
            self._unsigned += 1
        self._next = seq + 1
        return True

    def _append(self, seq: int, leaf: bytes) -> None:
        if seq < self._signed_size:
            self._acc.append(leaf)
            self._check_checkpoints()

    def _fill(self, size: int) -> None:
        while self._acc.size < size:
            self._acc.append(_PLACEHOLDER)
            self._check_checkpoints()

    def _missing(self, lo: int, hi: int, detail: str) -> None:
        self._gaps.append((lo, hi))
        self._add(MISSING, lo, detail, last=hi - 1)

    def _check_checkpoints(self) -> None:
        while self._sizes and self._sizes[-1] == self._acc.size:
            size = self._sizes.pop()
            root = self._acc.root()
            for signed_root, peaks in self._targets[size]:
                if root == signed_root:
                    self._good = size
                    continue
                lo = min(self._good, max(size - 1, 0))
                self._add(CHECKPOINT_MISMATCH, lo, f"the entries do not reproduce the signed "
                          f"root of the checkpoint of size {size}", last=size - 1)
                self._rebase(size, signed_root, peaks)

    def _rebase(self, size: int, signed_root: bytes, peaks: Any) -> None:
        """Continue from the stored peaks if they hash to the signed root (so are authentic)."""
        try:
            acc = MerkleAccumulator.from_state(size, [bytes.fromhex(p) for p in peaks or ()])
        except (TypeError, ValueError):
            return
        if acc.root() == signed_root:
            self._acc, self._good = acc, size

    def _classify_suspects(self) -> None:
        candidates = sorted({s for s, _, _ in self._suspects} | self._gap_positions())
        budget = self._reorder_budget
        for seq, record, stored_hex in self._suspects:
            try:
                stored = bytes.fromhex(stored_hex)
            except ValueError:
                self._add(TAMPERED, seq, "its stored leaf hash is not hexadecimal")
                continue
            tries = ([record.seq] if record.seq != seq else []) + candidates
            origin = None
            for k in tries:
                if budget <= 0:
                    break
                if k == seq:
                    continue
                budget -= 1
                if entry_leaf_hash(dataclasses.replace(record, seq=k)) == stored:
                    origin = k
                    break
            if origin is None:
                self._add(TAMPERED, seq, "its content does not hash to its stored leaf hash")
            else:
                self._add(REORDERED, seq, f"holds the record written as entry {origin}")

    def _gap_positions(self) -> set[int]:
        out: set[int] = set()
        for lo, hi in self._gaps:
            out.update(range(lo, min(hi, lo + _MAX_GAP_CANDIDATES - len(out))))
            if len(out) >= _MAX_GAP_CANDIDATES:
                break
        return out

    def _check_balances(self, materialised: Mapping[tuple[Any, Any, str], int]) -> None:
        stored = {(str(a), str(asset), str(scope)): int(v) for (a, asset, scope), v in materialised.items()}
        for key in sorted(stored.keys() | self._sums.keys()):
            have, want = stored.get(key, 0), self._sums.get(key, 0)
            if have != want:
                account, asset, scope = key
                self._add(BALANCE_MISMATCH, None, f"account {account} {asset} scope {scope!r}: "
                          f"materialised {have}, entries sum to {want}")

    def _add(self, kind: str, seq: int | None, detail: str, *, last: int | None = None) -> None:
        self._counts[kind] += 1
        if len(self._findings) < self._max_findings:
            self._findings.append(Finding(kind, seq, detail, last))


_MAX_NODE_FINDINGS = 10_000
_ROW_KINDS = frozenset({TAMPERED, REORDERED, MISSING, EXTRA, DUPLICATE, CHECKPOINT_MISMATCH})


def with_node_findings(report: AuditReport, node_findings: Iterable[Finding]) -> AuditReport:
    """Add the :class:`NodeAuditor` findings that no row finding explains already.

    A node over an edited, moved or missing row differs because the row does; it is reported
    only when its rows are otherwise clean (a tampered node, or a row rewritten with its hash
    after the last checkpoint). The head's compact range likewise when no row is at fault.
    """
    rows = [f for f in report.findings if f.kind in _ROW_KINDS]
    counts = Counter(report.counts)
    findings = list(report.findings)
    for finding in node_findings:
        if finding.seq is None:
            explained = finding.detail.startswith("the compact range") and bool(rows)
        else:
            explained = any(r.seq is not None and r.seq <= (finding.last or finding.seq)
                            and finding.seq <= (r.seq if r.last is None else r.last) for r in rows)
        if not explained:
            if len(findings) < _MAX_NODE_FINDINGS:
                findings.append(finding)
            counts[finding.kind] += 1
    findings.sort(key=_order)
    return dataclasses.replace(report, findings=findings, counts=counts)


class NodeAuditor:
    """Rebuilds the stored nodes from the recomputed leaves and compares them with ``ledger_node``.

    Feed the recomputed leaf of every position below the head in order (:meth:`append`); take
    the keys to look up with :meth:`pending` and pass the stored rows to :meth:`compare`.
    """

    def __init__(self, head_size: int) -> None:
        self.head_size = head_size
        self._state = TreeState(0, [])
        self._pending: dict[int, bytes] = {}

    def append(self, seq: int, leaf: bytes) -> None:
        if seq >= self.head_size:
            return
        while self._state.size < seq:  # a gap: what is missing matches nothing
            self._add_nodes(self._state.append([_PLACEHOLDER]))
        if self._state.size == seq:
            self._add_nodes(self._state.append([leaf]))

    def fill(self) -> None:
        """Account for rows missing at the end (below the head)."""
        if self._state.size < self.head_size:
            self.append(self.head_size - 1, _PLACEHOLDER)

    def _add_nodes(self, nodes: list[tuple[int, int, bytes]]) -> None:
        for level, index, h in nodes:
            self._pending[node_key(level, index)] = h

    def pending(self) -> list[int]:
        return sorted(self._pending)

    def compare(self, stored: Mapping[int, bytes]) -> list[Finding]:
        """Findings for the pending nodes, given the stored hashes of those keys."""
        out = []
        for key, want in sorted(self._pending.items()):
            have = stored.get(key)
            if have != want:
                level, index = split_key(key)
                what = "is missing" if have is None else "does not match the entries"
                out.append(Finding(NODE_MISMATCH, index << level, f"the stored Merkle node at level {level}, "
                                   f"index {index} {what}", last=((index + 1) << level) - 1))
        self._pending.clear()
        return out

    def finish(self, extra: int, head_peaks: Iterable[str] | None) -> list[Finding]:
        """Findings for ``extra`` stored nodes outside the tree's and a head compact range that differs."""
        out = []
        if extra:
            out.append(Finding(NODE_MISMATCH, None, f"{extra} stored Merkle nodes are not part of the "
                               f"tree of {self.head_size} entries"))
        if head_peaks is not None and list(head_peaks) != [p.hex() for p in self._state.peaks]:
            out.append(Finding(NODE_MISMATCH, None, "the compact range kept on the ledger head does not "
                               "match the entries (new stored nodes would be wrong)"))
        return out


_KIND_ORDER = {k: i for i, k in enumerate((BAD_SIGNATURE, MISSING, DUPLICATE, REORDERED, TAMPERED, EXTRA,
                                           CHECKPOINT_MISMATCH, NODE_MISMATCH, UNCHECKPOINTED,
                                           BALANCE_MISMATCH))}


def _order(f: Finding) -> tuple[int, int, int]:
    """Checkpoint signatures first, then findings by position, then balances."""
    group = 1 if f.seq is not None else 0 if f.kind == BAD_SIGNATURE else 2
    return group, f.seq or 0, _KIND_ORDER.get(f.kind, len(_KIND_ORDER))
