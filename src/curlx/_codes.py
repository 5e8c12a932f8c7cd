"""The table of libcurl's result codes: the single source of truth for curlx.

Every code libcurl can return, in each of its families (easy, multi, share, URL, header and the
SOCKS/HTTP proxy detail codes), is one enum member carrying its category, its retry hint, a
one-line summary and a "what to do" explanation. The exception classes, the retry policy,
`curlx explain` and the README's table are all derived from these rows.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import Final, TypeVar

__all__ = [
    "Category",
    "ForClients",
    "CurlCode",
    "Family",
    "HeaderCode",
    "MultiCode",
    "ProxyCode",
    "RetryKind",
    "ShareCode",
    "URLCode",
]


class Family(enum.Enum):
    """Which of libcurl's enums a number belongs to: the same number means different things."""

    EASY = "CURLcode"
    MULTI = "CURLMcode"
    SHARE = "CURLSHcode"
    URL = "CURLUcode"
    HEADER = "CURLHcode"
    PROXY = "CURLproxycode"

    @property
    def prefix(self) -> str:
        """The prefix of libcurl's names in this family, such as ``CURLE_``."""
        return _PREFIXES[self]

    @property
    def label(self) -> str:
        """How messages name a number of this family: ``curl error``, ``curl multi error``..."""
        return _LABELS[self]


_PREFIXES: Final[Mapping[Family, str]] = {
    Family.EASY: "CURLE_",
    Family.MULTI: "CURLM_",
    Family.SHARE: "CURLSHE_",
    Family.URL: "CURLUE_",
    Family.HEADER: "CURLHE_",
    Family.PROXY: "CURLPX_",
}
_LABELS: Final[Mapping[Family, str]] = {
    Family.EASY: "curl error",
    Family.MULTI: "curl multi error",
    Family.SHARE: "curl share error",
    Family.URL: "curl URL error",
    Family.HEADER: "curl header error",
    Family.PROXY: "curl proxy error",
}


class Category(enum.Enum):
    """What kind of failure a code is: the unit users catch and crawlers count by.

    Each category has exactly one exception class (see `curlx._exceptions`).
    """

    OK = "ok"  # not a failure: CURLE_OK and friends
    UNKNOWN = "unknown"  # a number this table does not know (a newer libcurl)
    RETIRED = "retired"  # a slot libcurl no longer returns
    NETWORK = "network"  # the transport failed after it was set up
    DNS = "dns"  # a host name did not resolve
    CONNECT = "connect"  # no connection could be made
    TIMEOUT = "timeout"  # a time limit ran out
    TLS = "tls"  # TLS could not be set up or used
    CERTIFICATE = "certificate"  # the peer's certificate was refused
    PROXY = "proxy"  # the proxy failed or refused
    PROTOCOL = "protocol"  # the peer broke the protocol
    HTTP = "http"  # HTTP-level failure (redirects)
    HTTP_STATUS = "http_status"  # an HTTP error status (4xx/5xx)
    FTP = "ftp"
    TFTP = "tftp"
    SSH = "ssh"
    LDAP = "ldap"
    RTSP = "rtsp"
    REMOTE = "remote"  # the server refused the operation on the resource
    AUTH = "auth"  # credentials were refused
    USAGE = "usage"  # the request or the call is wrong
    URL = "url"  # the URL is malformed
    LOCAL_IO = "local_io"  # reading or writing local data failed
    LIMIT = "limit"  # a size limit was exceeded
    CALLBACK = "callback"  # an application callback stopped the transfer
    INTERNAL = "internal"  # libcurl or the system ran out of something or broke


class RetryKind(enum.Enum):
    """Whether repeating a failed request can help, and for which methods.

    SAFE: the request never reached the server, so any method may be retried.
    IDEMPOTENT: the request may have reached the server; retry only idempotent methods.
    NEVER: it will fail the same way until something is changed.
    """

    SAFE = "safe"
    IDEMPOTENT = "idempotent"
    NEVER = "never"

    @property
    def advice(self) -> str:
        """One sentence for error messages."""
        return _ADVICE[self]


# The methods a repeat cannot do harm with (RFC 9110 9.2.2), in the order the advice names them.
IDEMPOTENT_METHODS: Final = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE")

_ADVICE: Final[Mapping[RetryKind, str]] = {
    RetryKind.SAFE: "Safe to retry: the request never reached the server.",
    RetryKind.IDEMPOTENT: (
        f"Retry only idempotent requests ({', '.join(IDEMPOTENT_METHODS)}): "
        "the server may have received it."
    ),
    RetryKind.NEVER: "Retrying will not help until something is changed.",
}

SAFE: Final = RetryKind.SAFE
IDEMPOTENT: Final = RetryKind.IDEMPOTENT
NEVER: Final = RetryKind.NEVER

_C = TypeVar("_C", bound="_Code")


class ForClients(str):
    """A row's "what to do" in the words of curlx's clients (Session, curlx.get, fetch_many):
    the keyword to change (``verify=``, ``max_size=``...) where the explanation names a
    CURLOPT. Only rows whose advice differs there have one; errors from a client show it,
    errors of raw handles (`curlx.Curl`, `translate`) keep libcurl's words."""

    __slots__ = ()


class _Code(enum.IntEnum):
    """Shared row layout: number, version added, category, retry hint, summary, explanation,
    then optionally the other categories (a tuple) and the advice for clients (`ForClients`)."""

    _value_: int
    since: str
    category: Category
    also: tuple[Category, ...]
    retry: RetryKind
    summary: str
    explanation: str
    for_clients: str
    """The explanation in curlx's clients' words, or "" where it is the same (see ForClients)."""

    def __new__(
        cls,
        value: int,
        since: str,
        category: Category,
        retry: RetryKind,
        summary: str,
        explanation: str,
        *more: tuple[Category, ...] | ForClients,
    ) -> _Code:
        member = int.__new__(cls, value)
        member._value_ = value
        member.since = since
        member.category = category
        member.also = ()
        member.retry = retry
        member.summary = summary
        member.explanation = explanation
        member.for_clients = ""
        for extra in more:
            if isinstance(extra, ForClients):
                member.for_clients = str(extra)
            else:
                member.also = extra
        return member

    def what_to_do(self, client: bool = False) -> str:
        """The explanation; for an error of a curlx client, in its words if the row has them."""
        return self.for_clients if client and self.for_clients else self.explanation

    @classmethod
    def lookup(cls: type[_C], number: int) -> _C | None:
        """The member for `number`, or None if this libcurl is newer than the table."""
        member = cls._value2member_map_.get(number)
        return member if isinstance(member, cls) else None

    @property
    def family(self) -> Family:
        """The libcurl enum this code belongs to."""
        return _FAMILY_OF[type(self)]

    @property
    def libcurl_name(self) -> str:
        """The name in libcurl's headers, such as ``CURLE_COULDNT_CONNECT``."""
        return self.family.prefix + self.name

    @property
    def obsolete(self) -> bool:
        """True for slots libcurl retired and no longer returns."""
        return self.category is Category.RETIRED

    @property
    def categories(self) -> tuple[Category, ...]:
        """The primary category followed by any others this code also belongs to."""
        return (self.category, *self.also)


_FAMILY_OF: Final[dict[type[_Code], Family]] = {}

# ROWS: each family's members follow, in libcurl's order, grouped under comment headers.


@enum.unique
class CurlCode(_Code):
    """Result codes of easy transfers (CURLcode), the numbers in pycurl.error."""

    # --- success ---
    OK = (
        0,
        "7.1",
        Category.OK,
        NEVER,
        "The operation completed without error.",
        (
            "Nothing failed; this code only shows up if a success value reaches the error "
            "handling, so there is nothing to fix."
        ),
    )

    # --- setup, usage and the URL ---
    UNSUPPORTED_PROTOCOL = (
        1,
        "7.1",
        Category.USAGE,
        NEVER,
        "The URL's scheme is not one this libcurl can speak.",
        (
            "Check the scheme for typos (such as 'htp://') and that the protocol was enabled when "
            "libcurl was built; pycurl.version_info() lists what this build supports. "
            "CURLOPT_PROTOCOLS_STR or CURLOPT_REDIR_PROTOCOLS_STR may also be excluding it, "
            "including on a redirect."
        ),
        ForClients(
            "Check the scheme for typos (such as 'htp://'). A curlx client allows http and https "
            "only, on redirects too: widen that on purpose with Session(allowed_protocols=...). "
            "pycurl.version_info() lists what this libcurl supports."
        ),
    )

    FAILED_INIT = (
        2,
        "7.1",
        Category.INTERNAL,
        NEVER,
        "libcurl could not set itself up for the transfer.",
        (
            "Setup broke down early, usually because a system resource ran out or a TLS or other "
            "backend library failed to start. Check memory and file-descriptor limits, and read "
            "the error text for the component that failed."
        ),
    )

    URL_MALFORMAT = (
        3,
        "7.1",
        Category.URL,
        NEVER,
        "The URL could not be parsed.",
        (
            "Look for a missing scheme, spaces or other characters that need percent-encoding, a "
            "bad port, or an invalid host name. Encode the URL properly before setting "
            "CURLOPT_URL."
        ),
        ForClients(
            "Look for a missing scheme, spaces or other characters that need percent-encoding, a "
            'bad port, or an invalid host name; HTTP/3 alone (http_version="3-only") needs an '
            "https:// URL. Pass query values with params=, which encodes them."
        ),
    )

    NOT_BUILT_IN = (
        4,
        "7.21.5",
        Category.USAGE,
        NEVER,
        "The requested feature was left out when libcurl was built.",
        (
            "A protocol, option or feature the request relies on was disabled at build time; "
            "pycurl.version_info() shows what this build has. Use a libcurl (and a pycurl linked "
            "against it) that includes the feature, or stop using that option."
        ),
        ForClients(
            "The request asks for something this libcurl was built without, such as "
            'http_version="3" without HTTP/3; pycurl.version_info() shows what this build has. '
            'Ask for a version it has (http_version="2" or "1.1"), or use a pycurl linked '
            "against a libcurl that includes the feature."
        ),
    )

    # --- resolving and connecting ---
    COULDNT_RESOLVE_PROXY = (
        5,
        "7.1",
        Category.DNS,
        SAFE,
        "The proxy's host name could not be resolved.",
        (
            "Check the proxy host name for typos and that DNS works from this machine. The proxy "
            "may come from CURLOPT_PROXY or from the http_proxy, https_proxy or all_proxy "
            "environment variables."
        ),
        (Category.PROXY,),
        ForClients(
            "Check the proxy host name for typos and that DNS works from this machine. The proxy "
            "comes from proxy= or, without it, from the http_proxy, https_proxy or all_proxy "
            "environment variables."
        ),
    )

    COULDNT_RESOLVE_HOST = (
        6,
        "7.1",
        Category.DNS,
        SAFE,
        "The server's host name could not be resolved.",
        (
            "Check the host name in the URL for typos and that DNS works from this machine "
            "(resolver settings, VPN, /etc/hosts); a passing DNS outage also shows up this way. "
            "CURLOPT_RESOLVE can pin a name to a known address."
        ),
        ForClients(
            "Check the host name in the URL for typos and that DNS works from this machine "
            "(resolver settings, VPN, /etc/hosts); a passing DNS outage also shows up this way."
        ),
    )

    COULDNT_CONNECT = (
        7,
        "7.1",
        Category.CONNECT,
        SAFE,
        "Nothing accepted the connection to the host or proxy.",
        (
            "The host or proxy is down, nothing listens on that port, or a firewall drops or "
            "rejects the connection; recent libcurl also reports a proxy that refuses an HTTP "
            "CONNECT tunnel this way. Check the address and port, and whether a proxy is in use."
        ),
        ForClients(
            "The host or proxy is down, nothing listens on that port, or a firewall drops or "
            "rejects the connection. Check the address and port, and whether a proxy is in use: "
            "proxy= or, without it, the http_proxy, https_proxy and all_proxy environment "
            "variables."
        ),
    )

    # --- server replies, FTP and HTTP/2 ---
    WEIRD_SERVER_REPLY = (
        8,
        "7.51.0",
        Category.PROTOCOL,
        IDEMPOTENT,
        "The server answered with something libcurl could not make sense of.",
        (
            "The reply broke the protocol, which usually means the wrong protocol for that port "
            "(for example plain HTTP to a TLS port), a broken server, or a middlebox mangling "
            "traffic. Check the scheme and port, and look at the exchange with CURLOPT_VERBOSE."
        ),
        ForClients(
            "The reply broke the protocol, which usually means the wrong protocol for that port "
            "(for example plain HTTP to a TLS port), a broken server, or a middlebox mangling "
            "traffic. Check the scheme and port, and look at the exchange with debug=True (or "
            "curlx get -v)."
        ),
    )

    REMOTE_ACCESS_DENIED = (
        9,
        "7.17.0",
        Category.REMOTE,
        NEVER,
        "The server refused access to the requested resource.",
        (
            "The account may not use that path or directory (for FTP, often a failed change of "
            "directory). Check the path and the permissions on the server; a rejected login has "
            "its own code."
        ),
    )

    FTP_ACCEPT_FAILED = (
        10,
        "7.24.0",
        Category.FTP,
        IDEMPOTENT,
        "The FTP server reported an error while libcurl waited for it to open the data connection.",
        (
            "In active mode (CURLOPT_FTPPORT) the server must connect back to this machine, and "
            "that failed. A firewall or NAT usually blocks the incoming connection; switch to "
            "passive mode by leaving CURLOPT_FTPPORT unset."
        ),
    )

    FTP_WEIRD_PASS_REPLY = (
        11,
        "7.1",
        Category.FTP,
        NEVER,
        "The FTP server's answer to the password was not understood.",
        (
            "After the password was sent the server replied with an unexpected code, often a "
            "rejected login on an unusual server. Check the user name and password, and inspect "
            "the exchange with CURLOPT_VERBOSE."
        ),
        (Category.PROTOCOL,),
    )

    FTP_ACCEPT_TIMEOUT = (
        12,
        "7.24.0",
        Category.TIMEOUT,
        IDEMPOTENT,
        "The FTP server did not open the active-mode data connection in time.",
        (
            "In active mode the server must connect back to this machine, and nothing arrived "
            "before CURLOPT_ACCEPTTIMEOUT_MS ran out. A firewall or NAT is usually in the way; "
            "allow the incoming connection or use passive mode by leaving CURLOPT_FTPPORT unset."
        ),
        (Category.FTP,),
    )

    FTP_WEIRD_PASV_REPLY = (
        13,
        "7.1",
        Category.FTP,
        NEVER,
        "The FTP server's answer to the passive-mode request was unusable.",
        (
            "The server replied to PASV or EPSV in a way libcurl could not use. Try toggling "
            "CURLOPT_FTP_USE_EPSV, or switch to active mode with CURLOPT_FTPPORT if the server's "
            "passive support is broken."
        ),
        (Category.PROTOCOL,),
    )

    FTP_WEIRD_227_FORMAT = (
        14,
        "7.1",
        Category.FTP,
        NEVER,
        "The FTP server's 227 passive-mode reply was malformed.",
        (
            "The address and port in the server's 227 line could not be read, which points to a "
            "broken server or a middlebox rewriting FTP traffic. Try EPSV (CURLOPT_FTP_USE_EPSV) "
            "or active mode via CURLOPT_FTPPORT."
        ),
        (Category.PROTOCOL,),
    )

    FTP_CANT_GET_HOST = (
        15,
        "7.1",
        Category.FTP,
        SAFE,
        "The host for the FTP data connection could not be looked up.",
        (
            "libcurl could not resolve the address it needed for the separate FTP data connection. "
            "Check DNS on this machine; if the server hands out an unusable address, "
            "CURLOPT_FTP_SKIP_PASV_IP makes libcurl reuse the control connection's address."
        ),
        (Category.DNS,),
    )

    HTTP2 = (
        16,
        "7.38.0",
        Category.PROTOCOL,
        IDEMPOTENT,
        "Something went wrong in the HTTP/2 framing layer.",
        (
            "The HTTP/2 session failed in a way only the error text describes, often because a "
            "server or proxy has a faulty HTTP/2 implementation. Read the message, and force "
            "HTTP/1.1 with CURLOPT_HTTP_VERSION to confirm."
        ),
        ForClients(
            "The HTTP/2 session failed in a way only the error text describes, often because a "
            "server or proxy has a faulty HTTP/2 implementation. Read the message, and force "
            'HTTP/1.1 with http_version="1.1" to confirm.'
        ),
    )

    FTP_COULDNT_SET_TYPE = (
        17,
        "7.17.0",
        Category.FTP,
        NEVER,
        "The FTP server refused to switch between ASCII and binary mode.",
        (
            "The TYPE A or TYPE I command failed, which is a server limitation or "
            "misconfiguration. Check whether CURLOPT_TRANSFERTEXT or ';type=' in the URL asks for "
            "a mode the server does not allow."
        ),
    )

    PARTIAL_FILE = (
        18,
        "7.1",
        Category.PROTOCOL,
        IDEMPOTENT,
        "The amount of data transferred did not match the size the server announced.",
        (
            "The body was cut short or ran past its stated length, typically because the "
            "connection dropped mid-transfer or the server sent a wrong Content-Length. Check for "
            "an unstable network or a misbehaving server or proxy; CURLOPT_RESUME_FROM can "
            "continue a large download."
        ),
        ForClients(
            "The body was cut short or ran past its stated length, typically because the "
            "connection dropped mid-transfer or the server sent a wrong Content-Length. Check "
            "for an unstable network or a misbehaving server or proxy; a Range header (headers=) "
            "can continue a large download where it stopped."
        ),
    )

    FTP_COULDNT_RETR_FILE = (
        19,
        "7.1",
        Category.FTP,
        NEVER,
        "The FTP server would not deliver the requested file.",
        (
            "The server answered RETR with an error or sent zero bytes, usually because the file "
            "is missing, unreadable for this account, or the path is wrong. Check the path "
            "(relative to the login directory) and the file's permissions."
        ),
        (Category.REMOTE,),
    )

    # --- transfer, local I/O and timeouts ---
    OBSOLETE20 = (
        20,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_FTP_WRITE_ERROR.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    QUOTE_ERROR = (
        21,
        "7.17.0",
        Category.REMOTE,
        NEVER,
        "A custom command sent to the server got an error reply.",
        (
            "One of the commands in CURLOPT_QUOTE, CURLOPT_PREQUOTE or CURLOPT_POSTQUOTE failed. "
            "Check its spelling and arguments and that the server supports it; a leading '*' tells "
            "libcurl to ignore that command's failure."
        ),
    )

    HTTP_RETURNED_ERROR = (
        22,
        "7.10.3",
        Category.HTTP_STATUS,
        NEVER,
        "The server answered with an HTTP error status (400 or above).",
        (
            "A 4xx status means the request must change (wrong URL, missing or refused "
            "credentials, bad input); a 5xx status means the server failed, and 429 or 503 "
            "may say when to come back (Retry-After). libcurl reports this only with "
            "CURLOPT_FAILONERROR on; Response.raise_for_status() raises the same code."
        ),
        ForClients(
            "A 4xx status means the request must change (wrong URL, missing or refused "
            "credentials, bad input); a 5xx status means the server failed, and 429 or 503 may "
            "say when to come back (Retry-After). Response.raise_for_status() raised it; the "
            "response is the error's .response."
        ),
    )

    WRITE_ERROR = (
        23,
        "7.1",
        Category.LOCAL_IO,
        NEVER,
        "Received data could not be written out.",
        (
            "Saving the download failed (full disk, closed file, missing permissions), or a "
            "WRITEFUNCTION or HEADERFUNCTION callback returned a count other than the length it "
            "was given. Make callbacks return None or the full length, and check the destination "
            "file."
        ),
    )

    OBSOLETE24 = (
        24,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_MALFORMAT_USER.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    UPLOAD_FAILED = (
        25,
        "7.16.3",
        Category.REMOTE,
        NEVER,
        "The server would not let the upload start.",
        (
            "The server turned the upload down before any data was sent, for example an FTP STOR "
            "refused because of permissions, a bad path or a quota. The error text carries the "
            "server's reply; check the target path and the account's write rights."
        ),
    )

    READ_ERROR = (
        26,
        "7.1",
        Category.LOCAL_IO,
        NEVER,
        "The data to upload could not be read.",
        (
            "Reading the local file failed, or the READFUNCTION callback reported an error. Check "
            "that the file is still readable and that the callback returns bytes, with an empty "
            "value to signal the end."
        ),
    )

    OUT_OF_MEMORY = (
        27,
        "7.1",
        Category.INTERNAL,
        NEVER,
        "libcurl could not allocate memory.",
        (
            "The process ran out of memory or hit a cap on it, sometimes because of an enormous "
            "response or header. Check the process's memory use and any ulimit or container "
            "limits."
        ),
    )

    OPERATION_TIMEDOUT = (
        28,
        "7.10.2",
        Category.TIMEOUT,
        IDEMPOTENT,
        "A time limit ran out before the operation finished.",
        (
            "One of the limits expired: CURLOPT_TIMEOUT for the whole transfer, "
            "CURLOPT_CONNECTTIMEOUT for connecting, or the low-speed limit "
            "(CURLOPT_LOW_SPEED_LIMIT with CURLOPT_LOW_SPEED_TIME); the error text names the "
            "phase. Raise the limit that fired, or find out why the server or network is slow."
        ),
        ForClients(
            "A limit of timeout= ran out: connect (connecting, TLS included), read (no byte "
            "moved for that long) or total (the whole request); the error text names the phase. "
            "Raise the one that fired, such as timeout=curlx.Timeout(connect=5, read=60), or "
            "find out why the server or network is slow."
        ),
    )

    OBSOLETE29 = (
        29,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_FTP_COULDNT_SET_ASCII.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    FTP_PORT_FAILED = (
        30,
        "7.1",
        Category.FTP,
        NEVER,
        "The FTP server rejected the active-mode PORT command.",
        (
            "The address given in CURLOPT_FTPPORT is probably wrong or unreachable from the "
            "server, or the server does not allow active mode. Fix the address or interface in "
            "FTPPORT, or use passive mode by leaving it unset."
        ),
    )

    FTP_COULDNT_USE_REST = (
        31,
        "7.1",
        Category.FTP,
        NEVER,
        "The FTP server refused to start the transfer from an offset.",
        (
            "The REST command failed, so the server cannot begin part-way through the file. Drop "
            "CURLOPT_RESUME_FROM or CURLOPT_RANGE for this server and transfer the whole file."
        ),
    )

    OBSOLETE32 = (
        32,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_FTP_COULDNT_GET_SIZE.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    RANGE_ERROR = (
        33,
        "7.17.0",
        Category.REMOTE,
        NEVER,
        "The server did not honour the requested byte range.",
        (
            "The server does not support ranges for this resource or refused the one asked for. "
            "Check the values in CURLOPT_RANGE or CURLOPT_RESUME_FROM, or fetch the whole resource "
            "instead."
        ),
    )

    OBSOLETE34 = (
        34,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_HTTP_POST_ERROR.",
        (
            "libcurl retired this number in 7.56.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    # --- TLS handshake, LDAP, callbacks and options ---
    SSL_CONNECT_ERROR = (
        35,
        "7.1",
        Category.TLS,
        SAFE,
        "The TLS handshake failed.",
        (
            "Client and server could not set up TLS, typically because they share no protocol "
            "version or cipher, the handshake was cut off, or a TLS-intercepting middlebox "
            "interfered; certificate verification failures have their own codes. Read the error "
            "text, and check CURLOPT_SSLVERSION and the server's TLS configuration."
        ),
        ForClients(
            "Client and server could not set up TLS, typically because they share no protocol "
            "version or cipher, the handshake was cut off, or a TLS-intercepting middlebox "
            "interfered; certificate verification failures have their own codes. Read the error "
            "text, check the server's TLS configuration, and watch the handshake with "
            "debug=True."
        ),
    )

    BAD_DOWNLOAD_RESUME = (
        36,
        "7.10",
        Category.USAGE,
        NEVER,
        "The resume offset lies beyond the end of the file.",
        (
            "CURLOPT_RESUME_FROM points past the size of the remote file, so there is nothing to "
            "continue. Compare the offset with the remote size, or restart the download from zero."
        ),
    )

    FILE_COULDNT_READ_FILE = (
        37,
        "7.1",
        Category.LOCAL_IO,
        NEVER,
        "The file named in a file:// URL could not be opened.",
        (
            "The path does not exist or this process may not read it. Check the path (absolute and "
            "percent-encoded) and its permissions."
        ),
    )

    LDAP_CANNOT_BIND = (
        38,
        "7.1",
        Category.LDAP,
        NEVER,
        "Binding to the LDAP server failed.",
        (
            "The LDAP server rejected the bind, usually because the DN or password is wrong or "
            "anonymous binds are disabled. Check the bind DN and the credentials in "
            "CURLOPT_USERPWD."
        ),
        (Category.AUTH,),
    )

    LDAP_SEARCH_FAILED = (
        39,
        "7.1",
        Category.LDAP,
        NEVER,
        "The LDAP search did not succeed.",
        (
            "The server rejected the search, commonly because the base DN, filter or scope in the "
            "URL is wrong or the account may not read that subtree. Check the parts of the ldap:// "
            "URL and the account's rights."
        ),
    )

    OBSOLETE40 = (
        40,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_LIBRARY_NOT_FOUND.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    OBSOLETE41 = (
        41,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_FUNCTION_NOT_FOUND.",
        (
            "libcurl retired this number in 7.53.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    ABORTED_BY_CALLBACK = (
        42,
        "7.1",
        Category.CALLBACK,
        NEVER,
        "An application callback stopped the transfer.",
        (
            "A progress callback (XFERINFOFUNCTION or PROGRESSFUNCTION) returned a non-zero value, "
            "or another callback asked libcurl to abort. This is usually deliberate; if not, "
            "check what the callback returns, since in pycurl returning True means stop."
        ),
    )

    BAD_FUNCTION_ARGUMENT = (
        43,
        "7.1",
        Category.USAGE,
        NEVER,
        "A libcurl function was called with an invalid argument.",
        (
            "An option value is out of range or of the wrong kind, for example a negative size or "
            "an unknown constant. Check the values passed to setopt against the option's "
            "documentation."
        ),
    )

    OBSOLETE44 = (
        44,
        "7.1",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_BAD_CALLING_ORDER.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    INTERFACE_FAILED = (
        45,
        "7.12.0",
        Category.CONNECT,
        NEVER,
        "The requested outgoing network interface could not be used.",
        (
            "The interface, IP address or host name in CURLOPT_INTERFACE does not exist on this "
            "machine or cannot be bound. Check the value against the machine's interfaces, or "
            "remove the option."
        ),
    )

    OBSOLETE46 = (
        46,
        "7.4.2",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_BAD_PASSWORD_ENTERED.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    TOO_MANY_REDIRECTS = (
        47,
        "7.5",
        Category.HTTP,
        NEVER,
        "The redirect limit was reached.",
        (
            "The server kept redirecting beyond CURLOPT_MAXREDIRS, which usually means a redirect "
            "loop, often caused by cookies that are not kept or a scheme or host mismatch. Follow "
            "the chain with CURLOPT_VERBOSE; turning on the cookie engine (CURLOPT_COOKIEFILE set "
            "to '') ends many loops."
        ),
        ForClients(
            "The server kept redirecting beyond max_redirects= (30 by default), which usually "
            "means a redirect loop, often caused by cookies that are not kept or a scheme or "
            "host mismatch. Follow the chain with debug=True, or take the first answer with "
            "follow_redirects=False; a Session keeps cookies between requests (curlx.get() keeps "
            "none), which ends many loops."
        ),
    )

    UNKNOWN_OPTION = (
        48,
        "7.21.5",
        Category.USAGE,
        NEVER,
        "An option was not recognised.",
        (
            "An option given to libcurl is unknown to this build, or an option string (such as a "
            "TELNET option in CURLOPT_TELNETOPTIONS) names something libcurl does not support. "
            "Check the option against the libcurl version in use."
        ),
    )

    SETOPT_OPTION_SYNTAX = (
        49,
        "7.78.0",
        Category.USAGE,
        NEVER,
        "An option's value was badly formatted.",
        (
            "A string option did not follow the syntax libcurl expects, for example a malformed "
            "TELNET option or list entry. Check the value's format in the option's documentation."
        ),
    )

    OBSOLETE50 = (
        50,
        "7.7.2",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_ALREADY_COMPLETE.",
        (
            "libcurl retired this number in 7.8 and current libcurl never returns it; getting it "
            "points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    OBSOLETE51 = (
        51,
        "7.8",
        Category.RETIRED,
        NEVER,
        (
            "Retired slot; it used to be CURLE_PEER_FAILED_VERIFICATION (also "
            "CURLE_SSL_PEER_CERTIFICATE), which is now 60."
        ),
        (
            "libcurl moved certificate verification failures to 60 in 7.62.0 and current libcurl "
            "never returns 51; getting it points to a very old libcurl or a number taken from the "
            "wrong family."
        ),
    )

    # --- network I/O, crypto engines and certificates ---
    GOT_NOTHING = (
        52,
        "7.9.1",
        Category.NETWORK,
        IDEMPOTENT,
        "The server closed the connection without sending any reply.",
        (
            "The server, or something in between, dropped the connection before answering, often "
            "because it crashed, hit a limit, or expected TLS where plain text was sent (or the "
            "reverse). Check the scheme and port, and the server's logs."
        ),
    )

    SSL_ENGINE_NOTFOUND = (
        53,
        "7.9.3",
        Category.TLS,
        NEVER,
        "The requested crypto engine could not be found.",
        (
            "The engine named in CURLOPT_SSLENGINE is not available to the TLS library. Check the "
            "name and that the engine is installed and loadable."
        ),
    )

    SSL_ENGINE_SETFAILED = (
        54,
        "7.9.3",
        Category.TLS,
        NEVER,
        "The crypto engine could not be made the default.",
        (
            "Making the engine the default with CURLOPT_SSLENGINE_DEFAULT failed. Check that the "
            "engine supports the operations needed and is configured correctly in the TLS library."
        ),
    )

    SEND_ERROR = (
        55,
        "7.10",
        Category.NETWORK,
        IDEMPOTENT,
        "Sending data over the network failed.",
        (
            "The connection broke while data was going out, usually because the peer reset or "
            "closed it or the network went down. Check the network path and any proxy, and whether "
            "the server closes connections early (for example on an oversized upload)."
        ),
        ForClients(
            "The connection broke while data was going out, usually because the peer reset or "
            "closed it or the network went down. Check the network path and any proxy, and whether "
            "the server closes connections early (for example on an oversized upload). With "
            'http_version="3-only" it also means nothing answered on the server\'s UDP port: '
            'http_version="3" lets the request fall back to TCP.'
        ),
    )

    RECV_ERROR = (
        56,
        "7.10",
        Category.NETWORK,
        IDEMPOTENT,
        "Receiving data from the network failed.",
        (
            "The connection broke while reading, for example through a reset by the peer, a TLS "
            "read error, or (in older libcurl) a proxy refusing to open a tunnel. Read the error "
            "text and check the network path, the proxy and the server."
        ),
    )

    OBSOLETE57 = (
        57,
        "7.9.6",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_SHARE_IN_USE.",
        (
            "libcurl retired this number in 7.17.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    SSL_CERTPROBLEM = (
        58,
        "7.10",
        Category.TLS,
        NEVER,
        "The local client certificate could not be used.",
        (
            "The file in CURLOPT_SSLCERT or its key in CURLOPT_SSLKEY is missing, unreadable or in "
            "the wrong format, or needs a passphrase that was not given. Check the paths, "
            "CURLOPT_SSLCERTTYPE and CURLOPT_KEYPASSWD."
        ),
        ForClients(
            "The client certificate given with cert= (a file, or a (certificate, key) pair) is "
            "missing, unreadable or in the wrong format, or its key needs a passphrase. Check "
            "the paths and that both are PEM files, with a key that needs no passphrase."
        ),
    )

    SSL_CIPHER = (
        59,
        "7.10",
        Category.TLS,
        NEVER,
        "The requested cipher list could not be used.",
        (
            "CURLOPT_SSL_CIPHER_LIST or CURLOPT_TLS13_CIPHERS names ciphers the TLS library does "
            "not know or will not enable. Check the syntax and the names for the TLS backend in "
            "use."
        ),
    )

    PEER_FAILED_VERIFICATION = (
        60,
        "7.17.1",
        Category.CERTIFICATE,
        NEVER,
        "The server's certificate (or SSH host key) could not be verified.",
        (
            "The certificate did not verify against the trusted CA bundle: it may be self-signed, "
            "expired, issued for another host name, or signed by a private CA (for SCP and SFTP, "
            "the host key did not match the expected fingerprint). Point CAINFO or CAPATH at the "
            "CA that signed it or fix the server's certificate chain; turn verification off only "
            "for testing."
        ),
        ForClients(
            "The certificate did not verify against the trusted CA bundle (certifi's, unless "
            "verify= names another): it may be self-signed, expired, issued for another host "
            'name, or signed by a private CA. Pass that CA with verify="ca.pem" or fix the '
            "server's certificate chain; verify=False turns verification off, for testing only."
        ),
    )

    BAD_CONTENT_ENCODING = (
        61,
        "7.10",
        Category.PROTOCOL,
        NEVER,
        "The response's content or transfer encoding could not be decoded.",
        (
            "The server used an encoding this libcurl cannot handle, or sent compressed data that "
            "is corrupt. Check CURLOPT_ACCEPT_ENCODING (an empty string offers only what this "
            "build can decode) and the server's compression settings."
        ),
        ForClients(
            "The server used an encoding this libcurl cannot handle, or sent compressed data "
            "that is corrupt. Ask for the body as it is by sending Accept-Encoding: identity "
            "(headers=), and check the server's compression settings."
        ),
    )

    OBSOLETE62 = (
        62,
        "7.10.8",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_LDAP_INVALID_URL.",
        (
            "libcurl retired this number in 7.82.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    FILESIZE_EXCEEDED = (
        63,
        "7.10.8",
        Category.LIMIT,
        NEVER,
        "The download is larger than the allowed maximum.",
        (
            "The file is bigger than CURLOPT_MAXFILESIZE (or CURLOPT_MAXFILESIZE_LARGE) permits. "
            "Raise or remove the limit if such a size is expected."
        ),
        ForClients(
            "The body is bigger than max_size= allows. Raise the limit, or pass max_size=None, "
            "if such a size is expected."
        ),
    )

    USE_SSL_FAILED = (
        64,
        "7.17.0",
        Category.TLS,
        NEVER,
        "The required switch to TLS could not be made.",
        (
            "CURLOPT_USE_SSL demanded TLS on an FTP, IMAP, POP3 or SMTP connection, but the server "
            "did not agree to upgrade. Check that the server offers TLS on that port, use the "
            "implicit-TLS scheme (such as ftps:// or imaps://), or lower the requirement to "
            "USESSL_TRY."
        ),
    )

    SEND_FAIL_REWIND = (
        65,
        "7.12.3",
        Category.LOCAL_IO,
        NEVER,
        "The request body had to be sent again but could not be rewound.",
        (
            "A redirect or an authentication round made libcurl resend the upload, and the data "
            "source could not start over. Set a SEEKFUNCTION, or upload from a seekable file or an "
            "in-memory buffer such as POSTFIELDS."
        ),
    )

    SSL_ENGINE_INITFAILED = (
        66,
        "7.12.3",
        Category.TLS,
        NEVER,
        "The crypto engine failed to start.",
        (
            "The engine chosen with CURLOPT_SSLENGINE was found but could not be initialised, "
            "often because of missing hardware, drivers or configuration. Check the engine's own "
            "setup and the TLS library's error output."
        ),
    )

    # --- logins, TFTP, remote files and SSH ---
    LOGIN_DENIED = (
        67,
        "7.13.1",
        Category.AUTH,
        NEVER,
        "The server rejected the login.",
        (
            "The user name or password is wrong, the account is locked, or the server wants "
            "another authentication method. Check CURLOPT_USERPWD (or the credentials in the URL) "
            "and CURLOPT_LOGIN_OPTIONS."
        ),
        ForClients(
            "The user name or password is wrong, the account is locked, or the server wants "
            "another authentication method. Check auth= (or the credentials in the URL)."
        ),
    )

    TFTP_NOTFOUND = (
        68,
        "7.15.0",
        Category.TFTP,
        NEVER,
        "The TFTP server could not find the file.",
        (
            "The requested file does not exist on the server, or the path is relative to a "
            "different root than expected. Check the path in the URL against the server's TFTP "
            "root directory."
        ),
        (Category.REMOTE,),
    )

    TFTP_PERM = (
        69,
        "7.15.0",
        Category.TFTP,
        NEVER,
        "The TFTP server refused access to the file.",
        (
            "The server's permissions do not allow reading or creating this file. Check the file's "
            "permissions on the server, and for uploads whether the server lets clients create "
            "new files."
        ),
        (Category.REMOTE,),
    )

    REMOTE_DISK_FULL = (
        70,
        "7.17.0",
        Category.REMOTE,
        NEVER,
        "The server ran out of disk space.",
        (
            "The upload could not be stored because the remote storage is full or a quota was hit. "
            "Free space or raise the quota on the server, or upload somewhere else."
        ),
    )

    TFTP_ILLEGAL = (
        71,
        "7.15.0",
        Category.TFTP,
        NEVER,
        "The TFTP server called the operation illegal.",
        (
            "The server rejected the request as invalid, which usually means it does not support "
            "an option libcurl sent (such as the block size) or is not a TFTP server. Try the "
            "default CURLOPT_TFTP_BLKSIZE or set CURLOPT_TFTP_NO_OPTIONS."
        ),
        (Category.PROTOCOL,),
    )

    TFTP_UNKNOWNID = (
        72,
        "7.15.0",
        Category.TFTP,
        NEVER,
        "The TFTP server did not recognise the transfer ID.",
        (
            "Packets arrived for a transfer the server does not know, typically because NAT or a "
            "firewall changed ports mid-transfer or the session went stale. Check the network path "
            "between this machine and the server."
        ),
    )

    REMOTE_FILE_EXISTS = (
        73,
        "7.17.0",
        Category.REMOTE,
        NEVER,
        "The target file already exists on the server and will not be overwritten.",
        (
            "The server refuses to replace an existing file. Upload under another name, delete the "
            "old file first (for example with CURLOPT_QUOTE), or change the server's overwrite "
            "setting."
        ),
    )

    TFTP_NOSUCHUSER = (
        74,
        "7.15.0",
        Category.TFTP,
        NEVER,
        "The TFTP server reported an unknown user.",
        (
            "TFTP has no logins, so this points to an unusual or misbehaving server. Check the "
            "server's configuration and logs."
        ),
        (Category.AUTH,),
    )

    OBSOLETE75 = (
        75,
        "7.15.4",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_CONV_FAILED.",
        (
            "libcurl retired this number in 7.82.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    OBSOLETE76 = (
        76,
        "7.15.4",
        Category.RETIRED,
        NEVER,
        "Retired slot; it used to be CURLE_CONV_REQD.",
        (
            "libcurl retired this number in 7.82.0 and current libcurl never returns it; getting "
            "it points to a very old libcurl or a number taken from the wrong family."
        ),
    )

    SSL_CACERT_BADFILE = (
        77,
        "7.16.0",
        Category.TLS,
        NEVER,
        "The trusted CA certificates could not be loaded.",
        (
            "The file in CAINFO or the directory in CAPATH is missing, unreadable, or not in PEM "
            "format. Check the path and format; often the CA bundle package (such as "
            "ca-certificates or certifi) is missing or lives elsewhere."
        ),
        ForClients(
            "The CA file or directory given with verify= is missing, unreadable, or not in PEM "
            "format. Check the path and format; verify=True uses certifi's bundle."
        ),
    )

    REMOTE_FILE_NOT_FOUND = (
        78,
        "7.16.1",
        Category.REMOTE,
        NEVER,
        "The requested file does not exist on the server.",
        (
            "The path in the URL points to nothing. Check the spelling and where the path starts: "
            "FTP paths are relative to the login directory (write %2F for an absolute one), while "
            "SFTP paths are absolute unless they begin with /~/."
        ),
    )

    SSH = (
        79,
        "7.16.1",
        Category.SSH,
        NEVER,
        "The SSH layer failed.",
        (
            "An unspecified error happened in the SCP or SFTP session, and only the error text "
            "gives details. Read it, and check the keys (CURLOPT_SSH_PRIVATE_KEYFILE, "
            "CURLOPT_SSH_PUBLIC_KEYFILE), the known-hosts file, and the server's SSH logs."
        ),
    )

    SSL_SHUTDOWN_FAILED = (
        80,
        "7.16.1",
        Category.TLS,
        IDEMPOTENT,
        "Closing down the TLS session failed.",
        (
            "The orderly TLS close did not complete, usually because the peer dropped the "
            "connection abruptly. The data may still have arrived intact, so check whether the "
            "output is complete."
        ),
    )

    # --- socket I/O, TLS extras, RTSP and FTP wildcards ---
    AGAIN = (
        81,
        "7.18.2",
        Category.NETWORK,
        SAFE,
        "The socket was not ready for sending or receiving yet.",
        (
            "This comes only from the raw send and receive calls (pycurl's Curl.send, Curl.recv "
            "and the WebSocket functions) when the socket would block. Wait until the socket is "
            "ready, for example with select or poll, and call again."
        ),
    )

    SSL_CRL_BADFILE = (
        82,
        "7.19.0",
        Category.TLS,
        NEVER,
        "The certificate revocation list could not be loaded.",
        (
            "The file in CURLOPT_CRLFILE is missing, unreadable, or in the wrong format. Check the "
            "path and that it holds a PEM-encoded CRL."
        ),
    )

    SSL_ISSUER_ERROR = (
        83,
        "7.19.0",
        Category.CERTIFICATE,
        NEVER,
        "The server's certificate was not signed by the required issuer.",
        (
            "CURLOPT_ISSUERCERT demands a specific issuing certificate, and the server's "
            "certificate came from someone else. Check that the issuer file is the right one, and "
            "whether the server's certificate was replaced."
        ),
    )

    FTP_PRET_FAILED = (
        84,
        "7.20.0",
        Category.FTP,
        NEVER,
        "The FTP server rejected the PRET command.",
        (
            "CURLOPT_FTP_USE_PRET sends PRET before passive transfers, and this server does not "
            "understand or refuses it. Turn the option off unless the server (typically a "
            "distributed FTP setup) needs it."
        ),
    )

    RTSP_CSEQ_ERROR = (
        85,
        "7.20.0",
        Category.RTSP,
        NEVER,
        "The RTSP sequence numbers did not match.",
        (
            "The CSeq in the server's reply differs from the one sent, so requests and responses "
            "are out of step. Check CURLOPT_RTSP_CLIENT_CSEQ and whether the server handles "
            "sequence numbers correctly."
        ),
        (Category.PROTOCOL,),
    )

    RTSP_SESSION_ERROR = (
        86,
        "7.20.0",
        Category.RTSP,
        NEVER,
        "The RTSP session ID did not match.",
        (
            "The server's session identifier differs from the one libcurl holds, typically because "
            "the session expired or a different one was set. Check CURLOPT_RTSP_SESSION_ID and "
            "set the session up again."
        ),
    )

    FTP_BAD_FILE_LIST = (
        87,
        "7.21.0",
        Category.FTP,
        NEVER,
        "The FTP directory listing for a wildcard download could not be parsed.",
        (
            "With CURLOPT_WILDCARDMATCH libcurl has to read the server's LIST output, and this "
            "server's format was not recognised. Use an exact file name instead of a wildcard, or "
            "list and pick the files yourself."
        ),
        (Category.PROTOCOL,),
    )

    CHUNK_FAILED = (
        88,
        "7.21.0",
        Category.CALLBACK,
        NEVER,
        "A wildcard chunk callback reported an error.",
        (
            "The CURLOPT_CHUNK_BGN_FUNCTION or CURLOPT_CHUNK_END_FUNCTION callback returned a "
            "failure value during a wildcard download. Check what the callback returns and why."
        ),
    )

    NO_CONNECTION_AVAILABLE = (
        89,
        "7.30.0",
        Category.CONNECT,
        SAFE,
        "No connection was available for the transfer.",
        (
            "libcurl uses this code internally while a transfer waits for a free connection and "
            "does not mean to hand it to applications. Seeing it suggests a libcurl bug; note "
            "CURLMOPT_MAX_TOTAL_CONNECTIONS and CURLMOPT_MAX_HOST_CONNECTIONS and report it with "
            "the libcurl version."
        ),
    )

    SSL_PINNEDPUBKEYNOTMATCH = (
        90,
        "7.39.0",
        Category.CERTIFICATE,
        NEVER,
        "The server's public key did not match the pinned key.",
        (
            "CURLOPT_PINNEDPUBLICKEY lists the keys to accept and the server presented a different "
            "one, either because it rotated its key or because something is intercepting the "
            "connection. Confirm that the new key is legitimate before updating the pin."
        ),
    )

    SSL_INVALIDCERTSTATUS = (
        91,
        "7.41.0",
        Category.CERTIFICATE,
        NEVER,
        "The server's certificate status check failed.",
        (
            "CURLOPT_SSL_VERIFYSTATUS requires a stapled OCSP response, and the server sent none "
            "or one saying the certificate is revoked or invalid. Check the server's OCSP stapling "
            "setup, or turn the status check off."
        ),
    )

    # --- HTTP/2 streams, HTTP/3, QUIC, proxies and the newest codes ---
    HTTP2_STREAM = (
        92,
        "7.49.0",
        Category.PROTOCOL,
        IDEMPOTENT,
        "A single HTTP/2 stream failed.",
        (
            "The server or a proxy reset or broke this one request stream (for example with "
            "RST_STREAM), while the connection itself may be fine. Read the error text for the "
            "HTTP/2 error code, and check the server's limits on headers, bodies and streams."
        ),
    )

    RECURSIVE_API_CALL = (
        93,
        "7.59.0",
        Category.USAGE,
        NEVER,
        "A libcurl function was called from inside a callback where that is not allowed.",
        (
            "Some calls, such as running a transfer or cleaning up a handle, must not be made from "
            "within libcurl's own callbacks. Move the call out of the callback, for example by "
            "setting a flag and acting once perform returns."
        ),
    )

    AUTH_ERROR = (
        94,
        "7.66.0",
        Category.AUTH,
        NEVER,
        "An authentication mechanism failed.",
        (
            "A library-level authentication step (such as Kerberos/GSS-API, NTLM or a SASL "
            "mechanism) broke down, as opposed to the server simply refusing a password. Check the "
            "credentials or tickets (for Kerberos, run klist), CURLOPT_HTTPAUTH, and that this "
            "build supports the mechanism."
        ),
    )

    HTTP3 = (
        95,
        "7.68.0",
        Category.PROTOCOL,
        IDEMPOTENT,
        "Something went wrong in the HTTP/3 layer.",
        (
            "The HTTP/3 session failed in a way only the error text describes, often because of an "
            "incomplete server implementation or UDP trouble on the path. Read the message, and "
            "try HTTP/2 or HTTP/1.1 through CURLOPT_HTTP_VERSION to confirm."
        ),
        ForClients(
            "The HTTP/3 session failed in a way only the error text describes, often because of "
            "an incomplete server implementation or UDP trouble on the path. Read the message, "
            'and try http_version="2" or "1.1" to confirm.'
        ),
    )

    QUIC_CONNECT_ERROR = (
        96,
        "7.69.0",
        Category.PROTOCOL,
        SAFE,
        "The QUIC connection could not be established.",
        (
            "Setting up QUIC for HTTP/3 failed, often because UDP is blocked, the server does not "
            "really offer HTTP/3, or the TLS library could not complete the QUIC handshake. Check "
            "that UDP port 443 is reachable, or allow fallback by asking for CURL_HTTP_VERSION_3 "
            "rather than CURL_HTTP_VERSION_3ONLY."
        ),
        ForClients(
            "Setting up QUIC for HTTP/3 failed, often because UDP is blocked, the server does "
            "not really offer HTTP/3, or the TLS library could not complete the QUIC handshake. "
            'Check that UDP port 443 is reachable, or allow fallback with http_version="3" '
            'rather than "3-only".'
        ),
    )

    PROXY = (
        97,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The handshake with the proxy failed.",
        (
            "The SOCKS proxy refused or broke off the connection setup, and CURLINFO_PROXY_ERROR "
            "holds the specific reason as a ProxyCode. Check the proxy address and type "
            "(CURLOPT_PROXYTYPE or a socks5h:// style proxy URL) and the credentials in "
            "CURLOPT_PROXYUSERPWD."
        ),
        ForClients(
            "The SOCKS proxy refused or broke off the connection setup. Check the proxy address, "
            "its type in the scheme of proxy= (socks5h:// lets the proxy resolve host names) and "
            "the credentials in it (socks5://user:password@host:port)."
        ),
    )

    SSL_CLIENTCERT = (
        98,
        "7.77.0",
        Category.TLS,
        NEVER,
        "The server wanted a client certificate that was missing or not accepted.",
        (
            "The server requires mutual TLS. Supply a certificate and key it trusts with "
            "CURLOPT_SSLCERT and CURLOPT_SSLKEY, and check that the certificate has not expired."
        ),
        ForClients(
            "The server requires mutual TLS. Supply a certificate and key it trusts with "
            'cert=("client.pem", "client.key"), and check that the certificate has not expired.'
        ),
    )

    UNRECOVERABLE_POLL = (
        99,
        "7.84.0",
        Category.INTERNAL,
        NEVER,
        "Waiting for socket activity failed beyond recovery.",
        (
            "The internal poll or select call returned a fatal error, usually because of a closed "
            "or invalid file descriptor or a system resource limit. Check the process's "
            "file-descriptor limit and any code that closes sockets libcurl still uses."
        ),
    )

    TOO_LARGE = (
        100,
        "8.6.0",
        Category.LIMIT,
        NEVER,
        "Some data grew beyond an internal size limit.",
        (
            "Something libcurl received or assembled, such as a huge response header or a very "
            "long URL, went past a built-in maximum. Check the server for runaway headers or "
            "cookies, and shorten any oversized option values."
        ),
    )

    ECH_REQUIRED = (
        101,
        "8.8.0",
        Category.TLS,
        NEVER,
        "Encrypted Client Hello was attempted but did not succeed.",
        (
            "CURLOPT_ECH demanded ECH and the server did not accept it, for example because its "
            "ECH keys changed or it does not support ECH. Check the ECH configuration published in "
            "the server's DNS HTTPS record, or relax CURLOPT_ECH so the connection can fall back."
        ),
    )


@enum.unique
class MultiCode(_Code):
    """Result codes of the multi interface (CURLMcode)."""

    # --- success ---
    CALL_MULTI_PERFORM = (
        -1,
        "7.9.6",
        Category.OK,
        NEVER,
        "The multi interface asked to be called again right away.",
        (
            "Old libcurl used this to say more work was ready, and since 7.20.0 it is never "
            "returned. It is not an error; call perform again."
        ),
    )

    OK = (
        0,
        "7.9.6",
        Category.OK,
        NEVER,
        "The multi operation completed without error.",
        "Nothing failed, so there is nothing to fix.",
    )

    # --- handles, sockets and calls ---
    BAD_HANDLE = (
        1,
        "7.9.6",
        Category.USAGE,
        NEVER,
        "The multi handle is not valid.",
        (
            "The handle was never set up, was already closed, or is not a multi handle at all. "
            "Check that CurlMulti.close() was not called before this use."
        ),
    )

    BAD_EASY_HANDLE = (
        2,
        "7.9.6",
        Category.USAGE,
        NEVER,
        "The easy handle is not valid or already belongs to a multi handle.",
        (
            "The Curl object was closed, is not an easy handle, or is already attached to this or "
            "another multi handle. Remove it from the other multi handle first, or pass a fresh, "
            "open handle."
        ),
    )

    OUT_OF_MEMORY = (
        3,
        "7.9.6",
        Category.INTERNAL,
        NEVER,
        "The multi interface could not allocate memory.",
        (
            "The process ran out of memory or hit a cap on it. Check the process's memory use and "
            "any ulimit or container limits."
        ),
    )

    INTERNAL_ERROR = (
        4,
        "7.9.6",
        Category.INTERNAL,
        NEVER,
        "The multi interface hit an internal error.",
        (
            "libcurl found its own state inconsistent, which points to a bug in libcurl. Note the "
            "libcurl version and the steps that led here, and report it or try a newer libcurl."
        ),
    )

    BAD_SOCKET = (
        5,
        "7.15.4",
        Category.USAGE,
        NEVER,
        "The socket passed in is not one libcurl is managing.",
        (
            "socket_action was given a socket that libcurl never handed out through "
            "CURLMOPT_SOCKETFUNCTION or has stopped tracking. Check the bookkeeping in the socket "
            "callback and forget sockets when libcurl says to remove them."
        ),
    )

    UNKNOWN_OPTION = (
        6,
        "7.15.4",
        Category.USAGE,
        NEVER,
        "The multi option is not supported.",
        (
            "CurlMulti.setopt was given an option this libcurl does not know. Check the option "
            "name and the libcurl version it needs."
        ),
    )

    ADDED_ALREADY = (
        7,
        "7.33.0",
        Category.USAGE,
        NEVER,
        "The easy handle was already added to a multi handle.",
        (
            "An easy handle can belong to only one multi handle at a time. Take it out with "
            "remove_handle before adding it again."
        ),
    )

    RECURSIVE_API_CALL = (
        8,
        "7.59.0",
        Category.USAGE,
        NEVER,
        "A multi function was called from inside a callback where that is not allowed.",
        (
            "Multi calls such as perform, add_handle or remove_handle must not run from within "
            "libcurl's own callbacks. Defer the call until the callback has returned."
        ),
    )

    WAKEUP_FAILURE = (
        9,
        "7.68.0",
        Category.INTERNAL,
        NEVER,
        "Waking up a waiting multi handle failed.",
        (
            "curl_multi_wakeup could not signal the handle, usually because its internal wakeup "
            "pipe or socket pair could not be written or this build lacks it. Check "
            "file-descriptor limits and whether the build supports wakeups."
        ),
    )

    BAD_FUNCTION_ARGUMENT = (
        10,
        "7.69.0",
        Category.USAGE,
        NEVER,
        "A multi function was called with an invalid argument.",
        (
            "A parameter to a multi call is missing or out of range. Check the values passed, such "
            "as timeouts and socket lists."
        ),
    )

    ABORTED_BY_CALLBACK = (
        11,
        "7.81.0",
        Category.CALLBACK,
        NEVER,
        "A multi-handle callback asked to stop.",
        (
            "A callback set on the multi handle, such as CURLMOPT_SOCKETFUNCTION or "
            "CURLMOPT_TIMERFUNCTION, returned an error value. Check what the callback returns and "
            "whether it raised an exception."
        ),
    )

    UNRECOVERABLE_POLL = (
        12,
        "7.84.0",
        Category.INTERNAL,
        NEVER,
        "Waiting for socket activity failed beyond recovery.",
        (
            "The internal poll or select call returned a fatal error, usually because of a closed "
            "or invalid file descriptor or a system resource limit. Check the process's "
            "file-descriptor limit and any code that closes sockets libcurl still uses."
        ),
    )


@enum.unique
class ShareCode(_Code):
    """Result codes of the share interface (CURLSHcode)."""

    # --- success ---
    OK = (
        0,
        "7.10.3",
        Category.OK,
        NEVER,
        "The share operation completed without error.",
        "Nothing failed, so there is nothing to fix.",
    )

    # --- share handles and options ---
    BAD_OPTION = (
        1,
        "7.10.3",
        Category.USAGE,
        NEVER,
        "The share option is not valid.",
        (
            "CurlShare.setopt got an option, or a data type for SH_SHARE or SH_UNSHARE, that this "
            "libcurl does not recognise. Check the option and the LOCK_DATA_* constant used."
        ),
    )

    IN_USE = (
        2,
        "7.10.3",
        Category.USAGE,
        NEVER,
        "The share object is still in use.",
        (
            "A share handle cannot be changed or closed while easy handles are attached to it. "
            "Detach it from every easy handle (CURLOPT_SHARE) first."
        ),
    )

    INVALID = (
        3,
        "7.10.3",
        Category.USAGE,
        NEVER,
        "The share handle is not valid.",
        (
            "The handle was never set up, was already closed, or is not a share handle. Check that "
            "CurlShare.close() was not called too early."
        ),
    )

    NOMEM = (
        4,
        "7.12.0",
        Category.INTERNAL,
        NEVER,
        "The share interface could not allocate memory.",
        (
            "The process ran out of memory or hit a cap on it. Check the process's memory use and "
            "any ulimit or container limits."
        ),
    )

    NOT_BUILT_IN = (
        5,
        "7.23.0",
        Category.USAGE,
        NEVER,
        "The requested kind of sharing is not available in this build.",
        (
            "This libcurl was built without the feature behind that data type (for example cookies "
            "or the connection cache). Choose another LOCK_DATA_* type or use a libcurl that "
            "includes the feature."
        ),
    )


@enum.unique
class URLCode(_Code):
    """Result codes of the URL parsing API (CURLUcode)."""

    # --- success ---
    OK = (
        0,
        "7.62.0",
        Category.OK,
        NEVER,
        "The URL operation completed without error.",
        "Nothing failed, so there is nothing to fix.",
    )

    # --- handles and input ---
    BAD_HANDLE = (
        1,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL handle is not valid.",
        (
            "A missing or already freed CURLU handle was passed to the URL API. Check that the "
            "handle was created and not yet cleaned up."
        ),
    )

    BAD_PARTPOINTER = (
        2,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "No place was given to store the requested URL part.",
        (
            "curl_url_get was called without a valid pointer for the result. This is a bug in the "
            "calling code; pass a valid output pointer."
        ),
    )

    MALFORMED_INPUT = (
        3,
        "7.62.0",
        Category.URL,
        NEVER,
        "The URL API was given malformed input.",
        (
            "The string is not a valid URL or URL part, for example because it contains spaces or "
            "control characters. Check the value and percent-encode characters that are not "
            "allowed."
        ),
    )

    BAD_PORT_NUMBER = (
        4,
        "7.62.0",
        Category.URL,
        NEVER,
        "The port number is not valid.",
        (
            "A port must be a decimal number from 0 to 65535. Check the port in the URL or the "
            "value set for the port part."
        ),
    )

    UNSUPPORTED_SCHEME = (
        5,
        "7.62.0",
        Category.URL,
        NEVER,
        "The URL's scheme is not supported by this libcurl.",
        (
            "The scheme is unknown or its protocol was left out of the build. Check the scheme, or "
            "set CURLU_NON_SUPPORT_SCHEME if the URL only needs to be parsed."
        ),
    )

    URLDECODE = (
        6,
        "7.62.0",
        Category.URL,
        NEVER,
        "Percent-decoding part of the URL failed.",
        (
            "A %-sequence is invalid, or decoding produced a character not allowed there, such as "
            "a zero byte. Check the encoding of that part."
        ),
    )

    OUT_OF_MEMORY = (
        7,
        "7.62.0",
        Category.INTERNAL,
        NEVER,
        "The URL API could not allocate memory.",
        (
            "The process ran out of memory or hit a cap on it. Check the process's memory use and "
            "any ulimit or container limits."
        ),
    )

    USER_NOT_ALLOWED = (
        8,
        "7.62.0",
        Category.URL,
        NEVER,
        "The URL contains credentials where none are allowed.",
        (
            "A user name or password was found in the URL while CURLU_DISALLOW_USER was set. "
            "Remove the credentials from the URL and pass them separately, for example with "
            "CURLOPT_USERPWD."
        ),
    )

    UNKNOWN_PART = (
        9,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "An unknown URL part was asked for.",
        (
            "The part identifier passed to the URL API is not one this libcurl knows. Check it "
            "against the CURLUPART_* constants of this version."
        ),
    )

    # --- parts that are not present ---
    NO_SCHEME = (
        10,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL has no scheme.",
        (
            "The scheme was asked for but none is set. Set one, or parse with CURLU_DEFAULT_SCHEME "
            "or CURLU_GUESS_SCHEME so that one is filled in."
        ),
    )

    NO_USER = (
        11,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL has no user name.",
        (
            "The user part was asked for but the URL does not contain one. Treat the part as "
            "absent, or set it before asking for it."
        ),
    )

    NO_PASSWORD = (
        12,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL has no password.",
        (
            "The password part was asked for but the URL does not contain one. Treat the part as "
            "absent, or set it before asking for it."
        ),
    )

    NO_OPTIONS = (
        13,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL has no login options.",
        (
            "The options part (the ';options' after the user name, used by IMAP, POP3 and SMTP) "
            "was asked for but the URL has none. Treat the part as absent, or set it before asking "
            "for it."
        ),
    )

    NO_HOST = (
        14,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL has no host.",
        (
            "Either the host part was asked for and the URL has none, or a URL with an empty host "
            "was parsed. Check that the URL names a host, as in https://example.com/, unless the "
            "scheme (such as file://) does without."
        ),
    )

    NO_PORT = (
        15,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL names no port.",
        (
            "The port part was asked for but the URL does not state one explicitly. Use "
            "CURLU_DEFAULT_PORT to get the scheme's default port instead."
        ),
    )

    NO_QUERY = (
        16,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL has no query.",
        (
            "The query part (after '?') was asked for but the URL has none. Treat the part as "
            "absent, or set it before asking for it."
        ),
    )

    NO_FRAGMENT = (
        17,
        "7.62.0",
        Category.USAGE,
        NEVER,
        "The URL has no fragment.",
        (
            "The fragment part (after '#') was asked for but the URL has none. Treat the part as "
            "absent, or set it before asking for it."
        ),
    )

    NO_ZONEID = (
        18,
        "7.81.0",
        Category.USAGE,
        NEVER,
        "The URL has no IPv6 zone ID.",
        (
            "The zone ID was asked for but the host is not an IPv6 address with a zone, as in "
            "[fe80::1%25eth0]. Treat the part as absent, or set it before asking for it."
        ),
    )

    # --- bad characters and syntax ---
    BAD_FILE_URL = (
        19,
        "7.81.0",
        Category.URL,
        NEVER,
        "The file:// URL is not valid.",
        (
            "A file URL must look like file:///path or name localhost as its host; other hosts and "
            "malformed paths are rejected. Check the slashes and the host part."
        ),
    )

    BAD_FRAGMENT = (
        20,
        "7.81.0",
        Category.URL,
        NEVER,
        "The fragment contains characters that are not allowed.",
        (
            "Percent-encode the offending characters in the part after '#', or set CURLU_URLENCODE "
            "when setting that part."
        ),
    )

    BAD_HOSTNAME = (
        21,
        "7.81.0",
        Category.URL,
        NEVER,
        "The host name contains characters that are not allowed.",
        (
            "Check the host for spaces, stray symbols or a misplaced port separator. Non-ASCII "
            "names need IDN support or their punycode (xn--) form."
        ),
    )

    BAD_IPV6 = (
        22,
        "7.81.0",
        Category.URL,
        NEVER,
        "The IPv6 address in the URL is not valid.",
        (
            "An IPv6 literal must be a well-formed address in square brackets, as in "
            "http://[::1]:8080/. Check the brackets and the address, and write the % before a zone "
            "ID as %25."
        ),
    )

    BAD_LOGIN = (
        23,
        "7.81.0",
        Category.URL,
        NEVER,
        "The login part of the URL contains characters that are not allowed.",
        (
            "Percent-encode characters such as '@', ':' and '/' in the user name, password or "
            "login options, or pass the credentials with CURLOPT_USERPWD instead."
        ),
    )

    BAD_PASSWORD = (
        24,
        "7.81.0",
        Category.URL,
        NEVER,
        "The password in the URL contains characters that are not allowed.",
        (
            "Percent-encode special characters such as '@', ':' and '/' in the password, or pass "
            "it with CURLOPT_USERPWD instead."
        ),
    )

    BAD_PATH = (
        25,
        "7.81.0",
        Category.URL,
        NEVER,
        "The path contains characters that are not allowed.",
        (
            "Percent-encode spaces and other reserved characters in the path, or set "
            "CURLU_URLENCODE when setting it."
        ),
    )

    BAD_QUERY = (
        26,
        "7.81.0",
        Category.URL,
        NEVER,
        "The query contains characters that are not allowed.",
        (
            "Percent-encode spaces and other disallowed characters in the part after '?', or set "
            "CURLU_URLENCODE when setting it."
        ),
    )

    BAD_SCHEME = (
        27,
        "7.81.0",
        Category.URL,
        NEVER,
        "The scheme is not valid.",
        (
            "A scheme must start with a letter and hold only letters, digits, '+', '-' and '.', "
            "and it may also be missing where one is required. Check the text before '://', or "
            "parse with CURLU_DEFAULT_SCHEME."
        ),
    )

    BAD_SLASHES = (
        28,
        "7.81.0",
        Category.URL,
        NEVER,
        "The URL has the wrong number of slashes after the scheme.",
        (
            "Most schemes expect exactly two slashes after the colon, as in https://host/, and "
            "file URLs usually three. Fix the slashes in the URL."
        ),
    )

    BAD_USER = (
        29,
        "7.81.0",
        Category.URL,
        NEVER,
        "The user name in the URL contains characters that are not allowed.",
        (
            "Percent-encode special characters such as '@', ':' and '/' in the user name, or pass "
            "it with CURLOPT_USERPWD instead."
        ),
    )

    LACKS_IDN = (
        30,
        "7.88.0",
        Category.USAGE,
        NEVER,
        "The host name needs IDN support, which this libcurl lacks.",
        (
            "The host contains non-ASCII characters and libcurl was built without an IDN library. "
            "Convert the name to its punycode (xn--) form first, for example with Python's 'idna' "
            "codec, or use a libcurl built with IDN support."
        ),
    )

    TOO_LARGE = (
        31,
        "8.6.0",
        Category.URL,
        NEVER,
        "The URL or one of its parts is longer than allowed.",
        (
            "libcurl caps the size of URLs and their parts as a safety measure. Shorten the URL, "
            "for example by moving data from the query string into a request body."
        ),
    )

    BACKSLASH = (
        32,
        "8.22.0",
        Category.URL,
        NEVER,
        "A backslash appeared where a forward slash was expected.",
        (
            "URLs separate their parts with '/', and libcurl rejects a '\\' in that place instead "
            "of guessing; this often comes from Windows-style paths. Replace the backslashes with "
            "forward slashes, or percent-encode them as %5C if they are data."
        ),
    )


@enum.unique
class HeaderCode(_Code):
    """Result codes of the header API (CURLHcode)."""

    # --- success ---
    OK = (
        0,
        "7.83.0",
        Category.OK,
        NEVER,
        "The header lookup completed without error.",
        "Nothing failed, so there is nothing to fix.",
    )

    # --- lookups ---
    BADINDEX = (
        1,
        "7.83.0",
        Category.USAGE,
        NEVER,
        "The header exists, but not at the requested index.",
        (
            "Fewer instances of that header were received than the index assumes. Read how many "
            "there are (the amount field of the result) and stay below it."
        ),
    )

    MISSING = (
        2,
        "7.83.0",
        Category.USAGE,
        NEVER,
        "No header with that name was found.",
        (
            "The response did not include it, or it was looked for in the wrong place (headers, "
            "trailers, CONNECT, 1xx or push responses). Check the name and the origin flags such "
            "as CURLH_HEADER and CURLH_TRAILER."
        ),
    )

    NOHEADERS = (
        3,
        "7.83.0",
        Category.USAGE,
        NEVER,
        "No headers have been received yet.",
        (
            "The header API was used before any response headers arrived, or on a handle that ran "
            "no transfer. Ask only once headers are in, for example after perform returns."
        ),
    )

    NOREQUEST = (
        4,
        "7.83.0",
        Category.USAGE,
        NEVER,
        "There is no request with that number.",
        (
            "The request index points past the requests this transfer made (for example a redirect "
            "that was not followed). Use -1 for the last request, or check how many requests the "
            "transfer made."
        ),
    )

    # --- resources and arguments ---
    OUT_OF_MEMORY = (
        5,
        "7.83.0",
        Category.INTERNAL,
        NEVER,
        "The header API could not allocate memory.",
        (
            "The process ran out of memory or hit a cap on it. Check the process's memory use and "
            "any ulimit or container limits."
        ),
    )

    BAD_ARGUMENT = (
        6,
        "7.83.0",
        Category.USAGE,
        NEVER,
        "A header function was called with an invalid argument.",
        (
            "A required argument was missing, or the origin or index value is out of range. Check "
            "the arguments passed to the header API."
        ),
    )

    NOT_BUILT_IN = (
        7,
        "7.83.0",
        Category.USAGE,
        NEVER,
        "The header API is not available in this build.",
        (
            "libcurl was built without HTTP support or with the header API disabled. Use a libcurl "
            "that includes it, or collect headers with a HEADERFUNCTION callback instead."
        ),
    )


@enum.unique
class ProxyCode(_Code):
    """SOCKS proxy failure details (CURLproxycode) behind CurlCode.PROXY."""

    # --- no detail ---
    OK = (
        0,
        "7.73.0",
        Category.OK,
        NEVER,
        "No proxy error detail is available.",
        (
            "The proxy step recorded no specific reason, or nothing failed there. Look at the main "
            "error code and its message instead."
        ),
    )

    # --- protocol and authentication ---
    BAD_ADDRESS_TYPE = (
        1,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy replied with an unknown address type.",
        (
            "The proxy's reply used an address type libcurl does not recognise, which points to a "
            "non-compliant proxy or something that is not a SOCKS5 server. Check the proxy type "
            "and port."
        ),
    )

    BAD_VERSION = (
        2,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The proxy answered with the wrong SOCKS version.",
        (
            "The server at the proxy address does not speak the SOCKS version asked for, or is not "
            "a SOCKS proxy at all. Check that CURLOPT_PROXYTYPE (or the socks4:// or socks5:// "
            "prefix of the proxy URL) matches the proxy."
        ),
        ForClients(
            "The server at the proxy address does not speak the SOCKS version asked for, or is "
            "not a SOCKS proxy at all. Check that the scheme of proxy= (socks4://, socks5://, "
            "socks5h:// or http://) matches the proxy."
        ),
    )

    CLOSED = (
        3,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The proxy closed the connection during the handshake.",
        (
            "The proxy hung up before setup finished, often because it rejected this client, is "
            "overloaded, or is not a SOCKS proxy. Check the proxy's address, type and access "
            "rules."
        ),
    )

    GSSAPI = (
        4,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "SOCKS5 GSS-API negotiation failed.",
        (
            "Kerberos authentication with the proxy did not succeed. Check for a valid ticket "
            "(klist) and the proxy's service name in CURLOPT_PROXY_SERVICE_NAME."
        ),
    )

    GSSAPI_PERMSG = (
        5,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "SOCKS5 GSS-API message protection failed.",
        (
            "Protecting or unprotecting a message exchanged with the proxy failed after "
            "authentication. Check the proxy's GSS-API settings and CURLOPT_SOCKS5_GSSAPI_NEC."
        ),
    )

    GSSAPI_PROTECTION = (
        6,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 GSS-API protection level could not be agreed.",
        (
            "Client and proxy did not settle on a protection level. Set CURLOPT_SOCKS5_GSSAPI_NEC "
            "if the proxy expects unprotected negotiation, and check its configuration."
        ),
    )

    IDENTD = (
        7,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS4 proxy could not reach the identd service on this machine.",
        (
            "The proxy wants to confirm the user through identd and got no answer. Run identd and "
            "let the proxy reach it, or use a proxy that does not require it."
        ),
    )

    IDENTD_DIFFER = (
        8,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS4 proxy's identd check returned a different user.",
        (
            "The user that identd reported for this connection does not match the one libcurl "
            "sent. Make the user in the request (CURLOPT_PROXYUSERNAME) match the local account."
        ),
        ForClients(
            "The user that identd reported for this connection does not match the one libcurl "
            'sent. Make the user in the proxy URL (proxy="socks4://user@host:port") match the '
            "local account."
        ),
    )

    LONG_HOSTNAME = (
        9,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The host name is too long to pass through the SOCKS proxy.",
        (
            "SOCKS allows host names of at most 255 bytes. Check for a runaway host name, or "
            "resolve it locally (socks5:// instead of socks5h://) so only the address is sent."
        ),
    )

    LONG_PASSWD = (
        10,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The password is too long for SOCKS5 authentication.",
        (
            "SOCKS5 user/password authentication allows at most 255 bytes of password. Use a "
            "shorter proxy password."
        ),
    )

    LONG_USER = (
        11,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The user name is too long for the SOCKS proxy.",
        "SOCKS allows at most 255 bytes of user name. Use a shorter proxy user name.",
    )

    NO_AUTH = (
        12,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy accepted none of the offered authentication methods.",
        (
            "The proxy requires a method that was not offered, typically user/password when no "
            "credentials were set. Provide CURLOPT_PROXYUSERPWD or adjust CURLOPT_SOCKS5_AUTH."
        ),
        (Category.AUTH,),
        ForClients(
            "The proxy requires a method that was not offered, typically user/password when no "
            "credentials were set. Put them in the proxy URL: "
            'proxy="socks5://user:password@host:port".'
        ),
    )

    # --- receiving from the proxy ---
    RECV_ADDRESS = (
        13,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "Reading the address part of the SOCKS proxy's reply failed.",
        (
            "The connection to the proxy broke or stalled while reading the address in its reply. "
            "Check the network path to the proxy and that the proxy is running and not overloaded."
        ),
    )

    RECV_AUTH = (
        14,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "Reading the SOCKS proxy's authentication reply failed.",
        (
            "The connection to the proxy broke or stalled while reading its answer to the "
            "credentials. Check the network path to the proxy and that the proxy is running and "
            "not overloaded."
        ),
    )

    RECV_CONNECT = (
        15,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "Reading the SOCKS proxy's greeting or connect reply failed.",
        (
            "The connection to the proxy broke or stalled while reading its first reply. Check the "
            "network path to the proxy and that the proxy is running and not overloaded."
        ),
    )

    RECV_REQACK = (
        16,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "Reading the SOCKS proxy's acknowledgement of the request failed.",
        (
            "The connection to the proxy broke or stalled while reading its answer to the connect "
            "request. Check the network path to the proxy and that the proxy is running and not "
            "overloaded."
        ),
    )

    # --- SOCKS5 replies ---
    REPLY_ADDRESS_TYPE_NOT_SUPPORTED = (
        17,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy does not support the requested address type.",
        (
            "The proxy refused the form of the target address (such as IPv6 or a host name). "
            "Switch between socks5:// (resolve locally) and socks5h:// (let the proxy resolve), or "
            "use an IPv4 target."
        ),
    )

    REPLY_COMMAND_NOT_SUPPORTED = (
        18,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy does not support the requested command.",
        (
            "The proxy rejected the CONNECT command, which means it is restricted or is not a "
            "general-purpose SOCKS5 proxy. Check the proxy's configuration."
        ),
    )

    REPLY_CONNECTION_REFUSED = (
        19,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The target refused the connection that the SOCKS5 proxy tried to make.",
        (
            "The proxy reached the target host but nothing accepted the connection on that port. "
            "Check that the service is up and that the host and port in the URL are right."
        ),
    )

    REPLY_GENERAL_SERVER_FAILURE = (
        20,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The SOCKS5 proxy reported a general failure.",
        (
            "The proxy could not carry out the request for an unspecified reason of its own. Check "
            "the proxy's logs and health."
        ),
    )

    REPLY_HOST_UNREACHABLE = (
        21,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The SOCKS5 proxy could not reach the target host.",
        (
            "The target is down or unreachable from the proxy's network, or its name did not "
            "resolve there. Check the host in the URL and the proxy's connectivity."
        ),
    )

    REPLY_NETWORK_UNREACHABLE = (
        22,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The SOCKS5 proxy has no route to the target's network.",
        (
            "The proxy's network cannot reach the target's address range. Check the target address "
            "and the routing available to the proxy."
        ),
    )

    REPLY_NOT_ALLOWED = (
        23,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy's rules forbid this connection.",
        (
            "The proxy's access rules do not let this client reach that target. Ask the proxy's "
            "administrator, or use credentials or a target that are allowed."
        ),
    )

    REPLY_TTL_EXPIRED = (
        24,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The SOCKS5 proxy reported that the connection's TTL expired.",
        (
            "Packets from the proxy to the target ran out of hops, which points to an overly long "
            "or looping route. Check the routing between the proxy and the target."
        ),
    )

    REPLY_UNASSIGNED = (
        25,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy replied with an undefined error code.",
        (
            "The reply code is not one the SOCKS5 standard defines, which points to a "
            "non-compliant proxy. Check the proxy software and its logs."
        ),
    )

    # --- requests, resolving and sending ---
    REQUEST_FAILED = (
        26,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The SOCKS4 proxy rejected or failed the request.",
        (
            "The proxy turned the connection to the target down, because of its access rules or "
            "because it could not reach the target. Check the target host and port, and the "
            "proxy's rules and logs."
        ),
    )

    RESOLVE_HOST = (
        27,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "The target host name could not be resolved locally for the SOCKS proxy.",
        (
            "With socks4:// or socks5:// libcurl looks up the target itself before asking the "
            "proxy, and that lookup failed. Check DNS on this machine, or use socks4a:// or "
            "socks5h:// so that the proxy resolves the name."
        ),
        (Category.DNS,),
    )

    SEND_AUTH = (
        28,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "Sending credentials to the SOCKS proxy failed.",
        (
            "The connection to the proxy broke or stalled while sending the credentials. Check the "
            "network path to the proxy and that the proxy is running and not overloaded."
        ),
    )

    SEND_CONNECT = (
        29,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "Sending the greeting or connect request to the SOCKS proxy failed.",
        (
            "The connection to the proxy broke or stalled while sending the first message. Check "
            "the network path to the proxy and that the proxy is running and not overloaded."
        ),
    )

    SEND_REQUEST = (
        30,
        "7.73.0",
        Category.PROXY,
        SAFE,
        "Sending the request to the SOCKS proxy failed.",
        (
            "The connection to the proxy broke or stalled while sending the connect request. Check "
            "the network path to the proxy and that the proxy is running and not overloaded."
        ),
    )

    # --- unknown replies and rejected users ---
    UNKNOWN_FAIL = (
        31,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS4 proxy replied with an unknown failure code.",
        (
            "The reply code is not one SOCKS4 defines, which points to a non-compliant proxy or a "
            "different protocol on that port. Check the proxy type and software."
        ),
    )

    UNKNOWN_MODE = (
        32,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy chose an authentication method libcurl cannot use.",
        (
            "The proxy picked a method that was not offered or that libcurl does not implement. "
            "Check CURLOPT_SOCKS5_AUTH and the proxy's authentication settings."
        ),
    )

    USER_REJECTED = (
        33,
        "7.73.0",
        Category.PROXY,
        NEVER,
        "The SOCKS5 proxy rejected the user name or password.",
        (
            "Check the credentials in CURLOPT_PROXYUSERPWD (or in the proxy URL) and that the "
            "account may use the proxy."
        ),
        (Category.AUTH,),
        ForClients(
            "Check the credentials in the proxy URL (proxy=) and that the account may use the "
            "proxy."
        ),
    )


_FAMILY_OF.update(
    {
        CurlCode: Family.EASY,
        MultiCode: Family.MULTI,
        ShareCode: Family.SHARE,
        URLCode: Family.URL,
        HeaderCode: Family.HEADER,
        ProxyCode: Family.PROXY,
    }
)

# Older and alternative libcurl names, each mapped to the member its number means today.
ALIASES: Final[Mapping[str, _Code]] = {
    "CURLE_URL_MALFORMAT_USER": CurlCode.NOT_BUILT_IN,
    "CURLE_FTP_WEIRD_SERVER_REPLY": CurlCode.WEIRD_SERVER_REPLY,
    "CURLE_FTP_ACCESS_DENIED": CurlCode.REMOTE_ACCESS_DENIED,
    "CURLE_FTP_USER_PASSWORD_INCORRECT": CurlCode.FTP_ACCEPT_FAILED,
    "CURLE_OBSOLETE10": CurlCode.FTP_ACCEPT_FAILED,
    "CURLE_FTP_WEIRD_USER_REPLY": CurlCode.FTP_ACCEPT_TIMEOUT,
    "CURLE_OBSOLETE12": CurlCode.FTP_ACCEPT_TIMEOUT,
    "CURLE_FTP_CANT_RECONNECT": CurlCode.HTTP2,
    "CURLE_OBSOLETE16": CurlCode.HTTP2,
    "CURLE_FTP_COULDNT_SET_BINARY": CurlCode.FTP_COULDNT_SET_TYPE,
    "CURLE_FTP_PARTIAL_FILE": CurlCode.PARTIAL_FILE,
    "CURLE_FTP_WRITE_ERROR": CurlCode.OBSOLETE20,
    "CURLE_FTP_QUOTE_ERROR": CurlCode.QUOTE_ERROR,
    "CURLE_HTTP_NOT_FOUND": CurlCode.HTTP_RETURNED_ERROR,
    "CURLE_MALFORMAT_USER": CurlCode.OBSOLETE24,
    "CURLE_FTP_COULDNT_STOR_FILE": CurlCode.UPLOAD_FAILED,
    "CURLE_OPERATION_TIMEOUTED": CurlCode.OPERATION_TIMEDOUT,
    "CURLE_FTP_COULDNT_SET_ASCII": CurlCode.OBSOLETE29,
    "CURLE_FTP_COULDNT_GET_SIZE": CurlCode.OBSOLETE32,
    "CURLE_HTTP_RANGE_ERROR": CurlCode.RANGE_ERROR,
    "CURLE_HTTP_POST_ERROR": CurlCode.OBSOLETE34,
    "CURLE_FTP_BAD_DOWNLOAD_RESUME": CurlCode.BAD_DOWNLOAD_RESUME,
    "CURLE_LIBRARY_NOT_FOUND": CurlCode.OBSOLETE40,
    "CURLE_FUNCTION_NOT_FOUND": CurlCode.OBSOLETE41,
    "CURLE_BAD_CALLING_ORDER": CurlCode.OBSOLETE44,
    "CURLE_HTTP_PORT_FAILED": CurlCode.INTERFACE_FAILED,
    "CURLE_BAD_PASSWORD_ENTERED": CurlCode.OBSOLETE46,
    "CURLE_UNKNOWN_TELNET_OPTION": CurlCode.UNKNOWN_OPTION,
    "CURLE_TELNET_OPTION_SYNTAX": CurlCode.SETOPT_OPTION_SYNTAX,
    "CURLE_OBSOLETE": CurlCode.OBSOLETE50,
    "CURLE_SHARE_IN_USE": CurlCode.OBSOLETE57,
    "CURLE_SSL_CACERT": CurlCode.PEER_FAILED_VERIFICATION,
    "CURLE_SSL_PEER_CERTIFICATE": CurlCode.PEER_FAILED_VERIFICATION,
    "CURLE_LDAP_INVALID_URL": CurlCode.OBSOLETE62,
    "CURLE_FTP_SSL_FAILED": CurlCode.USE_SSL_FAILED,
    "CURLE_TFTP_DISKFULL": CurlCode.REMOTE_DISK_FULL,
    "CURLE_TFTP_EXISTS": CurlCode.REMOTE_FILE_EXISTS,
    "CURLE_CONV_FAILED": CurlCode.OBSOLETE75,
    "CURLE_CONV_REQD": CurlCode.OBSOLETE76,
    "CURLM_CALL_MULTI_SOCKET": MultiCode.CALL_MULTI_PERFORM,
}

# Names that exist only so old source code compiles; libcurl never returns these numbers.
SOURCE_COMPAT_ONLY: Final[Mapping[str, int]] = {"CURLE_ALREADY_COMPLETE": 99999}


def all_codes() -> Iterator[_Code]:
    """Every row of every family, easy codes first."""
    for enum_cls in _FAMILY_OF:
        yield from enum_cls
