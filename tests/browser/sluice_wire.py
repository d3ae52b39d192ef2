"""Just enough of Sluice's two wire formats for the browser test, written from the docs.

* The admin socket (docs/admin.md, "Wire format"): newline-delimited JSON over
  DATA_DIR/run/admin.sock.
* The client protocol (docs/protocol.md): TLS with ALPN sluice/1, frames of a 4-byte
  big-endian length and one MessagePack map. Only enroll and checkin are spoken here, which is
  all a test needs to put a client with hostile strings into the site. The MessagePack subset is
  the one the protocol uses (maps, strings, binary, integers, floats, booleans, nil, arrays).
"""

import json
import socket
import ssl
import struct
import uuid


class AdminError(Exception):
    pass


def admin(data_dir, cmd, args=None, timeout_s=60):
    """Runs one admin command on the server of `data_dir` and returns its result."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(f"{data_dir}/run/admin.sock")
        sock.sendall((json.dumps({"cmd": cmd, "args": args or {}}) + "\n").encode())
        buffer = b""
        while not buffer.endswith(b"\n"):
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            buffer += chunk
    response = json.loads(buffer)
    if not response.get("ok"):
        error = response.get("error", {})
        raise AdminError(f"{cmd}: {error.get('code')}: {error.get('message')}")
    return response["result"]


# ---- MessagePack (the subset the protocol uses) ----

def pack(value):
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if value < 0:
            raise ValueError("negative integers are not used by the protocol")
        if value < 0x80:
            return bytes([value])
        for tag, fmt, top in ((0xCC, ">B", 1 << 8), (0xCD, ">H", 1 << 16), (0xCE, ">I", 1 << 32),
                              (0xCF, ">Q", 1 << 64)):
            if value < top:
                return bytes([tag]) + struct.pack(fmt, value)
        raise ValueError("integer too large")
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode()
        n = len(data)
        if n < 32:
            return bytes([0xA0 | n]) + data
        if n < 1 << 8:
            return b"\xd9" + struct.pack(">B", n) + data
        return b"\xda" + struct.pack(">H", n) + data
    if isinstance(value, dict):
        n = len(value)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(pack(k) + pack(v) for k, v in value.items())
    raise TypeError(f"cannot pack {type(value).__name__}")


def unpack(data):
    value, end = _unpack_at(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after the msgpack object")
    return value


def _unpack_at(data, i):
    tag = data[i]
    i += 1

    def take(fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, data[i:i + size])[0], i + size

    if tag < 0x80:
        return tag, i
    if tag >= 0xE0:
        return tag - 0x100, i
    if 0x80 <= tag <= 0x8F:
        return _unpack_map(data, i, tag & 0x0F)
    if 0x90 <= tag <= 0x9F:
        return _unpack_array(data, i, tag & 0x0F)
    if 0xA0 <= tag <= 0xBF:
        n = tag & 0x1F
        return data[i:i + n].decode(), i + n
    simple = {0xC0: None, 0xC2: False, 0xC3: True}
    if tag in simple:
        return simple[tag], i
    ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i",
            0xD3: ">q", 0xCA: ">f", 0xCB: ">d"}
    if tag in ints:
        return take(ints[tag])
    sized = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xC4: ">B", 0xC5: ">H", 0xC6: ">I"}
    if tag in sized:
        n, i = take(sized[tag])
        raw = data[i:i + n]
        return (raw.decode() if tag >= 0xD9 else bytes(raw)), i + n
    if tag in (0xDC, 0xDD):
        n, i = take(">H" if tag == 0xDC else ">I")
        return _unpack_array(data, i, n)
    if tag in (0xDE, 0xDF):
        n, i = take(">H" if tag == 0xDE else ">I")
        return _unpack_map(data, i, n)
    raise ValueError(f"unsupported msgpack tag 0x{tag:02x}")


def _unpack_map(data, i, n):
    result = {}
    for _ in range(n):
        key, i = _unpack_at(data, i)
        value, i = _unpack_at(data, i)
        result.setdefault(key, value)
    return result, i


def _unpack_array(data, i, n):
    result = []
    for _ in range(n):
        value, i = _unpack_at(data, i)
        result.append(value)
    return result, i


# ---- the client protocol ----

class ClientConnection:
    """One TLS connection to the site speaking sluice/1. The test trusts loopback: the pin is
    not checked (the server's certificate is self-signed and made by the test's own server)."""

    def __init__(self, endpoint, timeout_s=15):
        host, port = endpoint.rsplit(":", 1)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["sluice/1"])
        raw = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s)
        self.sock = context.wrap_socket(raw, server_hostname="sluice-site")
        if self.sock.selected_alpn_protocol() != "sluice/1":
            raise RuntimeError(f"server chose ALPN {self.sock.selected_alpn_protocol()!r}")

    def send(self, message):
        payload = pack({"v": 1, **message})
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def _read_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def receive(self):
        (n,) = struct.unpack(">I", self._read_exactly(4))
        return unpack(self._read_exactly(n))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def enroll_and_check_in(config, *, platform, console_user="", mode="passive", version="1.0.0"):
    """Enrolls a new client with the enrollment key of `config` (a client-config result), checks
    it in once with the given strings, and hangs up. Returns the client id."""
    client_id = str(uuid.uuid4())
    conn = ClientConnection(config["server"])
    try:
        conn.send({"t": "enroll", "enrollment_key": config["enrollment_key"], "client_id": client_id,
                   "kind": config["kind"], "mode": mode, "platform": platform, "version": version})
        enrolled = conn.receive()
        if enrolled.get("t") != "enrolled":
            raise RuntimeError(f"enroll refused: {enrolled}")
        conn.send({"t": "checkin", "client_id": client_id, "client_secret": enrolled["client_secret"],
                   "kind": config["kind"], "mode": mode, "version": version, "platform": platform,
                   "stats": {"cpu_load": 0.25, "disk_used_pct": 42.0, "uptime_s": 3600,
                             "console_user": console_user}})
        answer = conn.receive()
        if answer.get("t") != "checkin_ok":
            raise RuntimeError(f"checkin refused: {answer}")
    finally:
        conn.close()
    return client_id
