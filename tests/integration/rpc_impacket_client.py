#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An MS-WDSC client built on Debian's python3-impacket, independent of
wdsfs's C code: impacket does the DCE/RPC (MS-RPCE) and NTLMv2 (MS-NLMP) at
RPC_C_AUTHN_LEVEL_PKT_PRIVACY, and the MS-WDSC packets are built and parsed
here from the spec (MS-WDSC 2.2.1, MS-WDSMSI 2.2.1, MS-WDSOSD 2.2.6).

usage: rpc_impacket_client.py [options] initiate NAMESPACE CONTENT
       rpc_impacket_client.py [options] enumerate
       rpc_impacket_client.py [options] raw HEX     (WdsRpcMessage stub as is)
       rpc_impacket_client.py [options] packet HEX  (an MS-WDSC packet)
options: --port P --host H --user U --password P --domain D --nthash HEX
         --level privacy|integrity|none

Prints one JSON object on stdout. Exit status: 0 success, 3 access denied
(bind refused, fault 5, WdsRpcMessage or OpCode-ErrorCode 5), 4 another
Win32 error in the reply (printed as "error"), 1 anything else.
"""
import argparse
import json
import struct
import sys
import uuid

from impacket.dcerpc.v5 import rpcrt, transport
from impacket.dcerpc.v5.dtypes import ULONG
from impacket.dcerpc.v5.ndr import NDRCALL, NDRPOINTER, NDRUniConformantArray
from impacket.dcerpc.v5.rpcrt import DCERPCException
from impacket.uuid import uuidtup_to_bin

WDS_IFACE = uuidtup_to_bin(("1A927394-352E-4553-AE3F-7CF4AAFCA620", "1.0"))
EP_MSI = uuid.UUID("6f13a317-3687-4b54-81a5-504daa9062fa")  # MS-WDSMSI 1.9
EP_OSD = uuid.UUID("d8deeb5a-effd-43b2-99fc-1a8a5921c227")  # MS-WDSOSD 1.9
OP_INITIATE = 6
OP_IMG_ENUMERATE = 2
VAR_BYTE, VAR_USHORT, VAR_ULONG, VAR_ULONG64 = 1, 2, 4, 8
VAR_STRING, VAR_WSTRING, VAR_BLOB = 0x10, 0x20, 0x40
ACCESS_DENIED = 5


# ---- WdsRpcMessage (MS-WDSC 3.1.4.1) as impacket NDR types ----------------
class BYTE_ARRAY(NDRUniConformantArray):
    item = "c"


class PBYTE_ARRAY(NDRPOINTER):
    referent = (("Data", BYTE_ARRAY),)


class WdsRpcMessage(NDRCALL):
    opnum = 0
    structure = (
        ("uRequestPacketSize", ULONG),
        ("bRequestPacket", BYTE_ARRAY),
    )


class WdsRpcMessageResponse(NDRCALL):
    structure = (
        ("puReplyPacketSize", ULONG),
        ("pbReplyPacket", PBYTE_ARRAY),
        ("ReturnValue", ULONG),
    )


# ---- MS-WDSC 2.2.1 packets --------------------------------------------------
def var_block(name, vtype, value, value_len=None, array_size=0):
    """One Variable Description Block (MS-WDSC 2.2.1.3.1), padded to 16."""
    n = name.encode("utf-16-le") + b"\0\0"
    assert len(n) <= 66
    hdr = n.ljust(66, b"\0") + b"\0\0"
    hdr += struct.pack("<III", vtype, len(value) if value_len is None else value_len, array_size)
    blk = hdr + value
    return blk + b"\0" * (-len(blk) % 16)


def wstring(s):
    return s.encode("utf-16-le") + b"\0\0"


def build_packet(endpoint, opcode, variables, spec_size=False):
    """Endpoint header + operation header + variables. The endpoint
    Packet-Size is the operation part (as Windows clients send it) unless
    spec_size, when it is the whole packet (MS-WDSC 2.2.1.1's wording)."""
    body = b"".join(variables)
    op = struct.pack("<IHBBII", 16 + len(body), 0x0100, 1, 0, opcode, len(variables)) + body
    size = 40 + len(op) if spec_size else len(op)
    ep = struct.pack("<HHI", 0x28, 0x0100, size) + endpoint.bytes_le + b"\0" * 16
    return ep + op


def parse_packet(pkt):
    """(endpoint, packet_type, error, {name_lower: (type, value)})."""
    if len(pkt) < 56:
        raise ValueError("reply shorter than the two headers")
    hsize, ver, _psize = struct.unpack_from("<HHI", pkt, 0)
    if hsize != 0x28 or ver != 0x0100:
        raise ValueError("bad endpoint header")
    endpoint = uuid.UUID(bytes_le=pkt[8:24])
    op_size, op_ver, ptype, _pad, err, count = struct.unpack_from("<IHBBII", pkt, 40)
    if op_ver != 0x0100 or op_size != len(pkt) - 40:
        raise ValueError("bad operation header")
    # Windows pads each block to 16 leaving at least 4 bytes of padding;
    # MS-WDSC 2.2.1.3.1 only asks for a multiple of 16. Try both.
    for windows in (True, False):
        out = walk_vars(pkt, count, windows)
        if out is not None:
            return endpoint, ptype, err, out
    raise ValueError("variables do not fit the packet")


def walk_vars(pkt, count, windows):
    off, out = 56, {}
    for _ in range(count):
        if off + 80 > len(pkt):
            return None
        name = pkt[off:off + 66].decode("utf-16-le", "replace").split("\0", 1)[0]
        vtype, vlen, asize = struct.unpack_from("<III", pkt, off + 68)
        total = vlen * (asize if vtype >> 16 else 1)
        if off + 80 + total > len(pkt):
            return None
        out[name.lower()] = (vtype, pkt[off + 80:off + 80 + total])
        blk = 80 + total + (4 if windows else 0)
        off += blk + (-blk % 16)
    return out if off == len(pkt) else None


def value_of(vars_, name):
    vtype, v = vars_[name.lower()]
    base = vtype & 0xFFFF
    if base == VAR_ULONG:
        return struct.unpack("<I", v)[0]
    if base == VAR_ULONG64:
        return struct.unpack("<Q", v)[0]
    if base == VAR_WSTRING:
        return v.decode("utf-16-le").rstrip("\0")
    return v


# ---- the calls --------------------------------------------------------------
def connect(a):
    t = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (a.host, a.port))
    if a.level != "none":
        lm, nt = ("", a.nthash) if a.nthash else ("", "")
        t.set_credentials(a.user, a.password if not a.nthash else "", a.domain, lm, nt)
    dce = t.get_dce_rpc()
    if a.level != "none":
        dce.set_auth_type(rpcrt.RPC_C_AUTHN_WINNT)
        dce.set_auth_level(
            rpcrt.RPC_C_AUTHN_LEVEL_PKT_PRIVACY
            if a.level == "privacy"
            else rpcrt.RPC_C_AUTHN_LEVEL_PKT_INTEGRITY
        )
    dce.connect()
    dce.bind(WDS_IFACE)
    return dce


def call_packet(dce, pkt):
    req = WdsRpcMessage()
    req["uRequestPacketSize"] = len(pkt)
    req["bRequestPacket"] = list(pkt)
    resp = dce.request(req, checkError=False)
    status = resp["ReturnValue"]
    ptr = resp["pbReplyPacket"]
    # impacket hands a pointer's single referent out directly; NULL is b"".
    if isinstance(ptr, list):
        data = b"".join(ptr)
    elif isinstance(ptr, (bytes, str)) or ptr is None:
        data = b""
    else:
        data = b"".join(ptr["Data"])
    if len(data) != resp["puReplyPacketSize"]:
        raise ValueError("reply size %d but %d bytes" % (resp["puReplyPacketSize"], len(data)))
    return status, data


def initiate(dce, ns, content):
    pkt = build_packet(
        EP_MSI,
        OP_INITIATE,
        [
            var_block("Namespace", VAR_WSTRING, wstring(ns)),
            var_block("Content", VAR_WSTRING, wstring(content)),
            var_block("Client", VAR_WSTRING, wstring("IMPACKET")),
            # WDSMC_CLIENT_CAP_CHECKSUM | WDSMC_CLIENT_CAP_BOOT_DEVICE
            var_block("Cap", VAR_ULONG, struct.pack("<I", 5)),
        ],
    )
    status, data = call_packet(dce, pkt)
    if status:
        return {"status": status}
    ep, ptype, err, v = parse_packet(data)
    if ep != EP_MSI:
        raise ValueError("reply for endpoint %s" % ep)
    if err:
        return {"status": 0, "error": err}
    mc = value_of(v, "TpMcAddress.Address")
    uni = value_of(v, "TpUniAddress.Address")
    out = {
        "status": 0,
        "error": 0,
        "packet_type": ptype,
        "session_id": value_of(v, "SessionId"),
        "group": ".".join(str(b) for b in mc),
        "port": value_of(v, "TpMcAddress.Port"),
        "server": ".".join(str(b) for b in uni),
        "server_port": value_of(v, "TpUniAddress.Port"),
        "block_size": value_of(v, "BlockSize"),
        "content_size": value_of(v, "ContentSize"),
        "total_blocks": value_of(v, "TotalBlocks"),
    }
    if "secmode" in v:
        out["sec_mode"] = value_of(v, "SecMode")
    return out


def enumerate_images(dce):
    pkt = build_packet(EP_OSD, OP_IMG_ENUMERATE, [var_block("VERSION", VAR_ULONG, struct.pack("<I", 1))])
    status, data = call_packet(dce, pkt)
    if status:
        return {"status": status}
    ep, _ptype, err, v = parse_packet(data)
    if ep != EP_OSD:
        raise ValueError("reply for endpoint %s" % ep)
    if err:
        return {"status": 0, "error": err}
    images, i = [], 1
    while ("path_%d" % i) in v:
        im = {
            "path": value_of(v, "PATH_%d" % i),
            "group": value_of(v, "GROUP_%d" % i),
            "index": value_of(v, "INDEX_%d" % i),
            "xml": value_of(v, "XML_%d" % i),
        }
        if ("namespace_%d" % i) in v:
            im["namespace"] = value_of(v, "NAMESPACE_%d" % i)
        if ("namespace_size_%d" % i) in v:
            im["size"] = value_of(v, "NAMESPACE_SIZE_%d" % i)
        images.append(im)
        i += 1
    return {"status": 0, "error": 0, "images": images}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5040)
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--domain", default="")
    p.add_argument("--nthash", default="")
    p.add_argument("--level", choices=["privacy", "integrity", "none"], default="privacy")
    p.add_argument("--repeat", type=int, default=1, help="calls on one connection")
    p.add_argument("cmd", choices=["initiate", "enumerate", "raw", "packet"])
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    try:
        dce = connect(a)
    except DCERPCException as e:
        # bind_nak or a fault for bad credentials
        print(json.dumps({"bind_error": str(e)}))
        return 3 if "access_denied" in str(e).lower() or "nca_s_" in str(e).lower() or "reject" in str(e).lower() else 1
    except (OSError, EOFError) as e:  # connection closed by the server at bind/auth3
        print(json.dumps({"bind_error": "%s: %s" % (type(e).__name__, e)}))
        return 3
    try:
        for _ in range(a.repeat):
            if a.cmd == "initiate":
                r = initiate(dce, a.args[0], a.args[1])
            elif a.cmd == "enumerate":
                r = enumerate_images(dce)
            elif a.cmd == "packet":
                status, data = call_packet(dce, bytes.fromhex(a.args[0]))
                r = {"status": status, "reply_len": len(data)}
                if data:
                    r["error"] = parse_packet(data)[2]
            else:
                dce.call(0, bytes.fromhex(a.args[0]))
                ans = dce.recv()
                r = {"status": struct.unpack("<I", ans[-4:])[0], "stub_len": len(ans)}
    except DCERPCException as e:
        print(json.dumps({"call_error": str(e)}))
        return 3 if "access_denied" in str(e).lower() else 1
    finally:
        try:
            dce.disconnect()
        except Exception:
            pass
    print(json.dumps(r))
    if r.get("status") == ACCESS_DENIED or r.get("error") == ACCESS_DENIED:
        return 3
    if r.get("status") or r.get("error"):
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
