"""Server-side printing: per resource, the columns kubectl shows and the function that fills a row."""

from sandbox.apiserver.printers import core, policy, storage, workloads
from sandbox.apiserver.printers.common import Printer, age, col, name_age
from sandbox.apiserver.printers.pods import POD_COLUMNS, pod_row, pod_status_reason

PRINTERS: dict[str, Printer] = {
    "/pods": (POD_COLUMNS, pod_row),
    **core.PRINTERS,
    **workloads.PRINTERS,
    **storage.PRINTERS,
    **policy.PRINTERS,
}
GENERIC: Printer = ([col("Name", fmt="name"), col("Age")], name_age)

__all__ = ["GENERIC", "PRINTERS", "Printer", "age", "pod_status_reason"]
