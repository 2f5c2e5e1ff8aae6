"""A container's file system as the programs in it see it: image files, mounted volumes, writes.

Paths are absolute after `resolve`; directories are implied by the files under them and by
explicit `mkdir`s. Mounted ConfigMaps and Secrets are read-only, like the real projections.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable, Mapping

DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/stdout", "/dev/stderr"})


class FsError(Exception):
    """An errno-style failure: `strerror` is what C programs print."""

    def __init__(self, path: str, strerror: str) -> None:
        super().__init__(f"{path}: {strerror}")
        self.path = path
        self.strerror = strerror


NOENT = "No such file or directory"
ISDIR = "Is a directory"
NOTDIR = "Not a directory"
ROFS = "Read-only file system"


class FileSystem:
    """Files (path -> text), directories, and read-only mount points."""

    def __init__(self, files: Mapping[str, str] | None = None, dirs: Iterable[str] = ()) -> None:
        self._files: dict[str, str] = {}
        self._dirs: set[str] = {"/"}
        self._readonly: set[str] = set()
        for d in (*dirs, "/tmp", "/dev", "/proc", "/etc", "/root", "/var", "/usr/bin", "/bin"):
            self.mkdir(d)
        for path, text in (files or {}).items():
            self.put(path, text)

    @staticmethod
    def resolve(path: str, cwd: str = "/") -> str:
        """The absolute, normalised form of `path`."""
        return posixpath.normpath(posixpath.join(cwd, path)) if path else cwd

    def put(self, path: str, text: str) -> None:
        """Create or replace a file (image content or a mount), making its directories."""
        path = self.resolve(path)
        self.mkdir(posixpath.dirname(path))
        self._files[path] = text

    def mount(self, directory: str, files: Mapping[str, str], readonly: bool = True) -> None:
        """Mount a volume: `files` (relative name -> text) appear under `directory`."""
        directory = self.resolve(directory)
        for name in [p for p in self._files if p.startswith(directory + "/")]:
            del self._files[name]  # a mount hides what the image had there
        self.mkdir(directory)
        for name, text in files.items():
            self.put(posixpath.join(directory, name), text)
        if readonly:
            self._readonly.add(directory)

    def mkdir(self, path: str, parents: bool = True) -> None:
        """Create a directory (and its parents)."""
        path = self.resolve(path)
        if not parents and posixpath.dirname(path) not in self._dirs:
            raise FsError(path, NOENT)
        while path not in self._dirs:
            self._dirs.add(path)
            path = posixpath.dirname(path)

    def is_file(self, path: str) -> bool:
        """Whether a regular file (or a device) exists at `path`."""
        return path in self._files or path in DEVICES

    def is_dir(self, path: str) -> bool:
        """Whether a directory exists at `path`."""
        return path in self._dirs

    def exists(self, path: str) -> bool:
        """Whether anything exists at `path`."""
        return self.is_file(path) or self.is_dir(path)

    def read(self, path: str) -> str:
        """A file's text; FsError when missing or a directory."""
        if path in self._files:
            return self._files[path]
        if path in ("/dev/null",):
            return ""
        if path in self._dirs:
            raise FsError(path, ISDIR)
        raise FsError(path, NOENT)

    def size(self, path: str) -> int:
        """A file's size in bytes."""
        return len(self.read(path).encode())

    def _check_writable(self, path: str) -> None:
        if any(path == ro or path.startswith(ro + "/") for ro in self._readonly):
            raise FsError(path, ROFS)
        if path in self._dirs:
            raise FsError(path, ISDIR)
        if posixpath.dirname(path) not in self._dirs:
            raise FsError(path, NOENT)

    def write(self, path: str, text: str, append: bool = False) -> None:
        """Write (or append to) a file; FsError for read-only mounts and missing directories."""
        if path in DEVICES:
            return
        self._check_writable(path)
        self._files[path] = (self._files.get(path, "") if append else "") + text

    def remove(self, path: str, recursive: bool = False) -> None:
        """Delete a file (or, recursively, a directory)."""
        self._check_writable(path) if path not in self._dirs else None
        if path in self._files:
            del self._files[path]
            return
        if path in self._dirs and recursive:
            for name in [p for p in self._files if p.startswith(path + "/")]:
                del self._files[name]
            self._dirs = {d for d in self._dirs if d != path and not d.startswith(path + "/")}
            return
        raise FsError(path, ISDIR if path in self._dirs else NOENT)

    def listdir(self, path: str) -> list[str]:
        """Names directly under a directory, sorted."""
        if path in self._files:
            raise FsError(path, NOTDIR)
        if path not in self._dirs:
            raise FsError(path, NOENT)
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix) :].split("/")[0] for p in (*self._files, *self._dirs) if p.startswith(prefix)}
        return sorted(n for n in names if n)

    def glob(self, pattern: str, cwd: str = "/") -> list[str]:
        """Paths matching a shell glob (`*` never crosses `/` nor matches a leading dot), sorted."""
        absolute = pattern.startswith("/")
        full = pattern if absolute else posixpath.join(cwd, pattern)
        depth = full.count("/")
        hits = [
            p
            for p in self.paths()
            if p.count("/") == depth
            and fnmatch.fnmatchcase(p, full)
            and not p.rsplit("/", 1)[-1].startswith(".")
        ]
        if absolute:
            return sorted(hits)
        base = cwd.rstrip("/") + "/"
        return sorted(h[len(base) :] if h.startswith(base) else h for h in hits)

    def paths(self) -> list[str]:
        """Every file and directory path (for globbing)."""
        return sorted({*self._files, *self._dirs})
