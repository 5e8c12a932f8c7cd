"""The test suite's shared infrastructure: local peers on loopback, the PKI, and fixtures.

Test modules import what they need from the modules below (``from support.raw import
RawServer``: the ``tests`` folder is on ``sys.path``, as pytest puts it there for the root
conftest); the root conftest registers `support.fixtures` once for every module.

- `support.raw`: `RawServer`, the one TCP server, with the handlers that make each fault.
- `support.h2`: HTTP/2 frames, and handlers that play an HTTP/2 server with them.
- `support.http`: `HTTPApp`, the HTTP/1.1 app server, `ForwardProxy` and `H2Server`.
- `support.ftp`: a real FTP server, a scripted one, and TFTP error packets.
- `support.pki`: the throw-away CA and its certificates.
- `support.farm`: the crawl farm: many loopback ports, each failing in its own way.
- `support.measure`: this process's memory and file descriptors.
- `support.lab`: servers on demand for one test, all stopped when it ends.
- `support.threads`: running test code in several threads at once.
- `support.fixtures`: the shared fixtures.
"""
