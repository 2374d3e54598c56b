"""``pvpp ml export|train|evaluate``: entry point ``main(argv) -> int``.

export   needs the optional ``ml`` extra (torch); train and evaluate need numpy, onnx and
onnxruntime only. Every command prints its progress.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ml_models.photo_classifier.spec import (
    EVALUATION_PATH,
    MODEL_CARD_PATH,
    MODEL_PATH,
    PACKAGE_DIR,
)

DEFAULT_PHOTO_EVAL = PACKAGE_DIR.parents[1].parent / "shared" / "photo_eval"
DEFAULT_BACKBONE = PACKAGE_DIR / "build" / "backbone.onnx"


def _parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(prog="pvpp ml", description="Photo classifier tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    export = commands.add_parser("export", help="export the pretrained backbone to ONNX (torch)")
    export.add_argument("--output", type=Path, default=DEFAULT_BACKBONE,
                        help=f"backbone ONNX to write (default {DEFAULT_BACKBONE})")

    train = commands.add_parser("train", help="fit the head and write model.onnx (no torch)")
    train.add_argument("--backbone", type=Path, default=None,
                       help="backbone ONNX from `export`, or a classifier whose head is replaced "
                            f"(default: {DEFAULT_BACKBONE} if present, else {MODEL_PATH.name})")
    train.add_argument("--output", type=Path, default=MODEL_PATH, help="model file to replace")
    train.add_argument("--photo-eval", type=Path, default=DEFAULT_PHOTO_EVAL,
                       help="photo_eval folder (only its MIT/Apache-2.0/CC BY photos train)")
    train.add_argument("--no-photo-eval", action="store_true", help="do not use photo_eval")
    train.add_argument("--extra-data", type=Path, action="append", default=[], metavar="DIR",
                       help="folder with labels.csv (file,category,licence,source); repeatable")

    evaluate = commands.add_parser("evaluate", help="measure stage 1 and stage 2 honestly")
    evaluate.add_argument("--model", type=Path, default=MODEL_PATH)
    evaluate.add_argument("--photo-eval", type=Path, default=DEFAULT_PHOTO_EVAL)
    evaluate.add_argument("--extra-data", type=Path, action="append", default=[], metavar="DIR")
    evaluate.add_argument("--output", type=Path, default=EVALUATION_PATH,
                          help="evaluation JSON to write")
    evaluate.add_argument("--model-card", type=Path, default=MODEL_CARD_PATH,
                          help="model card whose generated section is refreshed")
    evaluate.add_argument("--no-model-card", action="store_true")
    evaluate.add_argument("--no-latency", action="store_true", help="skip the latency benchmark")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return {"export": _export, "train": _train, "evaluate": _evaluate}[args.command](args)
    except Exception as exc:  # noqa: BLE001 - a CLI reports failures as one line and a non-zero code
        print(f"pvpp ml {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _export(args: argparse.Namespace) -> int:
    """Export the backbone."""
    from ml_models.photo_classifier.export import export_backbone

    export_backbone(args.output)
    return 0


def _train(args: argparse.Namespace) -> int:
    """Fit the head and write the model."""
    from ml_models.photo_classifier.train import train

    backbone = args.backbone or (DEFAULT_BACKBONE if DEFAULT_BACKBONE.is_file() else MODEL_PATH)
    result = train(backbone, args.output, extra=args.extra_data,
                   photo_eval=None if args.no_photo_eval else args.photo_eval)
    print(f"trained on {result.trained_on} photos {result.per_category}; "
          f"{result.skipped_licence} skipped (licence allows evaluation only)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    """Evaluate and write the JSON and the model card section."""
    from ml_models.photo_classifier.card import update_card
    from ml_models.photo_classifier.evaluate import evaluate

    result = evaluate(args.model, args.photo_eval, args.extra_data,
                      with_latency=not args.no_latency)
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    if not args.no_model_card:
        update_card(args.model_card, result)
        print(f"updated {args.model_card}")
    for key in ("stage1_all_photos", "stage2_held_out", "stage2_leave_one_out_trainable"):
        rep = result[key]
        print(f"{key}: n={rep['n']} accuracy={rep['accuracy']} "
              f"macro_recall={rep['macro_recall_measured']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
