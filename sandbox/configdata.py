"""What a ConfigMap or a Secret holds, as the text a container sees (in its environment or files)."""

from __future__ import annotations

import base64

from sandbox.store import Obj


def source_data(obj: Obj, secret: bool) -> dict[str, str]:
    """A ConfigMap's data, or a Secret's data decoded (plus stringData); undecodable values read empty."""
    data = dict(obj.get("data") or {})
    if secret:
        out = {}
        for k, v in data.items():
            try:
                out[k] = base64.b64decode(v).decode()
            except (ValueError, UnicodeDecodeError):
                out[k] = ""
        out.update(obj.get("stringData") or {})
        return out
    return {k: str(v) for k, v in data.items()}
