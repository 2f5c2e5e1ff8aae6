"""The API token: where it comes from, re-read when its file changes, generated when there is none.

Sources, in order: `server.token` (inline), `server.token_file`, and, when neither is set,
`<data_dir>/api-token`, which `paramedic serve` generates at first start (32 random bytes,
URL-safe, mode 0600) and reuses afterwards, printing where it is (as notebook servers do).

The file is re-read whenever its inode, size or modification time changes (one `stat` per
request), so rotating the token is writing a new one into the file; a Kubernetes Secret volume
swaps its files the same way. A file that is missing, unreadable or empty at runtime is a
*problem*, never "no token": whoever checks the token refuses the request (503), it never lets it
through.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from agent.config import Settings

TOKEN_BYTES = 32


@dataclass(frozen=True)
class TokenState:
    """The token now (`value`), or why there is none although one is configured (`problem`)."""

    value: str | None = None
    problem: str | None = None


class ApiTokenError(ValueError):
    """The token cannot be set up at start (a generated file that others can read, ...)."""


class ApiToken:
    """The configured token: inline, a file re-read when it changes, or none at all."""

    def __init__(self, inline: str | None, file: Path | None) -> None:
        self._inline = inline or None
        self._file = file
        self._cache: tuple[tuple[int, int, int], TokenState] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiToken:
        """The token `settings.server` names (inline beats file; neither: not configured)."""
        server = settings.server
        inline = server.token.get_secret_value() if server.token is not None else None
        return cls(inline, None if inline else server.token_file)

    @property
    def configured(self) -> bool:
        """Whether requests must carry a token at all."""
        return self._inline is not None or self._file is not None

    @property
    def source(self) -> str:
        """Where the token comes from, for messages (never the token itself)."""
        if self._inline is not None:
            return "server.token"
        return str(self._file) if self._file is not None else "nowhere (no token configured)"

    def current(self) -> TokenState:
        """The token as of now: one `stat` of the file, a read only when it changed."""
        if self._inline is not None:
            return TokenState(self._inline)
        if self._file is None:
            return TokenState()
        try:
            info = os.stat(self._file)
        except FileNotFoundError:
            return TokenState(problem=f"the API token file {self._file} is missing")
        except OSError as exc:
            return TokenState(problem=f"the API token file {self._file} cannot be read: {exc.strerror}")
        key = (info.st_ino, info.st_size, info.st_mtime_ns)
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        state = _read(self._file)
        self._cache = (key, state)
        return state


def _read(path: Path) -> TokenState:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        return TokenState(problem=f"the API token file {path} cannot be read: {reason}")
    if not text:
        return TokenState(problem=f"the API token file {path} is empty")
    return TokenState(text)


def ensure_generated_token(path: Path) -> bool:
    """Create `path` with a new random token (mode 0600) unless it exists; True if created.

    An existing file must be private: one that others can read is refused, not silently fixed
    (someone may already have read it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ApiTokenError(
                f"{path} is readable by others (mode {mode:04o}): chmod 600 it, or delete it for a new token"
            ) from None
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(TOKEN_BYTES) + "\n")
    return True
