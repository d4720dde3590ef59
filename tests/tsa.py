"""A time-stamping authority of the test's own: OpenSSL's `ts` command behind a loopback HTTP server
(RFC 3161 over HTTP, as public TSAs answer). No network."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONF = """
[ req ]
distinguished_name = dn
[ dn ]
[ tsa_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.crt
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class LocalTSA:
    """A CA, a TSA certificate it signed (timeStamping, critical), and `openssl ts -reply` per request."""

    def __init__(self, name: str = "govarchive test TSA") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tsa-"))
        d = self.dir
        (d / "openssl.cnf").write_text(CONF.format(dir=d))
        (d / "serial").write_text("01\n")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.crt", "-days", "3650", "-subj", f"/CN={name} root", "-config", "openssl.cnf",
             "-extensions", "ca_ext", cwd=d)
        _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa.key",
             "-out", "tsa.csr", "-subj", f"/CN={name}", "-config", "openssl.cnf", cwd=d)
        _run("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "tsa.crt", "-days", "3650", "-extfile", "openssl.cnf", "-extensions", "tsa_ext", cwd=d)
        self.ca = d / "ca.crt"
        self.requests = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/tsr"

    def _handler(self):  # noqa: ANN202
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with tempfile.TemporaryDirectory() as tmp:
                    (Path(tmp) / "q.tsq").write_bytes(body)
                    proc = subprocess.run(["openssl", "ts", "-reply", "-config", str(tsa.dir / "openssl.cnf"),
                                           "-queryfile", str(Path(tmp) / "q.tsq"), "-out", str(Path(tmp) / "r.tsr")],
                                          capture_output=True)
                    reply = (Path(tmp) / "r.tsr").read_bytes() if proc.returncode == 0 else b""
                tsa.requests += 1
                self.send_response(200 if reply else 400)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        return Handler

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
