"""Stage 2: a softmax head on [log stage-1 scores, L2-normalised embedding], fitted in numpy.

logits = log(stage1 + eps) @ A + normalise(embedding) @ W + b

The penalty pulls A towards the identity and W, b towards zero, so with no training photos the
head *is* stage 1. The loss is a softmax over the categories that have training photos only:
a category without photos keeps its stage-1 column untouched. (With a softmax over all seven,
photos of two categories taught the head to push the five others down for every image, and
held-out accuracy fell far below stage 1.) Categories are weighted equally whatever their
photo counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-6


@dataclass(frozen=True)
class HeadConfig:
    """Regularisation and optimiser settings (fixed a priori, not tuned on evaluation photos)."""

    l2_prior: float = 0.05
    l2_embedding: float = 0.01
    l2_bias: float = 0.05
    steps: int = 600
    learning_rate: float = 0.05


DEFAULT_CONFIG = HeadConfig()


@dataclass(frozen=True)
class Head:
    """Weights of the head: A (C, C), W (D, C), b (C,)."""

    prior_weight: np.ndarray
    embedding_weight: np.ndarray
    bias: np.ndarray

    @classmethod
    def identity(cls, n_classes: int, embedding_size: int) -> Head:
        """The head that reproduces stage 1 exactly."""
        return cls(np.eye(n_classes, dtype=np.float32),
                   np.zeros((embedding_size, n_classes), np.float32),
                   np.zeros(n_classes, np.float32))

    def logits(self, stage1: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """Head logits for (N, C) stage-1 probabilities and (N, D) raw embeddings."""
        prior, emb = features(stage1, embeddings)
        return prior @ self.prior_weight + emb @ self.embedding_weight + self.bias

    def probabilities(self, stage1: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """Softmax of :meth:`logits`."""
        return softmax(self.logits(stage1, embeddings))


def features(stage1: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two inputs of the head, computed exactly as the ONNX graph does."""
    prior = np.log(stage1.astype(np.float32) + np.float32(EPS))
    norm = np.sqrt((embeddings.astype(np.float32) ** 2).sum(axis=1, keepdims=True))
    return prior, embeddings / np.maximum(norm, np.float32(1e-12))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fit_head(stage1: np.ndarray, embeddings: np.ndarray, targets: np.ndarray, n_classes: int,
             config: HeadConfig = DEFAULT_CONFIG) -> Head:
    """Fit the head with Adam on the class-balanced cross-entropy plus the penalties above."""
    prior, emb = features(stage1, embeddings)
    prior, emb = prior.astype(np.float64), emb.astype(np.float64)
    if len(targets) == 0:
        return Head.identity(n_classes, emb.shape[1])
    onehot = np.eye(n_classes)[targets]
    counts = onehot.sum(axis=0)
    present = counts > 0
    sample_weight = (1.0 / (counts[targets] * present.sum()))[:, None]
    params = [np.eye(n_classes), np.zeros((emb.shape[1], n_classes)), np.zeros(n_classes)]
    anchors = [np.eye(n_classes), 0.0, 0.0]
    lambdas = [config.l2_prior, config.l2_embedding, config.l2_bias]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    absent = np.where(present, 0.0, -np.inf)
    for step in range(1, config.steps + 1):
        probs = softmax(prior @ params[0] + emb @ params[1] + params[2] + absent)
        delta = (probs - onehot) * sample_weight
        grads = [prior.T @ delta, emb.T @ delta, delta.sum(axis=0)]
        for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
            grad = grad + 2 * lambdas[i] * (param - anchors[i])
            moments[i] = 0.9 * moments[i] + 0.1 * grad
            squares[i] = 0.999 * squares[i] + 0.001 * grad**2
            m_hat = moments[i] / (1 - 0.9**step)
            v_hat = squares[i] / (1 - 0.999**step)
            params[i] = param - config.learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return Head(*(p.astype(np.float32) for p in params))
