"""Splice stage 1 and the stage-2 head onto the backbone ONNX graph (needs the ``onnx`` package).

The result is one graph: image -> backbone -> ImageNet softmax -> stage-1 category scores, and
[log stage-1, normalised embedding] -> MatMul + Add -> softmax. Head nodes and weights carry the
``pvpp_head/`` prefix so :func:`strip_head` can recover the backbone from a shipped model, which
is how ``train`` runs without torch and without a second 18 MB file.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ml_models.photo_classifier.head import EPS, Head
from ml_models.photo_classifier.spec import (
    EMBEDDING_OUTPUT,
    HEAD_PREFIX,
    IMAGENET_LOGITS_OUTPUT,
    IMAGENET_PROBS_OUTPUT,
    PROBABILITIES_OUTPUT,
    STAGE1_OUTPUT,
)

BACKBONE_OUTPUTS = (EMBEDDING_OUTPUT, IMAGENET_LOGITS_OUTPUT)
MODEL_OUTPUTS = (PROBABILITIES_OUTPUT, STAGE1_OUTPUT, IMAGENET_PROBS_OUTPUT, EMBEDDING_OUTPUT)


def strip_head(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with only the backbone: head nodes, weights and metadata removed."""
    backbone = onnx.ModelProto()
    backbone.CopyFrom(model)
    graph = backbone.graph
    keep_nodes = [n for n in graph.node if not n.name.startswith(HEAD_PREFIX)]
    keep_inits = [t for t in graph.initializer if not t.name.startswith(HEAD_PREFIX)]
    outputs = {o.name: o for o in graph.output}
    missing = [name for name in BACKBONE_OUTPUTS if name not in outputs
               and not any(name in n.output for n in keep_nodes)]
    if missing:
        raise ValueError(f"not a photo-classifier backbone: no {missing}")
    del graph.node[:]
    graph.node.extend(keep_nodes)
    del graph.initializer[:]
    graph.initializer.extend(keep_inits)
    del graph.output[:]
    graph.output.extend(_float_output(name, outputs.get(name)) for name in BACKBONE_OUTPUTS)
    del graph.value_info[:]
    del backbone.metadata_props[:]
    return backbone


def _float_output(name: str, existing: onnx.ValueInfoProto | None) -> onnx.ValueInfoProto:
    """Reuse the declared output type when present; otherwise a (batch, ?) float tensor."""
    if existing is not None:
        return existing
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", None])


def attach_head(backbone: onnx.ModelProto, head: Head, mapping: np.ndarray, metadata: dict[str, str],
                n_imagenet: int = 1000) -> onnx.ModelProto:
    """The full classifier: ``backbone`` (head-less) plus stage 1, the head and ``metadata``."""
    model = onnx.ModelProto()
    model.CopyFrom(backbone)
    graph = model.graph
    n_classes = head.bias.shape[0]
    p = HEAD_PREFIX
    graph.initializer.extend([
        numpy_helper.from_array(mapping.astype("float32"), p + "imagenet_to_category"),
        numpy_helper.from_array(head.prior_weight, p + "prior_weight"),
        numpy_helper.from_array(head.embedding_weight, p + "embedding_weight"),
        numpy_helper.from_array(head.bias, p + "bias"),
        numpy_helper.from_array(np.asarray(EPS, np.float32), p + "eps"),
    ])
    graph.node.extend([
        helper.make_node("Softmax", [IMAGENET_LOGITS_OUTPUT], [IMAGENET_PROBS_OUTPUT],
                         name=p + "imagenet_softmax", axis=1),
        helper.make_node("MatMul", [IMAGENET_PROBS_OUTPUT, p + "imagenet_to_category"],
                         [STAGE1_OUTPUT], name=p + "stage1"),
        helper.make_node("Add", [STAGE1_OUTPUT, p + "eps"], [p + "stage1_eps"], name=p + "add_eps"),
        helper.make_node("Log", [p + "stage1_eps"], [p + "stage1_log"], name=p + "log"),
        helper.make_node("LpNormalization", [EMBEDDING_OUTPUT], [p + "embedding_l2"],
                         name=p + "l2_normalise", axis=1, p=2),
        helper.make_node("MatMul", [p + "stage1_log", p + "prior_weight"], [p + "prior_logits"],
                         name=p + "prior_matmul"),
        helper.make_node("MatMul", [p + "embedding_l2", p + "embedding_weight"],
                         [p + "embedding_logits"], name=p + "embedding_matmul"),
        helper.make_node("Add", [p + "prior_logits", p + "embedding_logits"], [p + "sum_logits"],
                         name=p + "add_logits"),
        helper.make_node("Add", [p + "sum_logits", p + "bias"], [p + "logits"], name=p + "add_bias"),
        helper.make_node("Softmax", [p + "logits"], [PROBABILITIES_OUTPUT], name=p + "softmax",
                         axis=1),
    ])
    sizes = {PROBABILITIES_OUTPUT: n_classes, STAGE1_OUTPUT: n_classes,
             IMAGENET_PROBS_OUTPUT: n_imagenet, EMBEDDING_OUTPUT: head.embedding_weight.shape[0]}
    del graph.output[:]
    graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", sizes[name]])
                        for name in MODEL_OUTPUTS)
    del model.metadata_props[:]
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model

