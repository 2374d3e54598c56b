"""A classifier holder that picks up a new model file without a restart.

Workers call :meth:`ReloadingClassifier.get` (or ``predict*``) per job. At most once every
``check_interval`` seconds it stats the file; when (mtime, size, inode) changed it loads the new
file fully — validation and smoke run included — and only then swaps the reference, so a job
never sees a half-loaded model. A corrupt or missing replacement leaves the old model serving and
is reported in :attr:`last_error` and the log; the same broken file is not retried until it
changes again. Write new models with an atomic rename (``train`` does) to avoid loading a file
that is still being copied.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ml_models.photo_classifier.inference import (
    ModelUnavailable,
    PhotoClassifier,
    Prediction,
)

logger = logging.getLogger(__name__)

Fingerprint = tuple[int, int, int]


@dataclass(frozen=True)
class ReloadStatus:
    """What the holder serves and the last problem it saw, for health checks."""

    path: Path
    version: str | None
    loaded_at: float | None
    last_error: ModelUnavailable | None


class ReloadingClassifier:
    """Serves a PhotoClassifier and swaps it atomically when its file changes."""

    def __init__(self, path: Path | str, *, check_interval: float = 5.0,
                 loader: Callable[[Path], PhotoClassifier] = PhotoClassifier.load,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.check_interval = check_interval
        self._loader = loader
        self._clock = clock
        self._lock = threading.Lock()
        self._current: PhotoClassifier | None = None
        self._fingerprint: Fingerprint | None = None
        self._next_check = float("-inf")
        self.loaded_at: float | None = None
        self.last_error: ModelUnavailable | None = None

    def get(self) -> PhotoClassifier:
        """The model to use now; raises ModelUnavailable when none could ever be loaded."""
        self.maybe_reload()
        current = self._current
        if current is None:
            raise self.last_error or ModelUnavailable("missing", self.path, "never loaded")
        return current

    def predict(self, image: Image.Image) -> Prediction:
        """Classify one image with the current model."""
        return self.get().predict(image)

    def predict_batch(self, images: Sequence[Image.Image]) -> list[Prediction]:
        """Classify several images in one run with the current model."""
        return self.get().predict_batch(images)

    def status(self) -> ReloadStatus:
        """The served version and the last reload error, without checking the file."""
        current = self._current
        return ReloadStatus(self.path, current.version if current else None, self.loaded_at,
                            self.last_error)

    def maybe_reload(self, *, force: bool = False) -> bool:
        """Check the file if the interval has passed; return True when a new model was swapped in."""
        now = self._clock()
        first = self._current is None  # nothing served yet: wait for a load in progress
        if not (force or first) and now < self._next_check:
            return False
        if not self._lock.acquire(blocking=first):
            return False
        try:
            if first and self._current is not None:
                return False  # another thread loaded it while this one waited
            self._next_check = now + self.check_interval
            return self._reload_if_changed()
        finally:
            self._lock.release()

    def _reload_if_changed(self) -> bool:
        """Load the file when its fingerprint differs from the last one seen."""
        fingerprint = _fingerprint(self.path)
        if fingerprint is not None and fingerprint == self._fingerprint:
            return False
        if fingerprint is None and self._current is not None:
            if self.last_error is None or self.last_error.reason != "missing":
                self.last_error = ModelUnavailable("missing", self.path, "file disappeared; "
                                                   "still serving the previous model")
                logger.error("photo model file missing, keeping version %s", self._current.version)
            return False
        self._fingerprint = fingerprint
        try:
            new = self._loader(self.path)
        except ModelUnavailable as exc:
            self.last_error = exc
            kept = self._current.version if self._current else None
            logger.error("photo model reload failed (%s), serving version %s", exc, kept)
            return False
        old, self._current = self._current, new
        self.loaded_at = time.time()
        self.last_error = None
        logger.info("photo model loaded: version %s (was %s)", new.version,
                    old.version if old else None)
        return True


def _fingerprint(path: Path) -> Fingerprint | None:
    """(mtime_ns, size, inode) of the file, or None when it does not exist."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)
