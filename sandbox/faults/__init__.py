"""The fault catalogue: injectable faults with machine-readable ground truth.

`FaultCategory` is the root-cause taxonomy; `FAULT_TYPES` the catalogue; `FaultInjector` injects
(`inject(name, "NS/deploy/NAME") -> InjectedFault`) and clears them; `GroundTruth.is_fixed`
decides from objects whether a fix is right.
"""

from sandbox.faults.catalogue import FAULT_TYPES, fault_type
from sandbox.faults.context import FaultNotApplicable, FaultType, Target
from sandbox.faults.injector import FaultInjector, InjectedFault
from sandbox.faults.taxonomy import CATEGORIES, FaultCategory
from sandbox.faults.truth import Check, Forbidden, GroundTruth, Symptoms, object_id, resolve, resource_id

__all__ = [
    "CATEGORIES",
    "FAULT_TYPES",
    "Check",
    "FaultCategory",
    "FaultInjector",
    "FaultNotApplicable",
    "FaultType",
    "Forbidden",
    "GroundTruth",
    "InjectedFault",
    "Symptoms",
    "Target",
    "fault_type",
    "object_id",
    "resolve",
    "resource_id",
]
