"""detect-secrets loads at the first redaction, not with `tools.redaction`, and redaction fails closed
when it cannot be loaded (an error, never the text unredacted)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _python(code: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


pytestmark = pytest.mark.process  # each test starts a Python process


def test_importing_redaction_does_not_load_detect_secrets_until_it_redacts() -> None:
    done = _python(
        """
        import sys
        import tools.redaction as redaction
        assert "detect_secrets" not in sys.modules, "loaded at import"
        token, random = "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM"
        out = redaction.redact(f"key {token} and {random}")
        assert "ghp_" not in out and "aB3dE5" not in out, out
        assert "detect_secrets" in sys.modules
        """
    )
    assert done.returncode == 0, done.stderr


def test_redaction_fails_closed_when_detect_secrets_cannot_load() -> None:
    done = _python(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "detect_secrets" or name.startswith("detect_secrets."):
                    raise ImportError("blocked: " + name)
                return None

        sys.meta_path.insert(0, Block())
        import tools.redaction as redaction
        try:
            out = redaction.redact("token ghp_abcdefghijklmnopqrstuvwxyz0123456789")
        except ImportError:
            print("refused")
        else:
            print("returned", out)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"
