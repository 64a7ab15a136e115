#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Throw malformed DCE/RPC and MS-WDSC input at an RPC listener; every case
must be answered (bind_nak, fault, Win32 error) or end in a closed
connection, never hang or kill the server. Cases that need a security
context use impacket (NTLMv2 at PKT_PRIVACY) for the bind and then send raw
stubs. Prints one line per case; exit 1 when a case misbehaved."""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpc_impacket_client as ic  # noqa: E402

HOST, PORT, USER, PW = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
WDS = bytes.fromhex("9473921a2e355345ae3f7cf4aafca620")  # uuid, little-endian
NDR = bytes.fromhex("045d888aeb1cc9119fe808002b104860")
bad = 0


def hdr(ptype, body, call_id=1, flags=3, auth_len=0, frag_len=None):
    n = 16 + len(body) if frag_len is None else frag_len
    return struct.pack("<BBBB4sHHI", 5, 0, ptype, flags, b"\x10\0\0\0", n, auth_len, call_id) + body


def bind_body(n_ctx=1, iface=WDS, n_ts=1):
    b = struct.pack("<HHI", 4280, 4280, 0) + struct.pack("<B3x", n_ctx)
    for i in range(min(n_ctx, 3)):
        b += struct.pack("<HB1x", i, n_ts) + iface + struct.pack("<I", 1)
        b += (NDR + struct.pack("<I", 2)) * min(n_ts, 3)
    return b


def exchange(data, expect_close_ok=True, read=True):
    """Send data; return what comes back before close/timeout (<= 64 KiB)."""
    s = socket.create_connection((HOST, PORT), timeout=5)
    try:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        s.settimeout(3)
        while len(out) < 65536:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if len(out) >= 16 and len(out) >= struct.unpack_from("<H", out, 8)[0]:
                break
        return out
    finally:
        s.close()


def ptype_of(reply):
    return reply[2] if len(reply) >= 16 else None


def case(name, ok, detail=""):
    global bad
    print("%-48s %s %s" % (name, "ok" if ok else "BAD", detail))
    if not ok:
        bad += 1


# ---- PDU framing --------------------------------------------------------
r = exchange(os.urandom(200))
case("random bytes", ptype_of(r) in (None, 13, 3), r[:4].hex())
r = exchange(hdr(11, bind_body(), frag_len=8))
case("frag_length below the header", ptype_of(r) in (None, 13, 3))
r = exchange(hdr(11, bind_body(), frag_len=65535), read=False)
case("frag_length beyond the data (then close)", True)
r = exchange(struct.pack("<BB", 4, 0) + hdr(11, bind_body())[2:])
case("rpc_vers 4", ptype_of(r) in (None, 13))
r = exchange(hdr(11, bind_body())[:4] + b"\x00\x00\x00\x00" + hdr(11, bind_body())[8:])
case("big-endian / unknown drep", ptype_of(r) in (None, 13, 3))
r = exchange(hdr(0, struct.pack("<IHH", 0, 0, 0) + b"x" * 8))
case("request before bind", ptype_of(r) in (None, 3, 13))
r = exchange(hdr(11, bind_body(n_ctx=255)))
case("bind claiming 255 contexts", ptype_of(r) in (None, 13, 12))
r = exchange(hdr(11, bind_body(n_ts=200)))
case("bind claiming 200 transfer syntaxes", ptype_of(r) in (None, 13, 12))
r = exchange(hdr(11, bind_body(iface=os.urandom(16))))
case("bind to an unknown interface", ptype_of(r) == 12, "bind_ack with a rejection")

# bind with an auth trailer holding garbage tokens (NTLM and SPNEGO)
for atype, name in ((10, "NTLM"), (9, "SPNEGO")):
    tok = os.urandom(40)
    body = bind_body() + struct.pack("<BBBBI", atype, 6, 0, 0, 1) + tok
    r = exchange(hdr(11, body, auth_len=len(tok)))
    case("bind with a garbage %s token" % name, ptype_of(r) in (None, 13, 12))
    tok = b"NTLMSSP\0" + struct.pack("<I", 1) + b"\xff" * 3000
    body = bind_body() + struct.pack("<BBBBI", atype, 6, 0, 0, 1) + tok
    r = exchange(hdr(11, body, auth_len=len(tok)))
    case("bind with a 3 KB %s token" % name, ptype_of(r) in (None, 13, 12))
body = bind_body() + struct.pack("<BBBBI", 77, 6, 0, 0, 1) + b"x" * 16
r = exchange(hdr(11, body, auth_len=16))
case("bind with auth_type 77", ptype_of(r) in (None, 13))
# auth_length larger than the PDU
body = bind_body() + struct.pack("<BBBBI", 10, 6, 0, 0, 1) + b"x" * 16
r = exchange(hdr(11, body, auth_len=4000))
case("auth_length over the PDU", ptype_of(r) in (None, 13))

# ---- an authenticated connection, then bad stubs ------------------------
class A:
    host, port, user, password, domain, nthash, level = HOST, PORT, USER, PW, "", "", "privacy"


def authed_raw(stub, what, expect):
    try:
        dce = ic.connect(A)
    except Exception as e:
        case(what, False, "bind failed: %s" % e)
        return
    try:
        dce.call(0, stub)
        ans = dce.recv()
        status = struct.unpack("<I", ans[-4:])[0]
        case(what, expect == "status" and status != 0, "WdsRpcMessage %d" % status)
    except Exception as e:
        case(what, expect == "fault", str(e)[:60])
    finally:
        try:
            dce.disconnect()
        except Exception:
            pass


authed_raw(b"", "empty stub", "fault")
authed_raw(struct.pack("<II", 100, 100) + b"x" * 10, "conformance beyond the stub", "fault")
authed_raw(struct.pack("<II", 8, 0xFFFFFFF0) + b"x" * 8, "max_count 0xfffffff0", "fault")
authed_raw(struct.pack("<II", 10, 12) + b"x" * 12, "size and max_count differ", "fault")
junk = os.urandom(300)
authed_raw(struct.pack("<II", len(junk), len(junk)) + junk, "random MS-WDSC packet", "status")
# MS-WDSC packets with lying sizes and counts
def wdsc_case(pkt, what):
    authed_raw(struct.pack("<II", len(pkt), len(pkt)) + pkt, what, "status")
good = ic.build_packet(ic.EP_MSI, ic.OP_INITIATE, [ic.var_block("Namespace", ic.VAR_WSTRING, ic.wstring("x"))])
p = bytearray(good); struct.pack_into("<I", p, 52, 0xFFFFFFFF)
wdsc_case(bytes(p), "Variable-Count 0xffffffff")
p = bytearray(good); struct.pack_into("<I", p, 56 + 72, 0xFFFFFFF0)
wdsc_case(bytes(p), "Value-Length 0xfffffff0")
arr = ic.var_block("Cap", ic.VAR_ULONG | 0x10000000, b"\0" * 4, value_len=4, array_size=0x40000000)
wdsc_case(ic.build_packet(ic.EP_MSI, ic.OP_INITIATE, [arr]), "Array-Size 0x40000000")
p = bytearray(good); struct.pack_into("<I", p, 40, 0x7FFFFFFF)
wdsc_case(bytes(p), "operation Packet-Size 0x7fffffff")
wdsc_case(good[:50], "packet cut inside the headers")
many = ic.build_packet(ic.EP_MSI, ic.OP_INITIATE,
                       [ic.var_block("V%d" % i, ic.VAR_ULONG, b"\0" * 4) for i in range(2000)])
wdsc_case(many, "2000 variables, no Namespace")
wdsc_case(ic.build_packet(ic.EP_OSD, 0x77, []), "unknown opcode")
wdsc_case(ic.build_packet(ic.EP_OSD, ic.OP_IMG_ENUMERATE,
                          [ic.var_block("VERSION", ic.VAR_ULONG, struct.pack("<I", 1)),
                           ic.var_block("IMDC", ic.VAR_ULONG, struct.pack("<I", 0xFFFFFFFF))]),
          "IMG_ENUMERATE with IMDC 0xffffffff")
# A stub over the 1 MiB cap: refused (fault), not buffered without end.
big = b"\0" * (1100 * 1024)
authed_raw(struct.pack("<II", len(big), len(big)) + big, "1.1 MiB request", "fault")

# ---- many connections at once ---------------------------------------------
socks = []
try:
    for i in range(100):
        socks.append(socket.create_connection((HOST, PORT), timeout=5))
    case("100 idle connections accepted or refused", True, "%d open" % len(socks))
except OSError as e:
    case("100 idle connections accepted or refused", True, str(e))
finally:
    for s in socks:
        s.close()
time.sleep(0.3)

# ---- and a well-formed call still works ------------------------------------
try:
    dce = ic.connect(A)
    res = ic.enumerate_images(dce)
    dce.disconnect()
    case("a good call afterwards", res.get("status") == 0 and res.get("error") == 0)
except Exception as e:
    case("a good call afterwards", False, str(e))
sys.exit(1 if bad else 0)
