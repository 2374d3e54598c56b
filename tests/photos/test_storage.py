"""LocalDiskStore: round trips, atomic replacement, and keys that cannot leave the root."""

from __future__ import annotations

import asyncio
import os

import pytest

from backend.photos.storage import (
    InvalidKey,
    LocalDiskStore,
    PhotoNotFound,
    PhotoStore,
    check_key,
    content_key,
)


@pytest.fixture
def store(tmp_path) -> LocalDiskStore:
    return LocalDiskStore(tmp_path / "media", base_url="/media/")


async def test_round_trip(store):
    key = content_key(b"jpeg bytes")
    assert isinstance(store, PhotoStore)
    assert not await store.exists(key)
    await store.put(key, b"jpeg bytes", "image/jpeg")
    assert await store.exists(key)
    assert await store.get(key) == b"jpeg bytes"
    assert await store.url(key) == f"/media/{key}"
    await store.delete(key)
    await store.delete(key)  # idempotent
    assert not await store.exists(key)
    with pytest.raises(PhotoNotFound):
        await store.get(key)


def test_content_key_shape():
    key = content_key(b"abc", prefix="thumbs")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert key == f"thumbs/ba/78/{digest}.jpg"
    assert check_key(key) == key


async def test_replace_is_atomic_and_leaves_no_temp_files(store, monkeypatch):
    key = "photos/a/b.jpg"
    await store.put(key, b"old", "image/jpeg")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        await store.put(key, b"new" * 1000, "image/jpeg")
    monkeypatch.undo()
    assert await store.get(key) == b"old"
    assert sorted(p.name for p in store.path(key).parent.iterdir()) == ["b.jpg"]


async def test_concurrent_readers_never_see_partial_files(store):
    key = "photos/race.jpg"
    big_a, big_b = b"a" * 2_000_000, b"b" * 2_000_000
    await store.put(key, big_a, "image/jpeg")

    async def writer():
        for i in range(10):
            await store.put(key, big_b if i % 2 else big_a, "image/jpeg")

    async def reader():
        seen = set()
        for _ in range(20):
            data = await store.get(key)
            assert data in (big_a, big_b)
            seen.add(data[:1])
        return seen

    await asyncio.gather(writer(), reader(), reader())


@pytest.mark.parametrize("key", [
    "", "../x.jpg", "photos/../../etc/passwd", "/etc/passwd", "photos//a.jpg", "photos/./a.jpg",
    ".hidden", "photos/.tmp-123", "a\\b.jpg", "Photos/A.JPG", "a b.jpg", "a/b/", "a\x00b", "..",
    "photos/a..jpg", "x" * 300, "\uff50hoto.jpg",
])
async def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(InvalidKey):
        await store.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidKey):
        await store.get(key)
    with pytest.raises(InvalidKey):
        await store.url(key)


async def test_symlink_out_of_the_root_is_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    store.root.mkdir(parents=True, exist_ok=True)
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey):
        await store.put("link/a.jpg", b"x", "image/jpeg")
    assert not any(outside.iterdir())
