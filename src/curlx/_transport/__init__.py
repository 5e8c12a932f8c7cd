"""The transport layer: slots (reused easy handles), the multi engine and its waiters, and
the handle options of an HTTP request. The one place that drives pycurl's handles for the
clients; the typed handles users drive themselves live in the boundary below."""

from ._options import (
    HTTP_VERSIONS,
    base_options,
    http_version_supported,
    protocol_mask,
    request_extras,
    supported_protocols,
)
from ._slot import Answer, Slot
from ._sync import MultiTransport, Transport

__all__ = [
    "HTTP_VERSIONS",
    "Answer",
    "MultiTransport",
    "Slot",
    "Transport",
    "base_options",
    "http_version_supported",
    "protocol_mask",
    "request_extras",
    "supported_protocols",
]
