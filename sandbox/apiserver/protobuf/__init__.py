"""Protobuf request bodies: kubectl's `create` generators send built-in kinds as protobuf."""

from sandbox.apiserver.protobuf.decode import DecodeError, decode_object

__all__ = ["DecodeError", "decode_object"]
