"""curlx: libcurl's failures as typed Python exceptions, with a retry hint on each.

Catch a category (``except curlx.CertificateError``) or one code (``curlx.PeerFailedVerification``);
every error says what happened, on which URL, what to do, and whether a retry can help
(``e.retry``). `curlx.Curl` is a drop-in `pycurl.Curl`; `curlx.translate()` and
`curlx.translating()` type the errors of any pycurl handle.
"""

from ._acurl import AsyncCurlMulti as AsyncCurlMulti
from ._afetch import afetch_many as afetch_many
from ._api import delete as delete
from ._api import get as get
from ._api import head as head
from ._api import options as options
from ._api import patch as patch
from ._api import post as post
from ._api import put as put
from ._api import request as request
from ._api import stream as stream
from ._asession import AsyncSession as AsyncSession
from ._code_errors import *  # noqa: F403  (one class per libcurl code, listed in its __all__)
from ._code_errors import __all__ as _code_error_names
from ._codes import Category as Category
from ._codes import CurlCode as CurlCode
from ._codes import Family as Family
from ._codes import HeaderCode as HeaderCode
from ._codes import MultiCode as MultiCode
from ._codes import ProxyCode as ProxyCode
from ._codes import RetryKind as RetryKind
from ._codes import ShareCode as ShareCode
from ._codes import URLCode as URLCode
from ._curl import Curl as Curl
from ._curl import CurlMulti as CurlMulti
from ._curl import CurlShare as CurlShare
from ._curl import TransferFailure as TransferFailure
from ._curl import translate as translate
from ._curl import translating as translating
from ._exceptions import AuthError as AuthError
from ._exceptions import CallbackError as CallbackError
from ._exceptions import CertificateError as CertificateError
from ._exceptions import ConnectError as ConnectError
from ._exceptions import CurlError as CurlError
from ._exceptions import DNSError as DNSError
from ._exceptions import FTPError as FTPError
from ._exceptions import HTTPError as HTTPError
from ._exceptions import HTTPStatusError as HTTPStatusError
from ._exceptions import InternalError as InternalError
from ._exceptions import InvalidOperation as InvalidOperation
from ._exceptions import InvalidRequest as InvalidRequest
from ._exceptions import InvalidSetting as InvalidSetting
from ._exceptions import InvalidURL as InvalidURL
from ._exceptions import LDAPError as LDAPError
from ._exceptions import LimitExceeded as LimitExceeded
from ._exceptions import LocalIOError as LocalIOError
from ._exceptions import MultiError as MultiError
from ._exceptions import NetworkError as NetworkError
from ._exceptions import ProtocolError as ProtocolError
from ._exceptions import ProxyError as ProxyError
from ._exceptions import RemoteError as RemoteError
from ._exceptions import RTSPError as RTSPError
from ._exceptions import ShareError as ShareError
from ._exceptions import SSHError as SSHError
from ._exceptions import SSLError as SSLError
from ._exceptions import TFTPError as TFTPError
from ._exceptions import TimeoutError as TimeoutError
from ._exceptions import URLError as URLError
from ._exceptions import UsageError as UsageError
from ._explain import language as language
from ._explain import set_language as set_language
from ._fetch import Result as Result
from ._fetch import fetch_many as fetch_many
from ._hints import RetryEvent as RetryEvent
from ._hints import RetryHint as RetryHint
from ._hints import is_retryable as is_retryable
from ._hints import retry_after as retry_after
from ._i18n import Language as Language
from ._info import TransferInfo as TransferInfo
from ._models import AsyncStreamedResponse as AsyncStreamedResponse
from ._models import DigestAuth as DigestAuth
from ._models import Headers as Headers
from ._models import RedirectHop as RedirectHop
from ._models import Request as Request
from ._models import Response as Response
from ._models import StreamedResponse as StreamedResponse
from ._models import Timeout as Timeout
from ._report import Report as Report
from ._retry import Retry as Retry
from ._session import Session as Session
from ._translate import ConnectTimeout as ConnectTimeout
from ._translate import HTTPClientError as HTTPClientError
from ._translate import HTTPServerError as HTTPServerError
from ._translate import NotHTTPResponse as NotHTTPResponse
from ._translate import ProxyTunnelRefused as ProxyTunnelRefused
from ._translate import ReadTimeout as ReadTimeout
from ._translate import ResolveTimeout as ResolveTimeout
from ._translate import code_for as code_for
from ._translate import error_class as error_class
from ._version import __version__ as __version__

__all__ = [
    "AsyncCurlMulti",
    "AsyncSession",
    "AsyncStreamedResponse",
    "AuthError",
    "CallbackError",
    "Category",
    "CertificateError",
    "ConnectError",
    "ConnectTimeout",
    "Curl",
    "CurlCode",
    "CurlError",
    "CurlMulti",
    "CurlShare",
    "DNSError",
    "DigestAuth",
    "FTPError",
    "Family",
    "HTTPClientError",
    "HTTPError",
    "HTTPServerError",
    "HTTPStatusError",
    "HeaderCode",
    "Headers",
    "InternalError",
    "InvalidOperation",
    "InvalidRequest",
    "InvalidSetting",
    "InvalidURL",
    "LDAPError",
    "Language",
    "LimitExceeded",
    "LocalIOError",
    "MultiCode",
    "MultiError",
    "NetworkError",
    "NotHTTPResponse",
    "ProtocolError",
    "ProxyCode",
    "ProxyError",
    "ProxyTunnelRefused",
    "RTSPError",
    "ReadTimeout",
    "RedirectHop",
    "RemoteError",
    "Report",
    "Request",
    "ResolveTimeout",
    "Response",
    "Result",
    "Retry",
    "RetryEvent",
    "RetryHint",
    "RetryKind",
    "SSHError",
    "SSLError",
    "Session",
    "ShareCode",
    "ShareError",
    "StreamedResponse",
    "TFTPError",
    "Timeout",
    "TimeoutError",
    "TransferFailure",
    "TransferInfo",
    "URLCode",
    "URLError",
    "UsageError",
    "afetch_many",
    "code_for",
    "delete",
    "error_class",
    "fetch_many",
    "get",
    "head",
    "is_retryable",
    "language",
    "options",
    "patch",
    "post",
    "put",
    "request",
    "retry_after",
    "set_language",
    "stream",
    "translate",
    "translating",
]
__all__ += _code_error_names

# Tracebacks and reprs say `curlx.ConnectError`, not `curlx._exceptions.ConnectError`.
for _name in __all__:
    globals()[_name].__module__ = "curlx"
del _name
