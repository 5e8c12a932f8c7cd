"""Download a large file with bounded memory, and upload one as it is read.

Run: python examples/stream_download.py URL OUT [--upload-to URL]
The body goes to OUT as it arrives (a few MiB of memory whatever its size), with its SHA-256;
with --upload-to, OUT is then PUT there straight from the disk (Content-Length from its size).
"""

from __future__ import annotations

import argparse
import hashlib
import sys

import curlx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--upload-to", help="PUT the downloaded file to this URL")
    args = parser.parse_args(argv)

    digest = hashlib.sha256()
    size = 0
    try:
        with curlx.Session(timeout=curlx.Timeout(connect=10, read=30)) as session:
            with session.stream("GET", args.url) as r, open(args.out, "wb") as out:
                r.raise_for_status()
                for chunk in r.iter_bytes():
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            print(f"{size} bytes sha256={digest.hexdigest()}")
            if args.upload_to:
                with open(args.out, "rb") as f:
                    done = session.put(args.upload_to, data=f).raise_for_status()
                print(f"uploaded: HTTP {done.status_code}")
    except curlx.CurlError as e:  # one typed error, whether it broke before or mid-body
        print(f"failed ({e.category.value}, retry {e.retry.kind.value}): {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"cannot write {args.out}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
