#!/bin/bash
# A flood of malformed and spoofed packets at a receiver's ports during a
# transfer. In a namespace topology (server + three receivers on a bridge, and
# an attacker at 10.77.0.99), the attacker captures real session packets and
# for 6 s sends, to the session's group port and to r1's unicast port:
#   - the wrong session id (checksum valid), from the server's address and port
#   - a bad checksum, from the server's address and port
#   - every kind of truncation, from the server's address and port
#   - data with altered payload and a valid checksum and session id, from
#     another address, from the server's address with another port, and
#     from the attacker's own socket (accepted, these would corrupt the file)
#   - random bytes
# (the spoofed ones through a raw socket). Every flood packet carries IP TTL
# 77, so an nftables counter on r1's link counts what reached it. The
# receivers must complete bit-exact, and no process may crash.
# Usage: fault_flood.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/fault_lib.sh"
command -v python3 > /dev/null || skip "python3 missing"
topology
add_node x 10.77.0.99

make_image 64
# 64 MiB at 4 MB/s: about 17 s; the flood runs from about 2 s to 8 s.
SERVE_DEBUG=1 SERVE_MAX_RATE=4000000 start_fserver "$PORT" "Images=$T/image.bin"

on r1 nft -f - << 'NFT' || fail "nft counter on r1"
table netdev flood {
    chain in {
        type filter hook ingress device eth0 priority 0;
        ip ttl 77 counter
    }
}
NFT

start_get r1 r1 30; p1=$GET_PID
start_get r2 r2 30; p2=$GET_PID
start_get r3 r3 30; p3=$GET_PID

for _ in $(seq 50); do
    grep -q "(10\.77\.0\.11:[0-9]*) joined" "$T/serve.err" && break
    sleep 0.1
done
line=$(grep -m1 "(Images/image.bin): " "$T/serve.err")
session=$(echo "$line" | sed -n 's/.*session \([0-9a-f]*\) (Images.*/\1/p')
group=$(echo "$line" | sed -n 's/.*: \([0-9.]*\):\([0-9]*\),.*/\1/p')
gport=$(echo "$line" | sed -n 's/.*: \([0-9.]*\):\([0-9]*\),.*/\2/p')
uport=$(sed -n 's/.*(10\.77\.0\.11:\([0-9]*\)) joined.*/\1/p' "$T/serve.err" | head -1)
[ -n "$session" ] && [ -n "$group" ] && [ -n "$uport" ] ||
    { cat "$T/serve.err"; fail "session, group or r1's port not in the server log"; }

cat > "$T/flood.py" << 'PY'
# flood.py GROUP GPORT SESSION R1_ADDR R1_PORT SERVER_ADDR SECONDS
import random, socket, struct, sys, time

group, gport, session = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 16)
r1, r1port, srv, secs = sys.argv[4], int(sys.argv[5]), sys.argv[6], float(sys.argv[7])
me = "10.77.0.99"
TTL = 77

# Capture real packets of the session (the server's source port with them).
cap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cap.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
cap.bind((group, gport))
cap.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
               socket.inet_aton(group) + socket.inet_aton(me))
cap.settimeout(5)
tmpl, sport = [], None
while len(tmpl) < 64:
    buf, (a, p) = cap.recvfrom(65536)
    if a == srv and buf[:2] == b"WD":
        sport = p
        tmpl.append(bytearray(buf))
cap.close()

def body_off(p):
    return 5 + struct.unpack(">H", p[3:5])[0]

def fix_sum(p):
    if p[2] == 3:  # CHECKSUM: ~(sum of the bytes after the security header)
        p[5:9] = struct.pack(">I", ~sum(p[body_off(p):]) & 0xFFFFFFFF)
    return p

def with_checksum(p):
    # The same packet under a CHECKSUM security header (if it had none).
    if p[2] == 3:
        return bytearray(p)
    return fix_sum(bytearray(b"WD\x03\x00\x04\x00\x00\x00\x00") + p[body_off(p):])

def wrong_session(p):
    q = with_checksum(p)
    o = body_off(q)
    q[o:o + 4] = struct.pack(">I", (session ^ random.randrange(1, 1 << 32)) & 0xFFFFFFFF)
    return fix_sum(q)

def bad_checksum(p):
    q = with_checksum(p)
    q[5:9] = struct.pack(">I", (struct.unpack(">I", q[5:9])[0] ^ 0x5A5A) & 0xFFFFFFFF)
    return q

def truncated(p):
    return bytearray(p[:random.randrange(0, len(p))])

def altered(p):
    # A data packet (ODATA 6 / RDATA 7) with its payload scrambled, checksum
    # recomputed: valid in every field but its source.
    q = bytearray(p)
    o = body_off(q)
    if len(q) > o + 64:
        for i in range(o + 40, len(q), 97):
            q[i] ^= 0xFF
    return fix_sum(q)

def ipv4(src, dst, sp, dp, payload):
    udp = struct.pack(">HHHH", sp, dp, 8 + len(payload), 0) + payload
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.randrange(65536), 0,
                      TTL, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return hdr + udp

raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
own = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
own.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, TTL)
own.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, TTL)
own.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(me))
targets = [(group, gport), (r1, r1port)]
data = [p for p in tmpl if p[body_off(p) + 4] in (6, 7)] or tmpl
sent = {}
end = time.time() + secs
while time.time() < end:
    for dst, dp in targets:
        p = random.choice(tmpl)
        d = random.choice(data)
        for kind, src, sp, payload in (
                ("wrong-session", srv, sport, wrong_session(p)),
                ("bad-checksum", srv, sport, bad_checksum(p)),
                ("truncated", srv, sport, truncated(p)),
                ("other-address", "10.77.0.200", sport, altered(d)),
                ("other-port", srv, sport + 1, altered(d)),
                ("garbage", srv, sport, bytes(random.randrange(256) for _ in range(random.randrange(1, 200))))):
            try:
                raw.sendto(ipv4(src, dst, sp, dp, bytes(payload)), (dst, 0))
                sent[kind] = sent.get(kind, 0) + 1
            except OSError:
                pass
        try:
            own.sendto(bytes(altered(d)), (dst, dp))
            sent["own-socket"] = sent.get("own-socket", 0) + 1
        except OSError:
            pass
    time.sleep(0.0005)
print(" ".join("%s=%d" % kv for kv in sorted(sent.items())), "total=%d" % sum(sent.values()))
kinds = ("wrong-session", "bad-checksum", "truncated", "other-address", "other-port", "garbage",
         "own-socket")
missing = [k for k in kinds if not sent.get(k)]
if missing:
    sys.exit("flood: nothing of kind %s could be sent" % ", ".join(missing))
PY

sleep 1
on x python3 "$T/flood.py" "$group" "$gport" "$session" 10.77.0.11 "$uport" "$SRV_IP" 6 \
    > "$T/flood.out" 2> "$T/flood.err" || { cat "$T/flood.err"; fail "the flood script failed"; }
echo "flood sent: $(cat "$T/flood.out")"
hits=$(on r1 nft list table netdev flood | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[ "${hits:-0}" -gt 1000 ] || fail "only ${hits:-0} flood packets reached r1"
echo "flood packets that reached r1's link: $hits"
kill -0 "$SERVER_PID" || fail "the server died during the flood"

wait_get $p1 r1
wait_get $p2 r2
wait_get $p3 r3
kill -0 "$SERVER_PID" || fail "the server died"
echo "ok: $hits flood packets at r1 (wrong session, bad checksum, truncated, spoofed, garbage); all bit-exact in $(elapsed) s"
