"""Per-class precision/recall and confusion matrices as plain JSON-ready dicts."""

from __future__ import annotations

from collections.abc import Sequence

from ml_models.photo_classifier.spec import CATEGORIES, INVALID

# Below 6 photos one photo moves recall by 0.2 or more, and small classes are often a few
# views of one scene (laundry_appliance's 5 include three views of one washer).
MIN_SUPPORT = 6


def report(truth: Sequence[str], predicted: Sequence[str],
           labels: Sequence[str] = CATEGORIES) -> dict:
    """Accuracy, per-class precision/recall/support and the confusion matrix (rows = truth).

    A class with fewer than MIN_SUPPORT true photos is marked unmeasured: its recall is shown
    but means little, and it is left out of the macro average.
    """
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    per_class = {}
    for i, label in enumerate(labels):
        support = sum(matrix[i])
        predicted_n = sum(row[i] for row in matrix)
        hits = matrix[i][i]
        per_class[label] = {
            "support": support, "predicted": predicted_n,
            "precision": _ratio(hits, predicted_n), "recall": _ratio(hits, support),
            "measured": support >= MIN_SUPPORT,
        }
    measured = [v["recall"] for v in per_class.values() if v["measured"]]
    correct = sum(matrix[i][i] for i in range(len(labels)))
    return {
        "n": len(truth), "accuracy": _ratio(correct, len(truth)),
        "macro_recall_measured": round(sum(measured) / len(measured), 4) if measured else None,
        "per_class": per_class,
        "invalid_gate": _gate(truth, predicted),
        "confusion": {"labels": list(labels), "rows_truth_columns_predicted": matrix},
    }


def routing_figures(per_photo: Sequence[dict]) -> dict:
    """Stage-2 confidences on held-out photos that the routing thresholds must clear.

    ``per_photo`` rows as in evaluation.json. Auto-accept must lie above every wrong evidence
    answer (a wrong category, or an invalid photo taken for evidence); auto-reject as invalid
    above every genuine photo the model called invalid.
    """
    held = [r for r in per_photo if not r["trained_on"]]
    wrong = [r["stage2_confidence"] for r in held if r["stage2"] not in (r["truth"], INVALID)]
    rejected = [r["stage2_confidence"] for r in held
                if r["truth"] != INVALID and r["stage2"] == INVALID]
    return {
        "held_out_photos": len(held),
        "wrong_evidence_answers": len(wrong),
        "wrong_evidence_confidence_max": max(wrong, default=None),
        "evidence_called_invalid": len(rejected),
        "evidence_called_invalid_confidence_min": min(rejected, default=None),
        "evidence_called_invalid_confidence_max": max(rejected, default=None),
    }


def _gate(truth: Sequence[str], predicted: Sequence[str]) -> dict:
    """The accept/reject view: evidence photos called invalid, invalid photos accepted."""
    evidence = [p for t, p in zip(truth, predicted, strict=True) if t != INVALID]
    invalid = [p for t, p in zip(truth, predicted, strict=True) if t == INVALID]
    return {
        "evidence_rejected_as_invalid": _ratio(sum(p == INVALID for p in evidence), len(evidence)),
        "invalid_accepted_as_evidence": _ratio(sum(p != INVALID for p in invalid), len(invalid)),
        "evidence_photos": len(evidence), "invalid_photos": len(invalid),
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded, or None when undefined."""
    return round(numerator / denominator, 4) if denominator else None
