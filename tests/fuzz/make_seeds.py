#!/usr/bin/env python3
"""Writes the seed corpus (corpus/<target>/) from hand-made valid inputs. Run from anywhere;
the seeds are committed, so this only documents where they came from and regenerates them."""
import base64, hashlib, json, os, struct

HERE = os.path.dirname(os.path.abspath(__file__))

def pack(v):
    if v is None: return b"\xc0"
    if v is True: return b"\xc3"
    if v is False: return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128: return bytes([v])
        return b"\xcf" + struct.pack(">Q", v)
    if isinstance(v, float): return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, bytes): return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, dict):
        out = bytes([0x80 | len(v)])
        for k, x in v.items(): out += pack(k) + pack(x)
        return out
    raise TypeError(v)

def frame(m):
    p = pack(m)
    return struct.pack(">I", len(p)) + p

def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f: f.write(data)

UUID = "0b5a8e9c-3f41-4d2a-9c7e-1f2e3d4c5b6a"
messages = {
    "enroll": {"v": 1, "t": "enroll", "enrollment_key": "ab" * 32, "client_id": UUID,
               "kind": "jump-client", "mode": "active", "platform": "linux-x86_64", "version": "1.0.0"},
    "checkin": {"v": 1, "t": "checkin", "client_id": UUID, "client_secret": "cd" * 32,
                "kind": "jumpoint", "mode": "passive", "version": "2.0.1", "platform": "windows-x86_64",
                "stats": {"cpu_load": 0.5, "disk_used_pct": 40.0, "uptime_s": 1000, "console_user": "ann"}},
    "heartbeat": {"v": 1, "t": "heartbeat", "seq": 7},
    "download": {"v": 1, "t": "download", "lease_id": 3, "offset": 65536},
    "result": {"v": 1, "t": "upgrade_result", "lease_id": 3, "version": "2.0.0",
               "outcome": "rolled_back", "detail": "health check exit 3"},
    "error": {"v": 1, "t": "error", "code": "timeout", "message": "idle"},
    "wait": {"v": 1, "t": "upgrade_wait", "position": 4, "retry_after_s": 60, "hold_s": 30},
    "chunk": {"v": 1, "t": "chunk", "lease_id": 3, "offset": 0, "data": b"\x00\x01\x02"},
}
for name, m in messages.items():
    write("fuzz_frames", name, b"\x07" + frame(m))
write("fuzz_frames", "two", b"\x00" + frame(messages["heartbeat"]) + frame(messages["download"]))

manifest = json.dumps({"allow_downgrade": False, "created_ms": 1764057600000, "kind": "jump-client",
                       "platform": "linux-x86_64", "sha256": "a" * 64, "size": 1048576,
                       "version": "2.0.0"}, sort_keys=True, separators=(",", ":")).encode()
write("fuzz_manifest", "manifest", manifest)

header = json.dumps({"format": 1, "kind": "site", "version": "2.0.0", "depends_on": ["base-1.0.0"],
                     "created_ms": 1764057600000,
                     "packages": [{"kind": "jump-client", "platform": "windows-x86_64",
                                   "version": "2.0.0", "offset": 0, "size": 10, "sha256": "b" * 64}]}).encode()
write("fuzz_bundle_header", "header", header)

payload = json.dumps({"id": "inst-1a2b3c", "kind": "jump-client", "mode": "active",
                      "jump_group": "ops", "tag": "", "expires_ms": 1900000000000,
                      "site_version": "2.0.0", "overrides": ["mode"]}).encode()
write("fuzz_installer_key", "signed", b"\x01" + payload)
write("fuzz_installer_key", "text", b"\x00SLK1." + base64.urlsafe_b64encode(payload).rstrip(b"=") + b"." + b"A" * 86)

dl = json.dumps({"site_id": "0" * 32, "public_key": base64.b64encode(b"\x01" * 32).decode(),
                 "base_version": "1.0.0", "site_version": "2.0.0", "installed": ["base-1.0.0"],
                 "issued_ms": 1764057600000, "expires_ms": 1900000000000}).encode()
write("fuzz_download_key", "key", b"SLUICE-DLKEY-1." + base64.urlsafe_b64encode(dl).rstrip(b"=") + b"." + b"A" * 86)

write("fuzz_admin_request", "request", b'{"cmd":"limits-set","args":{"kind":"jump-client","max_concurrent":"auto","min":2,"max":9}}')
write("fuzz_admin_request", "response", b'{"ok":false,"error":{"code":"invalid_argument","message":"x"}}')

# Dashboard requests (the first byte picks the piece size): a pipelined login and command, a
# chunked body, a session cookie with a query string, and one over every limit.
write("fuzz_http_request", "pipelined", b"\x07POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      b"Content-Length: 33\r\n\r\n{\"name\":\"a\",\"password\":\"bbbbbb\"}"
      b"POST /api/cmd/limits HTTP/1.1\r\nHost: x\r\nCookie: __Host-sluice_session=ab\r\n"
      b"X-CSRF-Token: cd\r\nContent-Length: 2\r\n\r\n{}")
write("fuzz_http_request", "chunked", b"\x03POST /api/cmd/status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      b"2\r\n{}\r\n0\r\n\r\n")
write("fuzz_http_request", "query", b"\x20GET /api/installers/inst-1/msi?product_code=%7BAB%7D+x HTTP/1.0\r\n"
      b"Cookie: a=1; __Host-sluice_session=tok\r\nConnection: keep-alive\r\n\r\n")
write("fuzz_http_request", "too_long", b"\x3fGET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n")

# A sealed blob's shape: magic, scrypt parameters, salt, nonce, ciphertext and tag.
write("fuzz_password_box", "blob", b"SLPB" + bytes([1]) + bytes([14, 8, 1]) + b"\x00" * 32 + b"\x00" * 12 + b"\x00" * 16 + b"secret")

# A complete unprotected backup (one entry, a manifest whose hashes hold), and the start of a
# protected one with the cheapest scrypt the reader accepts.
entry_name, entry_data = b"keys/enrollment.key", b"0" * 64 + b"\n"
entries = (b"F" + struct.pack(">H", len(entry_name)) + entry_name + struct.pack(">Q", len(entry_data))
           + entry_data + hashlib.sha256(entry_data).digest())
manifest = json.dumps({"base_version": "", "content_sha256": hashlib.sha256(entries).hexdigest(),
                       "created_ms": 1764057600000,
                       "entries": [{"name": entry_name.decode(), "sha256": hashlib.sha256(entry_data).hexdigest(),
                                    "size": len(entry_data)}],
                       "format_version": 1, "history": True, "history_left_out": [],
                       "omitted": [{"name": "packages/ab", "reason": "package", "restore_from": "x",
                                    "sha256": "ab", "size": 1}],
                       "product": "sluice", "protected": False, "schema_version": 6,
                       "site_version": "2.0.0", "source_root": "/var/lib/sluice"},
                      separators=(",", ":"), sort_keys=True).encode()
write("fuzz_backup_file", "plain", b"SLUICEBK" + struct.pack(">HH", 1, 0) + entries + b"M"
      + struct.pack(">I", len(manifest)) + manifest + hashlib.sha256(manifest).digest())
write("fuzz_backup_file", "sealed", b"SLUICEBK" + struct.pack(">HH", 1, 1) + b"SLS1"
      + struct.pack(">III", 1 << 10, 8, 1) + b"\x00" * 24 + struct.pack(">I", 1024) + b"\x00" * 64)
