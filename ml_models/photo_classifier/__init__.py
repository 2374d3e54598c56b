"""The photo-evidence classifier (ONNX). Not built yet: it arrives with the photo issue."""
