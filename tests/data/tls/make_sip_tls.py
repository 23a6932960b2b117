"""Record SIP over TLS on loopback, with the TLS key log, for the --tls-keylog tests.

Run as root (tcpdump) from the repository root:

    python tests/data/tls/make_sip_tls.py

It writes tests/data/tls/sip-tls.pcap and tests/data/tls/sip-tls.keys: two TLS
connections on 127.0.0.1, one TLS 1.3 and then one TLS 1.2, both to port 5061, each
carrying a whole call (INVITE, 100, 180, 200, ACK, BYE, 200), the client's requests
and the server's responses sent as they are listed in MESSAGES below. The
certificate is a throwaway self-signed one made with openssl for the recording.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def message(start: str, call_id: str, cseq: int, method: str, tag: bool) -> bytes:
    to_tag = ";tag=srv" if tag else ""
    extra = "" if start.startswith("SIP/") else "Max-Forwards: 70\r\n"
    if method == "INVITE" and not start.startswith("SIP/2.0 1"):
        who = "bob" if start.startswith("SIP/") else "alice"
        extra += f"Contact: <sips:{who}@127.0.0.1>\r\n"
    return (
        f"{start}\r\n"
        f"Via: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bK-{call_id}-{cseq}-{method}\r\n"
        f"From: <sips:alice@127.0.0.1>;tag=cli\r\n"
        f"To: <sips:bob@127.0.0.1>{to_tag}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"{extra}"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


def call(call_id: str) -> list[tuple[str, bytes]]:
    """(who sends, bytes) for one call, in order."""
    uri = "INVITE sips:bob@127.0.0.1 SIP/2.0"
    return [
        ("c", message(uri, call_id, 1, "INVITE", False)),
        ("s", message("SIP/2.0 100 Trying", call_id, 1, "INVITE", False)),
        ("s", message("SIP/2.0 180 Ringing", call_id, 1, "INVITE", True)),
        ("s", message("SIP/2.0 200 OK", call_id, 1, "INVITE", True)),
        ("c", message("ACK sips:bob@127.0.0.1 SIP/2.0", call_id, 1, "ACK", True)),
        ("c", message("BYE sips:bob@127.0.0.1 SIP/2.0", call_id, 2, "BYE", True)),
        ("s", message("SIP/2.0 200 OK", call_id, 2, "BYE", True)),
    ]


CALLS = [("tls13-call@127.0.0.1", 5061, ssl.TLSVersion.TLSv1_3),
         ("tls12-call@127.0.0.1", 5061, ssl.TLSVersion.TLSv1_2)]


def run_call(call_id: str, port: int, version: ssl.TLSVersion, cert: str, key: str,
             keylog: str) -> None:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.minimum_version = server_ctx.maximum_version = version
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.minimum_version = client_ctx.maximum_version = version
    client_ctx.keylog_filename = keylog
    listener = socket.create_server(("127.0.0.1", port))
    steps = call(call_id)
    turns = [threading.Event() for _ in steps]

    def side(conn: ssl.SSLSocket, me: str) -> None:
        for i, (who, data) in enumerate(steps):
            if i:
                turns[i - 1].wait(5)
            if who == me:
                conn.sendall(data)
                time.sleep(0.02)
                turns[i].set()
            else:
                got = b""
                while len(got) < len(data):
                    got += conn.recv(65536)
                assert got == data, (got, data)

    def serve() -> None:
        raw, _ = listener.accept()
        with server_ctx.wrap_socket(raw, server_side=True) as conn:
            side(conn, "s")
            time.sleep(0.1)

    thread = threading.Thread(target=serve)
    thread.start()
    with client_ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) as conn:
        side(conn, "c")
        time.sleep(0.1)
    thread.join()
    listener.close()


def main() -> None:
    pcap, keys = HERE / "sip-tls.pcap", HERE / "sip-tls.keys"
    keys.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
            check=True, capture_output=True,
        )
        dump = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", str(pcap),
             "tcp port 5061"],
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)
        try:
            for call_id, port, version in CALLS:
                run_call(call_id, port, version, cert, key, str(keys))
            time.sleep(0.5)
        finally:
            dump.terminate()
            dump.wait()
    print(f"wrote {pcap} and {keys}", file=sys.stderr)


if __name__ == "__main__":
    main()
