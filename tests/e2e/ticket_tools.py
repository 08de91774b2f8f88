"""Helpers of the ticket and check-in tests: ticket codes taken apart, verified offline with only the
event's public key (Python's `cryptography`, OpenSSL's Ed25519: an implementation independent of
the server's), altered and forged; QR codes rendered (rsvg-convert) and decoded (zbarimg)."""
import base64
import http.client
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import tempfile
import unittest

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from harness import Response

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# EH1.<eventId>.<ticketId>.<nonce: 16 bytes = 22 chars>.<signature: 64 bytes = 86 chars>
CODE = re.compile(r"^EH1\.([1-9][0-9]*)\.([1-9][0-9]*)\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{86})$")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    """Strict base64url without padding: None for anything else."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url(data) == text else None  # canonical: no stray bits in the last character


def parse_code(code):
    """{eventId, ticketId, nonce (bytes), signature (bytes), signed (bytes)} of a well-formed code,
    else None."""
    m = CODE.match(code) if isinstance(code, str) else None
    if not m:
        return None
    nonce, signature = b64url_decode(m.group(3)), b64url_decode(m.group(4))
    if nonce is None or signature is None or len(nonce) != 16 or len(signature) != 64:
        return None
    return {"eventId": int(m.group(1)), "ticketId": int(m.group(2)), "nonce": nonce, "signature": signature,
            "signed": code.rsplit(".", 1)[0].encode("ascii")}


def public_key(key_b64):
    raw = b64url_decode(key_b64)
    if raw is None or len(raw) != 32:
        raise AssertionError(f"not a base64url raw 32-byte Ed25519 key: {key_b64!r}")
    return Ed25519PublicKey.from_public_bytes(raw)


def verifies(key_b64, code):
    """True when `code` is well formed and its signature verifies under the public key alone."""
    parts = parse_code(code)
    if parts is None:
        return False
    try:
        public_key(key_b64).verify(parts["signature"], parts["signed"])
        return True
    except InvalidSignature:
        return False


def _replace_char(text, i):
    c = text[i]
    return text[:i] + ("A" if c != "A" else "B") + text[i + 1:]


def altered_nonce(code):
    """The code with the first character of its nonce changed (a full 6 bits of the nonce)."""
    head, nonce, sig = code.rsplit(".", 2)
    return f"{head}.{_replace_char(nonce, 0)}.{sig}"


def altered_signature(code, i=10):
    """The code with one character inside its signature changed (not the last one, whose low
    bits are padding)."""
    head, sig = code.rsplit(".", 1)
    return f"{head}.{_replace_char(sig, i)}"


def forged(code):
    """The same event, ticket and nonce, with a random signature."""
    head = code.rsplit(".", 1)[0]
    return f"{head}.{b64url(secrets.token_bytes(64))}"


def with_event(code, event_id):
    """Another event's id put into a genuine code (its signature no longer matches)."""
    parts = code.split(".")
    parts[1] = str(event_id)
    return ".".join(parts)


def garbage_codes(event_id, ticket_id, code):
    """Strings that are no genuine code of anything."""
    head, nonce, sig = code.rsplit(".", 2)
    return ["garbage", "EH1", "EH1....", "EH1.x.y.z.w", f"EH1.{event_id}.{ticket_id}",
            code.rsplit(".", 1)[0], code + ".AAAA", code.lower(), "EH2" + code[3:],
            f"EH1.{event_id}.99999999999999999999999.{nonce}.{sig}", f"EH1.{event_id}.-1.{nonce}.{sig}",
            f"EH1.{event_id}.0.{nonce}.{sig}", f"EH1.{event_id}.{ticket_id}.{nonce}.{'!' * 86}",
            f"EH1.{event_id}.{ticket_id}.{nonce}.", f"EH1.{event_id}.{ticket_id}..{sig}",
            "\u00dcn\u00efc\u00f8d\u00e9 \u2603", "x" * 500, "." * 40, "EH1.1.1.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 86]


def qr_tools():
    missing = [t for t in ("rsvg-convert", "zbarimg") if shutil.which(t) is None]
    if missing:
        raise unittest.SkipTest(f"{' and '.join(missing)} not installed (apt-get install librsvg2-bin zbar-tools)")


def decode_qr(svg):
    """The text of the QR code in an SVG document: rendered to PNG by rsvg-convert on white,
    decoded by zbarimg. When the plain rendering does not decode (an SVG without a quiet zone),
    the rendering is framed with a white margin and decoded again. None when nothing decodes."""
    qr_tools()
    with tempfile.TemporaryDirectory(prefix="eventhub-qr-") as d:
        svg_path, png_path = os.path.join(d, "qr.svg"), os.path.join(d, "qr.png")
        with open(svg_path, "wb") as f:
            f.write(svg)
        subprocess.run(["rsvg-convert", "-w", "400", "-b", "white", "-o", png_path, svg_path], check=True,
                       capture_output=True, timeout=30)
        text = _zbar(png_path)
        if text is not None:
            return text
        with open(png_path, "rb") as f:
            png = base64.b64encode(f.read()).decode()
        framed = os.path.join(d, "framed.svg")
        with open(framed, "w") as f:
            f.write('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                    'width="560" height="560"><rect width="560" height="560" fill="white"/>'
                    f'<image x="80" y="80" width="400" height="400" xlink:href="data:image/png;base64,{png}"/>'
                    '</svg>')
        framed_png = os.path.join(d, "framed.png")
        subprocess.run(["rsvg-convert", "-b", "white", "-o", framed_png, framed], check=True,
                       capture_output=True, timeout=30)
        return _zbar(framed_png)


def _zbar(png_path):
    r = subprocess.run(["zbarimg", "--raw", "-q", png_path], capture_output=True, timeout=30)
    if r.returncode != 0:
        return None
    text = r.stdout.decode("utf-8", "replace")
    return text[:-1] if text.endswith("\n") else text


def post_large(port, path, data, token, timeout=30):
    """POST of a large body on a connection of its own, for a server that may answer (413) from the
    Content-Length alone and close before reading the body: the headers first, a moment to see
    whether the answer comes at once, then the body (a refused send is no error), then the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   f"Authorization: Bearer {token}\r\nContent-Length: {len(data)}\r\n\r\n").encode())
        readable, _, _ = select.select([s], [], [], 0.5)
        if not readable:
            try:
                for i in range(0, len(data), 65536):
                    s.sendall(data[i:i + 65536])
            except (BrokenPipeError, ConnectionResetError):
                pass
        r = http.client.HTTPResponse(s)
        r.begin()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        s.close()
