"""The transport layer: slots (reused easy handles), the multi engine and its waiters, and
the handle options of an HTTP request. The one place that drives pycurl's handles for the
clients; the typed handles users drive themselves live in the boundary below."""

from ._options import (
    HTTP_VERSIONS,
    SentHeaders,
    base_options,
    http_version_supported,
    protocol_mask,
    request_extras,
    supported_protocols,
    upload_in,
)
from ._slot import Answer, Slot
from ._sync import BodyTransfer, MultiTransport, Transport
from ._upload import UploadBody, remaining_size

__all__ = [
    "HTTP_VERSIONS",
    "Answer",
    "BodyTransfer",
    "MultiTransport",
    "SentHeaders",
    "Slot",
    "Transport",
    "UploadBody",
    "base_options",
    "http_version_supported",
    "protocol_mask",
    "remaining_size",
    "request_extras",
    "supported_protocols",
    "upload_in",
]
