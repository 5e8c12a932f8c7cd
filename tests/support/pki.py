"""The test PKI: a throw-away CA (from trustme) and certificates in PEM files libcurl reads.

Made once per session (the ``pki`` fixture) and shared by every TLS peer: `support.lab`'s
servers, the `support.farm`'s TLS port, and the modules' own. No client trusts its CA unless
a test passes ``ca_file`` (``verify=`` or CAINFO): for every other client its certificates are
untrusted ones.
"""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

from .raw import LOOPBACK, LOOPBACK6


@dataclass(frozen=True)
class PKI:
    """A throw-away public key infrastructure, written to PEM files libcurl can read.

    ``ca`` issued every certificate below; ``other_ca`` is an unrelated CA (for "unknown
    issuer" failures). ``ca_file``/``other_ca_file`` hold the CA certificates,
    ``client_cert_file``/``client_key_file`` a client certificate issued by ``ca``, and
    ``garbage_file`` a file that is no PEM at all.
    """

    ca: trustme.CA
    other_ca: trustme.CA
    server: trustme.LeafCert
    wrong_host: trustme.LeafCert
    expired: trustme.LeafCert
    client: trustme.LeafCert
    ca_file: Path
    other_ca_file: Path
    client_cert_file: Path
    client_key_file: Path
    garbage_file: Path

    @classmethod
    def create(cls, directory: Path) -> PKI:
        """Make the CAs and certificates and write the files into `directory`."""
        ca = trustme.CA()
        other_ca = trustme.CA()
        now = datetime.datetime.now(datetime.timezone.utc)
        pki = cls(
            ca=ca,
            other_ca=other_ca,
            server=ca.issue_cert(LOOPBACK, LOOPBACK6, "localhost"),
            wrong_host=ca.issue_cert("wrong.host.example"),
            expired=ca.issue_cert(
                LOOPBACK,
                LOOPBACK6,
                "localhost",
                not_before=now - datetime.timedelta(days=30),
                not_after=now - datetime.timedelta(days=1),
            ),
            client=ca.issue_cert("client@example.com", common_name="curlx test client"),
            ca_file=directory / "ca.pem",
            other_ca_file=directory / "other-ca.pem",
            client_cert_file=directory / "client-cert.pem",
            client_key_file=directory / "client-key.pem",
            garbage_file=directory / "garbage.pem",
        )
        ca.cert_pem.write_to_path(str(pki.ca_file))
        other_ca.cert_pem.write_to_path(str(pki.other_ca_file))
        pki.client.cert_chain_pems[0].write_to_path(str(pki.client_cert_file))
        pki.client.private_key_pem.write_to_path(str(pki.client_key_file))
        pki.garbage_file.write_text("this is not a PEM file\n")
        return pki

    def server_context(
        self,
        cert: trustme.LeafCert | None = None,
        *,
        require_client_cert: bool = False,
        alpn: list[str] | None = None,
    ) -> ssl.SSLContext:
        """A server-side context presenting `cert` (default: the good server certificate),
        offering the `alpn` protocols if given."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        (cert or self.server).configure_cert(context)
        if require_client_cert:
            self.ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        if alpn:
            context.set_alpn_protocols(alpn)
        return context
