"""The sandbox's model of container registries: which public images and tags exist.

`parse_reference` parses an image reference; `ImageRegistry.resolve` says whether a registry
has it (`Found`, with the behaviour profile of the image) or refuses it (`Refused`, with
containerd's message). Data: `sandbox/data/registry/*.yaml`.
"""

from sandbox.registry.catalog import RegistryCatalog, RepositoryEntry
from sandbox.registry.pull import Found, ImageRegistry, Refused, Resolution
from sandbox.registry.reference import ImageReference, InvalidReference, parse_reference
from sandbox.registry.settings import RegistrySettings

__all__ = [
    "Found",
    "ImageReference",
    "ImageRegistry",
    "InvalidReference",
    "Refused",
    "RegistryCatalog",
    "RegistrySettings",
    "RepositoryEntry",
    "Resolution",
    "parse_reference",
]
