"""One exception class per libcurl code, generated from the code table.

Written by scripts/generate_code_errors.py from `_codes.py`: do not edit by hand;
tests/test_code_errors.py fails while this file is out of date.
"""

from __future__ import annotations

from ._codes import CurlCode, MultiCode, ShareCode, URLCode
from ._exceptions import (
    AuthError,
    CallbackError,
    CertificateError,
    ConnectError,
    DNSError,
    FTPError,
    HTTPError,
    HTTPStatusError,
    InternalError,
    InvalidURL,
    LDAPError,
    LimitExceeded,
    LocalIOError,
    MultiError,
    NetworkError,
    ProtocolError,
    ProxyError,
    RemoteError,
    RTSPError,
    ShareError,
    SSHError,
    SSLError,
    TFTPError,
    TimeoutError,
    URLError,
    UsageError,
)

__all__ = [
    "AbortedByCallback",
    "Again",
    "BadContentEncoding",
    "BadDownloadResume",
    "BadFunctionArgument",
    "ChunkFailed",
    "CouldntConnect",
    "CouldntResolveHost",
    "CouldntResolveProxy",
    "ECHRequired",
    "FTPAcceptFailed",
    "FTPAcceptTimeout",
    "FTPBadFileList",
    "FTPCantGetHost",
    "FTPCouldntRetrFile",
    "FTPCouldntSetType",
    "FTPCouldntUseRest",
    "FTPPortFailed",
    "FTPPretFailed",
    "FTPWeird227Format",
    "FTPWeirdPassReply",
    "FTPWeirdPasvReply",
    "FailedInit",
    "FileCouldntReadFile",
    "FilesizeExceeded",
    "GotNothing",
    "HTTP2",
    "HTTP2Stream",
    "HTTP3",
    "HTTPReturnedError",
    "InterfaceFailed",
    "LDAPCannotBind",
    "LDAPSearchFailed",
    "LoginDenied",
    "MultiAbortedByCallback",
    "MultiAddedAlready",
    "MultiBadEasyHandle",
    "MultiBadFunctionArgument",
    "MultiBadHandle",
    "MultiBadSocket",
    "MultiInternalError",
    "MultiOutOfMemory",
    "MultiRecursiveAPICall",
    "MultiUnknownOption",
    "MultiUnrecoverablePoll",
    "MultiWakeupFailure",
    "NoConnectionAvailable",
    "NotBuiltIn",
    "OperationTimedout",
    "OutOfMemory",
    "PartialFile",
    "PeerFailedVerification",
    "Proxy",
    "QUICConnectError",
    "QuoteError",
    "RTSPCseqError",
    "RTSPSessionError",
    "RangeError",
    "ReadError",
    "RecursiveAPICall",
    "RecvError",
    "RemoteAccessDenied",
    "RemoteDiskFull",
    "RemoteFileExists",
    "RemoteFileNotFound",
    "SSH",
    "SSLCRLBadfile",
    "SSLCacertBadfile",
    "SSLCertproblem",
    "SSLCipher",
    "SSLClientcert",
    "SSLConnectError",
    "SSLEngineInitfailed",
    "SSLEngineNotfound",
    "SSLEngineSetfailed",
    "SSLInvalidcertstatus",
    "SSLIssuerError",
    "SSLPinnedpubkeynotmatch",
    "SSLShutdownFailed",
    "SendError",
    "SendFailRewind",
    "SetoptOptionSyntax",
    "ShareBadOption",
    "ShareInUse",
    "ShareInvalid",
    "ShareNomem",
    "ShareNotBuiltIn",
    "TFTPIllegal",
    "TFTPNosuchuser",
    "TFTPNotfound",
    "TFTPPerm",
    "TFTPUnknownid",
    "TooLarge",
    "TooManyRedirects",
    "URLBackslash",
    "URLBadFileURL",
    "URLBadFragment",
    "URLBadHandle",
    "URLBadHostname",
    "URLBadIpv6",
    "URLBadLogin",
    "URLBadPartpointer",
    "URLBadPassword",
    "URLBadPath",
    "URLBadPortNumber",
    "URLBadQuery",
    "URLBadScheme",
    "URLBadSlashes",
    "URLBadUser",
    "URLLacksIdn",
    "URLMalformat",
    "URLMalformedInput",
    "URLNoFragment",
    "URLNoHost",
    "URLNoOptions",
    "URLNoPassword",
    "URLNoPort",
    "URLNoQuery",
    "URLNoScheme",
    "URLNoUser",
    "URLNoZoneid",
    "URLOutOfMemory",
    "URLTooLarge",
    "URLUnknownPart",
    "URLUnsupportedScheme",
    "URLUrldecode",
    "URLUserNotAllowed",
    "UnknownOption",
    "UnrecoverablePoll",
    "UnsupportedProtocol",
    "UploadFailed",
    "UseSSLFailed",
    "WeirdServerReply",
    "WriteError",
]


class UnsupportedProtocol(UsageError):
    """The URL's scheme is not one this libcurl can speak (CURLE_UNSUPPORTED_PROTOCOL, 1)."""

    _code = CurlCode.UNSUPPORTED_PROTOCOL


class FailedInit(InternalError):
    """libcurl could not set itself up for the transfer (CURLE_FAILED_INIT, 2)."""

    _code = CurlCode.FAILED_INIT


class URLMalformat(InvalidURL):
    """The URL could not be parsed (CURLE_URL_MALFORMAT, 3)."""

    _code = CurlCode.URL_MALFORMAT


class NotBuiltIn(UsageError):
    """The requested feature was left out when libcurl was built (CURLE_NOT_BUILT_IN, 4)."""

    _code = CurlCode.NOT_BUILT_IN


class CouldntResolveProxy(DNSError, ProxyError):
    """The proxy's host name could not be resolved (CURLE_COULDNT_RESOLVE_PROXY, 5)."""

    _code = CurlCode.COULDNT_RESOLVE_PROXY


class CouldntResolveHost(DNSError):
    """The server's host name could not be resolved (CURLE_COULDNT_RESOLVE_HOST, 6)."""

    _code = CurlCode.COULDNT_RESOLVE_HOST


class CouldntConnect(ConnectError):
    """Nothing accepted the connection to the host or proxy (CURLE_COULDNT_CONNECT, 7)."""

    _code = CurlCode.COULDNT_CONNECT


class WeirdServerReply(ProtocolError):
    """The server answered with something libcurl could not make sense of
    (CURLE_WEIRD_SERVER_REPLY, 8).
    """

    _code = CurlCode.WEIRD_SERVER_REPLY


class RemoteAccessDenied(RemoteError):
    """The server refused access to the requested resource (CURLE_REMOTE_ACCESS_DENIED, 9)."""

    _code = CurlCode.REMOTE_ACCESS_DENIED


class FTPAcceptFailed(FTPError):
    """The FTP server reported an error while libcurl waited for it to open the data connection
    (CURLE_FTP_ACCEPT_FAILED, 10).
    """

    _code = CurlCode.FTP_ACCEPT_FAILED


class FTPWeirdPassReply(FTPError, ProtocolError):
    """The FTP server's answer to the password was not understood
    (CURLE_FTP_WEIRD_PASS_REPLY, 11).
    """

    _code = CurlCode.FTP_WEIRD_PASS_REPLY


class FTPAcceptTimeout(TimeoutError, FTPError):
    """The FTP server did not open the active-mode data connection in time
    (CURLE_FTP_ACCEPT_TIMEOUT, 12).
    """

    _code = CurlCode.FTP_ACCEPT_TIMEOUT


class FTPWeirdPasvReply(FTPError, ProtocolError):
    """The FTP server's answer to the passive-mode request was unusable
    (CURLE_FTP_WEIRD_PASV_REPLY, 13).
    """

    _code = CurlCode.FTP_WEIRD_PASV_REPLY


class FTPWeird227Format(FTPError, ProtocolError):
    """The FTP server's 227 passive-mode reply was malformed (CURLE_FTP_WEIRD_227_FORMAT, 14)."""

    _code = CurlCode.FTP_WEIRD_227_FORMAT


class FTPCantGetHost(FTPError, DNSError):
    """The host for the FTP data connection could not be looked up (CURLE_FTP_CANT_GET_HOST, 15)."""

    _code = CurlCode.FTP_CANT_GET_HOST


class HTTP2(ProtocolError):
    """Something went wrong in the HTTP/2 framing layer (CURLE_HTTP2, 16)."""

    _code = CurlCode.HTTP2


class FTPCouldntSetType(FTPError):
    """The FTP server refused to switch between ASCII and binary mode
    (CURLE_FTP_COULDNT_SET_TYPE, 17).
    """

    _code = CurlCode.FTP_COULDNT_SET_TYPE


class PartialFile(ProtocolError):
    """The amount of data transferred did not match the size the server announced
    (CURLE_PARTIAL_FILE, 18).
    """

    _code = CurlCode.PARTIAL_FILE


class FTPCouldntRetrFile(FTPError, RemoteError):
    """The FTP server would not deliver the requested file (CURLE_FTP_COULDNT_RETR_FILE, 19)."""

    _code = CurlCode.FTP_COULDNT_RETR_FILE


class QuoteError(RemoteError):
    """A custom command sent to the server got an error reply (CURLE_QUOTE_ERROR, 21)."""

    _code = CurlCode.QUOTE_ERROR


class HTTPReturnedError(HTTPStatusError):
    """The server answered with an HTTP error status (400 or above)
    (CURLE_HTTP_RETURNED_ERROR, 22).
    """

    _code = CurlCode.HTTP_RETURNED_ERROR


class WriteError(LocalIOError):
    """Received data could not be written out (CURLE_WRITE_ERROR, 23)."""

    _code = CurlCode.WRITE_ERROR


class UploadFailed(RemoteError):
    """The server would not let the upload start (CURLE_UPLOAD_FAILED, 25)."""

    _code = CurlCode.UPLOAD_FAILED


class ReadError(LocalIOError):
    """The data to upload could not be read (CURLE_READ_ERROR, 26)."""

    _code = CurlCode.READ_ERROR


class OutOfMemory(InternalError):
    """libcurl could not allocate memory (CURLE_OUT_OF_MEMORY, 27)."""

    _code = CurlCode.OUT_OF_MEMORY


class OperationTimedout(TimeoutError):
    """A time limit ran out before the operation finished (CURLE_OPERATION_TIMEDOUT, 28)."""

    _code = CurlCode.OPERATION_TIMEDOUT


class FTPPortFailed(FTPError):
    """The FTP server rejected the active-mode PORT command (CURLE_FTP_PORT_FAILED, 30)."""

    _code = CurlCode.FTP_PORT_FAILED


class FTPCouldntUseRest(FTPError):
    """The FTP server refused to start the transfer from an offset
    (CURLE_FTP_COULDNT_USE_REST, 31).
    """

    _code = CurlCode.FTP_COULDNT_USE_REST


class RangeError(RemoteError):
    """The server did not honour the requested byte range (CURLE_RANGE_ERROR, 33)."""

    _code = CurlCode.RANGE_ERROR


class SSLConnectError(SSLError):
    """The TLS handshake failed (CURLE_SSL_CONNECT_ERROR, 35)."""

    _code = CurlCode.SSL_CONNECT_ERROR


class BadDownloadResume(UsageError):
    """The resume offset lies beyond the end of the file (CURLE_BAD_DOWNLOAD_RESUME, 36)."""

    _code = CurlCode.BAD_DOWNLOAD_RESUME


class FileCouldntReadFile(LocalIOError):
    """The file named in a file:// URL could not be opened (CURLE_FILE_COULDNT_READ_FILE, 37)."""

    _code = CurlCode.FILE_COULDNT_READ_FILE


class LDAPCannotBind(LDAPError, AuthError):
    """Binding to the LDAP server failed (CURLE_LDAP_CANNOT_BIND, 38)."""

    _code = CurlCode.LDAP_CANNOT_BIND


class LDAPSearchFailed(LDAPError):
    """The LDAP search did not succeed (CURLE_LDAP_SEARCH_FAILED, 39)."""

    _code = CurlCode.LDAP_SEARCH_FAILED


class AbortedByCallback(CallbackError):
    """An application callback stopped the transfer (CURLE_ABORTED_BY_CALLBACK, 42)."""

    _code = CurlCode.ABORTED_BY_CALLBACK


class BadFunctionArgument(UsageError):
    """A libcurl function was called with an invalid argument (CURLE_BAD_FUNCTION_ARGUMENT, 43)."""

    _code = CurlCode.BAD_FUNCTION_ARGUMENT


class InterfaceFailed(ConnectError):
    """The requested outgoing network interface could not be used (CURLE_INTERFACE_FAILED, 45)."""

    _code = CurlCode.INTERFACE_FAILED


class TooManyRedirects(HTTPError):
    """The redirect limit was reached (CURLE_TOO_MANY_REDIRECTS, 47)."""

    _code = CurlCode.TOO_MANY_REDIRECTS


class UnknownOption(UsageError):
    """An option was not recognised (CURLE_UNKNOWN_OPTION, 48)."""

    _code = CurlCode.UNKNOWN_OPTION


class SetoptOptionSyntax(UsageError):
    """An option's value was badly formatted (CURLE_SETOPT_OPTION_SYNTAX, 49)."""

    _code = CurlCode.SETOPT_OPTION_SYNTAX


class GotNothing(NetworkError):
    """The server closed the connection without sending any reply (CURLE_GOT_NOTHING, 52)."""

    _code = CurlCode.GOT_NOTHING


class SSLEngineNotfound(SSLError):
    """The requested crypto engine could not be found (CURLE_SSL_ENGINE_NOTFOUND, 53)."""

    _code = CurlCode.SSL_ENGINE_NOTFOUND


class SSLEngineSetfailed(SSLError):
    """The crypto engine could not be made the default (CURLE_SSL_ENGINE_SETFAILED, 54)."""

    _code = CurlCode.SSL_ENGINE_SETFAILED


class SendError(NetworkError):
    """Sending data over the network failed (CURLE_SEND_ERROR, 55)."""

    _code = CurlCode.SEND_ERROR


class RecvError(NetworkError):
    """Receiving data from the network failed (CURLE_RECV_ERROR, 56)."""

    _code = CurlCode.RECV_ERROR


class SSLCertproblem(SSLError):
    """The local client certificate could not be used (CURLE_SSL_CERTPROBLEM, 58)."""

    _code = CurlCode.SSL_CERTPROBLEM


class SSLCipher(SSLError):
    """The requested cipher list could not be used (CURLE_SSL_CIPHER, 59)."""

    _code = CurlCode.SSL_CIPHER


class PeerFailedVerification(CertificateError):
    """The server's certificate (or SSH host key) could not be verified
    (CURLE_PEER_FAILED_VERIFICATION, 60).
    """

    _code = CurlCode.PEER_FAILED_VERIFICATION


class BadContentEncoding(ProtocolError):
    """The response's content or transfer encoding could not be decoded
    (CURLE_BAD_CONTENT_ENCODING, 61).
    """

    _code = CurlCode.BAD_CONTENT_ENCODING


class FilesizeExceeded(LimitExceeded):
    """The download is larger than the allowed maximum (CURLE_FILESIZE_EXCEEDED, 63)."""

    _code = CurlCode.FILESIZE_EXCEEDED


class UseSSLFailed(SSLError):
    """The required switch to TLS could not be made (CURLE_USE_SSL_FAILED, 64)."""

    _code = CurlCode.USE_SSL_FAILED


class SendFailRewind(LocalIOError):
    """The request body had to be sent again but could not be rewound
    (CURLE_SEND_FAIL_REWIND, 65).
    """

    _code = CurlCode.SEND_FAIL_REWIND


class SSLEngineInitfailed(SSLError):
    """The crypto engine failed to start (CURLE_SSL_ENGINE_INITFAILED, 66)."""

    _code = CurlCode.SSL_ENGINE_INITFAILED


class LoginDenied(AuthError):
    """The server rejected the login (CURLE_LOGIN_DENIED, 67)."""

    _code = CurlCode.LOGIN_DENIED


class TFTPNotfound(TFTPError, RemoteError):
    """The TFTP server could not find the file (CURLE_TFTP_NOTFOUND, 68)."""

    _code = CurlCode.TFTP_NOTFOUND


class TFTPPerm(TFTPError, RemoteError):
    """The TFTP server refused access to the file (CURLE_TFTP_PERM, 69)."""

    _code = CurlCode.TFTP_PERM


class RemoteDiskFull(RemoteError):
    """The server ran out of disk space (CURLE_REMOTE_DISK_FULL, 70)."""

    _code = CurlCode.REMOTE_DISK_FULL


class TFTPIllegal(TFTPError, ProtocolError):
    """The TFTP server called the operation illegal (CURLE_TFTP_ILLEGAL, 71)."""

    _code = CurlCode.TFTP_ILLEGAL


class TFTPUnknownid(TFTPError):
    """The TFTP server did not recognise the transfer ID (CURLE_TFTP_UNKNOWNID, 72)."""

    _code = CurlCode.TFTP_UNKNOWNID


class RemoteFileExists(RemoteError):
    """The target file already exists on the server and will not be overwritten
    (CURLE_REMOTE_FILE_EXISTS, 73).
    """

    _code = CurlCode.REMOTE_FILE_EXISTS


class TFTPNosuchuser(TFTPError, AuthError):
    """The TFTP server reported an unknown user (CURLE_TFTP_NOSUCHUSER, 74)."""

    _code = CurlCode.TFTP_NOSUCHUSER


class SSLCacertBadfile(SSLError):
    """The trusted CA certificates could not be loaded (CURLE_SSL_CACERT_BADFILE, 77)."""

    _code = CurlCode.SSL_CACERT_BADFILE


class RemoteFileNotFound(RemoteError):
    """The requested file does not exist on the server (CURLE_REMOTE_FILE_NOT_FOUND, 78)."""

    _code = CurlCode.REMOTE_FILE_NOT_FOUND


class SSH(SSHError):
    """The SSH layer failed (CURLE_SSH, 79)."""

    _code = CurlCode.SSH


class SSLShutdownFailed(SSLError):
    """Closing down the TLS session failed (CURLE_SSL_SHUTDOWN_FAILED, 80)."""

    _code = CurlCode.SSL_SHUTDOWN_FAILED


class Again(NetworkError):
    """The socket was not ready for sending or receiving yet (CURLE_AGAIN, 81)."""

    _code = CurlCode.AGAIN


class SSLCRLBadfile(SSLError):
    """The certificate revocation list could not be loaded (CURLE_SSL_CRL_BADFILE, 82)."""

    _code = CurlCode.SSL_CRL_BADFILE


class SSLIssuerError(CertificateError):
    """The server's certificate was not signed by the required issuer
    (CURLE_SSL_ISSUER_ERROR, 83).
    """

    _code = CurlCode.SSL_ISSUER_ERROR


class FTPPretFailed(FTPError):
    """The FTP server rejected the PRET command (CURLE_FTP_PRET_FAILED, 84)."""

    _code = CurlCode.FTP_PRET_FAILED


class RTSPCseqError(RTSPError, ProtocolError):
    """The RTSP sequence numbers did not match (CURLE_RTSP_CSEQ_ERROR, 85)."""

    _code = CurlCode.RTSP_CSEQ_ERROR


class RTSPSessionError(RTSPError):
    """The RTSP session ID did not match (CURLE_RTSP_SESSION_ERROR, 86)."""

    _code = CurlCode.RTSP_SESSION_ERROR


class FTPBadFileList(FTPError, ProtocolError):
    """The FTP directory listing for a wildcard download could not be parsed
    (CURLE_FTP_BAD_FILE_LIST, 87).
    """

    _code = CurlCode.FTP_BAD_FILE_LIST


class ChunkFailed(CallbackError):
    """A wildcard chunk callback reported an error (CURLE_CHUNK_FAILED, 88)."""

    _code = CurlCode.CHUNK_FAILED


class NoConnectionAvailable(ConnectError):
    """No connection was available for the transfer (CURLE_NO_CONNECTION_AVAILABLE, 89)."""

    _code = CurlCode.NO_CONNECTION_AVAILABLE


class SSLPinnedpubkeynotmatch(CertificateError):
    """The server's public key did not match the pinned key (CURLE_SSL_PINNEDPUBKEYNOTMATCH, 90)."""

    _code = CurlCode.SSL_PINNEDPUBKEYNOTMATCH


class SSLInvalidcertstatus(CertificateError):
    """The server's certificate status check failed (CURLE_SSL_INVALIDCERTSTATUS, 91)."""

    _code = CurlCode.SSL_INVALIDCERTSTATUS


class HTTP2Stream(ProtocolError):
    """A single HTTP/2 stream failed (CURLE_HTTP2_STREAM, 92)."""

    _code = CurlCode.HTTP2_STREAM


class RecursiveAPICall(UsageError):
    """A libcurl function was called from inside a callback where that is not allowed
    (CURLE_RECURSIVE_API_CALL, 93).
    """

    _code = CurlCode.RECURSIVE_API_CALL


class HTTP3(ProtocolError):
    """Something went wrong in the HTTP/3 layer (CURLE_HTTP3, 95)."""

    _code = CurlCode.HTTP3


class QUICConnectError(ProtocolError):
    """The QUIC connection could not be established (CURLE_QUIC_CONNECT_ERROR, 96)."""

    _code = CurlCode.QUIC_CONNECT_ERROR


class Proxy(ProxyError):
    """The handshake with the proxy failed (CURLE_PROXY, 97)."""

    _code = CurlCode.PROXY


class SSLClientcert(SSLError):
    """The server wanted a client certificate that was missing or not accepted
    (CURLE_SSL_CLIENTCERT, 98).
    """

    _code = CurlCode.SSL_CLIENTCERT


class UnrecoverablePoll(InternalError):
    """Waiting for socket activity failed beyond recovery (CURLE_UNRECOVERABLE_POLL, 99)."""

    _code = CurlCode.UNRECOVERABLE_POLL


class TooLarge(LimitExceeded):
    """Some data grew beyond an internal size limit (CURLE_TOO_LARGE, 100)."""

    _code = CurlCode.TOO_LARGE


class ECHRequired(SSLError):
    """Encrypted Client Hello was attempted but did not succeed (CURLE_ECH_REQUIRED, 101)."""

    _code = CurlCode.ECH_REQUIRED


class MultiBadHandle(MultiError, UsageError):
    """The multi handle is not valid (CURLM_BAD_HANDLE, 1)."""

    _code = MultiCode.BAD_HANDLE


class MultiBadEasyHandle(MultiError, UsageError):
    """The easy handle is not valid or already belongs to a multi handle
    (CURLM_BAD_EASY_HANDLE, 2).
    """

    _code = MultiCode.BAD_EASY_HANDLE


class MultiOutOfMemory(MultiError, InternalError):
    """The multi interface could not allocate memory (CURLM_OUT_OF_MEMORY, 3)."""

    _code = MultiCode.OUT_OF_MEMORY


class MultiInternalError(MultiError, InternalError):
    """The multi interface hit an internal error (CURLM_INTERNAL_ERROR, 4)."""

    _code = MultiCode.INTERNAL_ERROR


class MultiBadSocket(MultiError, UsageError):
    """The socket passed in is not one libcurl is managing (CURLM_BAD_SOCKET, 5)."""

    _code = MultiCode.BAD_SOCKET


class MultiUnknownOption(MultiError, UsageError):
    """The multi option is not supported (CURLM_UNKNOWN_OPTION, 6)."""

    _code = MultiCode.UNKNOWN_OPTION


class MultiAddedAlready(MultiError, UsageError):
    """The easy handle was already added to a multi handle (CURLM_ADDED_ALREADY, 7)."""

    _code = MultiCode.ADDED_ALREADY


class MultiRecursiveAPICall(MultiError, UsageError):
    """A multi function was called from inside a callback where that is not allowed
    (CURLM_RECURSIVE_API_CALL, 8).
    """

    _code = MultiCode.RECURSIVE_API_CALL


class MultiWakeupFailure(MultiError, InternalError):
    """Waking up a waiting multi handle failed (CURLM_WAKEUP_FAILURE, 9)."""

    _code = MultiCode.WAKEUP_FAILURE


class MultiBadFunctionArgument(MultiError, UsageError):
    """A multi function was called with an invalid argument (CURLM_BAD_FUNCTION_ARGUMENT, 10)."""

    _code = MultiCode.BAD_FUNCTION_ARGUMENT


class MultiAbortedByCallback(MultiError, CallbackError):
    """A multi-handle callback asked to stop (CURLM_ABORTED_BY_CALLBACK, 11)."""

    _code = MultiCode.ABORTED_BY_CALLBACK


class MultiUnrecoverablePoll(MultiError, InternalError):
    """Waiting for socket activity failed beyond recovery (CURLM_UNRECOVERABLE_POLL, 12)."""

    _code = MultiCode.UNRECOVERABLE_POLL


class ShareBadOption(ShareError, UsageError):
    """The share option is not valid (CURLSHE_BAD_OPTION, 1)."""

    _code = ShareCode.BAD_OPTION


class ShareInUse(ShareError, UsageError):
    """The share object is still in use (CURLSHE_IN_USE, 2)."""

    _code = ShareCode.IN_USE


class ShareInvalid(ShareError, UsageError):
    """The share handle is not valid (CURLSHE_INVALID, 3)."""

    _code = ShareCode.INVALID


class ShareNomem(ShareError, InternalError):
    """The share interface could not allocate memory (CURLSHE_NOMEM, 4)."""

    _code = ShareCode.NOMEM


class ShareNotBuiltIn(ShareError, UsageError):
    """The requested kind of sharing is not available in this build (CURLSHE_NOT_BUILT_IN, 5)."""

    _code = ShareCode.NOT_BUILT_IN


class URLBadHandle(URLError, UsageError):
    """The URL handle is not valid (CURLUE_BAD_HANDLE, 1)."""

    _code = URLCode.BAD_HANDLE


class URLBadPartpointer(URLError, UsageError):
    """No place was given to store the requested URL part (CURLUE_BAD_PARTPOINTER, 2)."""

    _code = URLCode.BAD_PARTPOINTER


class URLMalformedInput(URLError, InvalidURL):
    """The URL API was given malformed input (CURLUE_MALFORMED_INPUT, 3)."""

    _code = URLCode.MALFORMED_INPUT


class URLBadPortNumber(URLError, InvalidURL):
    """The port number is not valid (CURLUE_BAD_PORT_NUMBER, 4)."""

    _code = URLCode.BAD_PORT_NUMBER


class URLUnsupportedScheme(URLError, InvalidURL):
    """The URL's scheme is not supported by this libcurl (CURLUE_UNSUPPORTED_SCHEME, 5)."""

    _code = URLCode.UNSUPPORTED_SCHEME


class URLUrldecode(URLError, InvalidURL):
    """Percent-decoding part of the URL failed (CURLUE_URLDECODE, 6)."""

    _code = URLCode.URLDECODE


class URLOutOfMemory(URLError, InternalError):
    """The URL API could not allocate memory (CURLUE_OUT_OF_MEMORY, 7)."""

    _code = URLCode.OUT_OF_MEMORY


class URLUserNotAllowed(URLError, InvalidURL):
    """The URL contains credentials where none are allowed (CURLUE_USER_NOT_ALLOWED, 8)."""

    _code = URLCode.USER_NOT_ALLOWED


class URLUnknownPart(URLError, UsageError):
    """An unknown URL part was asked for (CURLUE_UNKNOWN_PART, 9)."""

    _code = URLCode.UNKNOWN_PART


class URLNoScheme(URLError, UsageError):
    """The URL has no scheme (CURLUE_NO_SCHEME, 10)."""

    _code = URLCode.NO_SCHEME


class URLNoUser(URLError, UsageError):
    """The URL has no user name (CURLUE_NO_USER, 11)."""

    _code = URLCode.NO_USER


class URLNoPassword(URLError, UsageError):
    """The URL has no password (CURLUE_NO_PASSWORD, 12)."""

    _code = URLCode.NO_PASSWORD


class URLNoOptions(URLError, UsageError):
    """The URL has no login options (CURLUE_NO_OPTIONS, 13)."""

    _code = URLCode.NO_OPTIONS


class URLNoHost(URLError, UsageError):
    """The URL has no host (CURLUE_NO_HOST, 14)."""

    _code = URLCode.NO_HOST


class URLNoPort(URLError, UsageError):
    """The URL names no port (CURLUE_NO_PORT, 15)."""

    _code = URLCode.NO_PORT


class URLNoQuery(URLError, UsageError):
    """The URL has no query (CURLUE_NO_QUERY, 16)."""

    _code = URLCode.NO_QUERY


class URLNoFragment(URLError, UsageError):
    """The URL has no fragment (CURLUE_NO_FRAGMENT, 17)."""

    _code = URLCode.NO_FRAGMENT


class URLNoZoneid(URLError, UsageError):
    """The URL has no IPv6 zone ID (CURLUE_NO_ZONEID, 18)."""

    _code = URLCode.NO_ZONEID


class URLBadFileURL(URLError, InvalidURL):
    """The file:// URL is not valid (CURLUE_BAD_FILE_URL, 19)."""

    _code = URLCode.BAD_FILE_URL


class URLBadFragment(URLError, InvalidURL):
    """The fragment contains characters that are not allowed (CURLUE_BAD_FRAGMENT, 20)."""

    _code = URLCode.BAD_FRAGMENT


class URLBadHostname(URLError, InvalidURL):
    """The host name contains characters that are not allowed (CURLUE_BAD_HOSTNAME, 21)."""

    _code = URLCode.BAD_HOSTNAME


class URLBadIpv6(URLError, InvalidURL):
    """The IPv6 address in the URL is not valid (CURLUE_BAD_IPV6, 22)."""

    _code = URLCode.BAD_IPV6


class URLBadLogin(URLError, InvalidURL):
    """The login part of the URL contains characters that are not allowed (CURLUE_BAD_LOGIN, 23)."""

    _code = URLCode.BAD_LOGIN


class URLBadPassword(URLError, InvalidURL):
    """The password in the URL contains characters that are not allowed
    (CURLUE_BAD_PASSWORD, 24).
    """

    _code = URLCode.BAD_PASSWORD


class URLBadPath(URLError, InvalidURL):
    """The path contains characters that are not allowed (CURLUE_BAD_PATH, 25)."""

    _code = URLCode.BAD_PATH


class URLBadQuery(URLError, InvalidURL):
    """The query contains characters that are not allowed (CURLUE_BAD_QUERY, 26)."""

    _code = URLCode.BAD_QUERY


class URLBadScheme(URLError, InvalidURL):
    """The scheme is not valid (CURLUE_BAD_SCHEME, 27)."""

    _code = URLCode.BAD_SCHEME


class URLBadSlashes(URLError, InvalidURL):
    """The URL has the wrong number of slashes after the scheme (CURLUE_BAD_SLASHES, 28)."""

    _code = URLCode.BAD_SLASHES


class URLBadUser(URLError, InvalidURL):
    """The user name in the URL contains characters that are not allowed (CURLUE_BAD_USER, 29)."""

    _code = URLCode.BAD_USER


class URLLacksIdn(URLError, UsageError):
    """The host name needs IDN support, which this libcurl lacks (CURLUE_LACKS_IDN, 30)."""

    _code = URLCode.LACKS_IDN


class URLTooLarge(URLError, InvalidURL):
    """The URL or one of its parts is longer than allowed (CURLUE_TOO_LARGE, 31)."""

    _code = URLCode.TOO_LARGE


class URLBackslash(URLError, InvalidURL):
    """A backslash appeared where a forward slash was expected (CURLUE_BACKSLASH, 32)."""

    _code = URLCode.BACKSLASH
