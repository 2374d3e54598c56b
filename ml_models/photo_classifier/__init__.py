"""The photo-evidence classifier: EfficientNet-Lite0 + ImageNet mapping + trained head, in ONNX.

Runtime code (``inference``, ``reload``, ``preprocessing``) needs only numpy, pillow and
onnxruntime; ``train``/``evaluate`` add the ``onnx`` package; ``export`` needs torch.
"""
