"""Hot reload: a new file is picked up after the interval; a corrupt one keeps the old model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import onnx
import pytest

from ml_models.photo_classifier import spec
from ml_models.photo_classifier.inference import ModelUnavailable
from ml_models.photo_classifier.reload import ReloadingClassifier


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _replace(target: Path, source: Path) -> None:
    """Atomic replacement, as train does it."""
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


@pytest.fixture(scope="module")
def second_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed model with another version string."""
    model = onnx.load(str(spec.MODEL_PATH))
    for prop in model.metadata_props:
        if prop.key == spec.META_VERSION:
            prop.value = "test-second-version"
    path = tmp_path_factory.mktemp("second") / "model.onnx"
    onnx.save(model, str(path))
    return path


def test_swaps_in_a_new_model_and_survives_a_corrupt_one(tmp_path: Path,
                                                         second_model: Path) -> None:
    path = tmp_path / "model.onnx"
    shutil.copyfile(spec.MODEL_PATH, path)
    clock = FakeClock()
    holder = ReloadingClassifier(path, check_interval=10, clock=clock)
    first = holder.get().version
    assert first != "test-second-version"

    _replace(path, second_model)
    clock.now = 5
    assert holder.get().version == first, "checked before the interval passed"
    clock.now = 11
    assert holder.get().version == "test-second-version"
    assert holder.status().last_error is None

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00" * 1000)
    _replace(path, broken)
    clock.now = 22
    assert holder.get().version == "test-second-version"
    status = holder.status()
    assert status.version == "test-second-version"
    assert status.last_error is not None and status.last_error.reason == "corrupt"

    path.unlink()
    clock.now = 33
    assert holder.get().version == "test-second-version"
    assert holder.status().last_error.reason == "missing"

    shutil.copyfile(spec.MODEL_PATH, path)
    clock.now = 44
    assert holder.get().version == first
    assert holder.status().last_error is None


def test_no_model_at_all_is_a_typed_error(tmp_path: Path) -> None:
    holder = ReloadingClassifier(tmp_path / "model.onnx", clock=FakeClock())
    with pytest.raises(ModelUnavailable) as caught:
        holder.get()
    assert caught.value.reason == "missing"
    assert holder.status().version is None


def test_unchanged_file_is_not_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    shutil.copyfile(spec.MODEL_PATH, path)
    clock = FakeClock()
    holder = ReloadingClassifier(path, check_interval=1, clock=clock)
    loaded = holder.get()
    clock.now = 100
    assert holder.maybe_reload() is False
    assert holder.get() is loaded


def test_jobs_arriving_during_the_first_load_wait_for_it(tmp_path: Path) -> None:
    """After a worker starts, several jobs at once must all get the model, not "never loaded"
    (which would retry them a minute later)."""
    import threading
    import time

    from ml_models.photo_classifier.inference import PhotoClassifier

    model = tmp_path / "model.onnx"
    shutil.copyfile(spec.MODEL_PATH, model)
    loads: list[str] = []

    def slow_load(path: Path) -> PhotoClassifier:
        time.sleep(0.3)
        loads.append(str(path))
        return PhotoClassifier.load(path)

    holder = ReloadingClassifier(model, check_interval=60, loader=slow_load)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(_version_or_error(holder))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert got == [holder.get().version] * 4


def _version_or_error(holder: ReloadingClassifier) -> object:
    try:
        return holder.get().version
    except ModelUnavailable as exc:
        return exc
