"""The repository's read cache: only immutable names and plain folders, derived commits exact."""

from __future__ import annotations

from sandbox.gitops.tree_cache import TreeCache

A, B = "a" * 40, "b" * 40


def test_only_full_shas_and_plain_folders_are_kept() -> None:
    assert TreeCache.key(A, "apps/") == TreeCache.key(A, "apps") == (A, "apps/")
    assert TreeCache.key(A, "") == (A, "")
    for revision, under in (
        ("main", ""),
        (A[:12], ""),
        (A, "ap*"),
        (A, "./apps"),
        (A, "a/../b"),
        (A, ":(glob)x"),
    ):
        assert TreeCache.key(revision, under) is None, (revision, under)


def test_carry_over_applies_changes_inside_each_folder_and_copies_are_private() -> None:
    cache = TreeCache(kept=3)
    cache.put((A, "apps/"), {"apps/x.yaml": b"x", "apps/y.yaml": b"y"})
    cache.put((A, ""), {"apps/x.yaml": b"x", "apps/y.yaml": b"y", "top": b"t"})
    cache.carry_over(A, B, {"apps/x.yaml": b"x2", "apps/y.yaml": None, "top": b"t2", "new": b"n"})
    assert cache.get((B, "apps/")) == {"apps/x.yaml": b"x2"}
    assert cache.get((B, "")) == {"apps/x.yaml": b"x2", "top": b"t2", "new": b"n"}
    assert cache.get((A, ""))["top"] == b"t"  # type: ignore[index]  # the parent's read is unchanged
    assert cache.get((A, "apps/")) is None  # past `kept`: the oldest read went
    got = cache.get((B, "apps/"))
    assert got is not None
    got["apps/x.yaml"] = b"changed by a caller"
    assert cache.file(B, "apps/x.yaml") == b"x2" and cache.file(B, "apps/y.yaml") is None
