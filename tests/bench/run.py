#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wdsfs benchmark suite: not pass/fail; prints figures, their baselines and
the ratios DESIGN.md's targets are stated in, and writes them as JSON.

    tests/bench/run.py [--build DIR] [--size 1G] [--runs 3] [--json bench.json]
                       [--only NAME,...] [--skip NAME,...]

Every figure is measured in the same run, on the same file (random bytes,
--size), and is the best of --runs runs (highest rate, lowest time; peak RSS
is the worst run). Groups (names for --only/--skip):

  raw      rawmc: one-way multicast over loopback, 8192- and 1400-byte datagrams
           (bytes received over the receiver's time from first to last), sent
           with sendmmsg and received with recvmmsg, and again with UDP GSO
           and GRO as our server and wdsget do
  udpcast  udp-sender/udp-receiver on loopback, output to /dev/null
  ours     serve + 1, 8 and 32 wdsget (-o - > /dev/null) on loopback;
           wall time from the receivers' start to the last one's exit; the
           server's CPU seconds (utime+stime) per GB of content
  cpu      what the server's CPU per byte is made of with 1 and 32 receivers on
           loopback: the raw sender's CPU/GB (sendmmsg, and UDP GSO) at the
           same receiver counts (the
           kernel clones each datagram to every local socket inside the
           sender's sendmsg, so on one machine the fan-out a switch does is
           charged to the sender), and the server's own instructions per GB
           counted by callgrind (deterministic; --cg-size of content)
  mount    the finished image read through a wdsfs mount (spool) vs the
           source file, cat and dd bs=1M, both from a warm page cache; each
           run drops the caches and warms both again, twice (new page
           placement, pages on the active list)
  stream   wdsfs -o stream peak RSS (VmHWM) reading a 4 GiB image (sparse)
  veth     network namespaces joined by a bridge (MTU 9000): ours, udpcast
           and uftp over veth (uftp cannot run on loopback: uftpd joins no
           group on an interface without IFF_MULTICAST)
  switch   server CPU per GB with 1 and 32 receivers, each in its own network
           namespace behind a bridge whose forwarding of the server's
           packets runs in a kernel thread (threaded NAPI on the server's
           port), so the server process is charged its own work, not the
           fan-out a switch does on a real network
  link     the switch group as it would run on separate machines: the server
           on a CPU of its own, its link shaped to 1 Gbit/s (tbf, whose full
           queue holds the server back as a NIC's does); the receivers and
           the bridge thread on the other CPUs
  loss     the veth topology, two receivers: 5% loss (nftables, ingress) on
           one receiver's link vs lossless; the server's repair counts logged

Needs root (network namespaces, FUSE, nftables). Binaries come from the
meson build directory (--build, default ./build).
"""
import argparse
import hashlib
import json
import mmap
import os
import platform
import random
import resource
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TCK = os.sysconf("SC_CLK_TCK")
LINK_RATE = "1gbit"  # the link group's server link: a gigabit NIC
GB = 1e9
TARGETS = {
    "ours_1_vs_raw": 0.70,
    "ours_1_vs_udpcast": 3.0,
    "mount_vs_local": 0.80,
    "stream_rss_mib": 64,
    "cpu_32_vs_1": 1.2,
    "loss_vs_lossless": 0.80,
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_size(s):
    m = re.fullmatch(r"(\d+)([KMG]?)i?B?", s.strip(), re.I)
    if not m:
        raise argparse.ArgumentTypeError("bad size " + s)
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]


def free_port():
    while True:
        p = random.randrange(20000, 60000)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("0.0.0.0", p))
                return p
            except OSError:
                pass


def pin_to(cpus):
    """A preexec_fn that runs the child on cpus (None: leave it be)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def napi_threads(dev):
    """The threaded-NAPI kernel threads polling dev (napi/<dev>-<id>)."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().startswith("napi/%s-" % dev):
                    pids.append(int(pid))
        except (OSError, ValueError):
            pass
    return pids


def cpu_s(pid):
    """utime + stime of a live process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def stop(p, sig=signal.SIGTERM, wait=5):
    if p and p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def drop_caches():
    """Drop the clean page cache (both files are re-read from disk)."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1\n")


def mean_folio_pages(path, span=64 << 20):
    """Mean page-cache folio size, in 4 KiB pages, over the first `span`
    bytes of a cached file: maps it, faults every page in and reads each
    page's flags (/proc/self/pagemap, /proc/kpageflags; root). None when
    the kernel does not tell."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        n = min(os.fstat(fd).st_size, span) // mmap.PAGESIZE * mmap.PAGESIZE
        if n == 0:
            return None
        m = mmap.mmap(fd, n, prot=mmap.PROT_READ)
        try:
            for off in range(0, n, mmap.PAGESIZE):
                m[off]
            # The mapping's address: a read-only mmap cannot back a ctypes
            # object, so ask /proc/self/maps which range maps this file.
            ino = os.fstat(fd).st_ino
            addr = None
            with open("/proc/self/maps") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 6 and int(parts[4]) == ino and \
                            int(parts[0].split("-")[1], 16) - int(parts[0].split("-")[0], 16) == n:
                        addr = int(parts[0].split("-")[0], 16)
            if addr is None:
                return None
            tails = 0
            with open("/proc/self/pagemap", "rb") as pm, open("/proc/kpageflags", "rb") as kf:
                for i in range(n // mmap.PAGESIZE):
                    pm.seek((addr // mmap.PAGESIZE + i) * 8)
                    pfn = int.from_bytes(pm.read(8), "little") & ((1 << 55) - 1)
                    if pfn == 0:
                        return None
                    kf.seek(pfn * 8)
                    tails += int.from_bytes(kf.read(8), "little") >> 16 & 1  # KPF_COMPOUND_TAIL
            pages = n // mmap.PAGESIZE
            return pages / max(1, pages - tails)
        finally:
            m.close()
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


class Bench:
    def __init__(self, args):
        self.a = args
        b = args.build
        self.serve = os.path.join(b, "tests/integration/serve")
        self.wdsget = os.path.join(b, "contrib/wdsget/wdsget")
        self.rawmc = os.path.join(b, "tests/bench/rawmc")
        self.wdsfs = os.path.join(b, "fs/wdsfs")
        self.tmp = tempfile.mkdtemp(prefix="wdsbench.")
        self.img = os.path.join(self.tmp, "image.bin")
        self.res = {}  # figure -> dict(value, unit, runs, note)
        self.procs = []
        self.mounts = []
        self.netns = []
        self.topos = {}  # topology name -> its namespaces (topology())

    # -- bookkeeping ------------------------------------------------------
    def put(self, name, runs, unit, best=max, note=None):
        ok = [r for r in runs if r is not None]
        self.res[name] = {"value": best(ok) if ok else None, "unit": unit, "runs": runs}
        if note:
            self.res[name]["note"] = note
        v = self.res[name]["value"]
        log("  %-28s %s %s  runs=%s" % (name, fmt(v, unit), unit,
                                         [fmt(r, unit) for r in runs]))

    def note(self, name, text):
        self.res[name] = {"value": None, "unit": "", "runs": [], "note": text}
        log("  %-28s n/a: %s" % (name, text))

    def want(self, group):
        if self.a.only and group not in self.a.only:
            return False
        return group not in self.a.skip

    def cleanup(self):
        for p in self.procs:
            stop(p, signal.SIGKILL, 2)
        for m in self.mounts:
            subprocess.run(["fusermount3", "-u", "-z", m], stderr=subprocess.DEVNULL)
        for ns in self.netns:
            out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
            for pid in out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- processes --------------------------------------------------------
    def start_serve(self, addr, files, ns=None, env=None, ttl=None, cpus=None):
        port = 5041 if ns else free_port()
        e = dict(os.environ)
        e.pop("SERVE_MAX_RATE", None)
        if ttl is not None:
            e["SERVE_TTL"] = str(ttl)
        if env:
            e.update(env)
        cmd = [self.serve, addr, str(port)] + ["Images=" + f for f in files]
        if ns:
            cmd = ["nsenter", "--net=/run/netns/" + ns] + cmd
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(
            os.path.join(self.tmp, "serve.err"), "a"), env=e, text=True,
            preexec_fn=pin_to(cpus))
        self.procs.append(p)
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("serve did not start (see serve.err)")
        return p, port

    def get_cmd(self, server, port, ifaddr, content, ns=None, out="-"):
        cmd = [self.wdsget, "-q", "-s", "%s:%d" % (server, port), "-i", ifaddr, "-t", "30",
               "-o", out, "Images", content]
        return (["nsenter", "--net=/run/netns/" + ns] if ns else []) + cmd

    # -- raw ceiling ------------------------------------------------------
    def bench_raw(self):
        size = self.a.size
        for gso in ([], ["gso"]):
            for dg in (8192, 1400):
                runs = []
                for _ in range(self.a.runs):
                    port = free_port()
                    r = subprocess.Popen([self.rawmc, "recv", "239.255.77.1", str(port),
                                          "127.0.0.1", str(dg), "500"] + (["gro"] if gso else []),
                                         stdout=subprocess.PIPE, text=True)
                    r.stdout.readline()
                    subprocess.run([self.rawmc, "send", "239.255.77.1", str(port), "127.0.0.1",
                                    str(dg), str(size)] + gso, stderr=subprocess.DEVNULL,
                                   check=True)
                    out = r.communicate(timeout=120)[0]
                    m = re.search(r"rate=(\d+)", out)
                    runs.append(int(m.group(1)) / 1e6 if m else None)
                self.put("raw_%s%d" % ("gso_" if gso else "", dg), runs, "MB/s")

    # -- udpcast ----------------------------------------------------------
    def udpcast_once(self, src, sender_ns=None, recv_ns=None, iface_s="lo", iface_r="lo"):
        port = free_port() & ~1
        rdv = "239.255.77.%d" % random.randrange(100, 200)
        pre_s = ["nsenter", "--net=/run/netns/" + sender_ns] if sender_ns else []
        pre_r = ["nsenter", "--net=/run/netns/" + recv_ns] if recv_ns else []
        ttl = ["--ttl", "0"] if not sender_ns else ["--ttl", "1"]
        r = subprocess.Popen(pre_r + ["udp-receiver", "--interface", iface_r, "--portbase",
                                      str(port), "--nokbd", "--mcast-rdv-address", rdv,
                                      "-f", "/dev/null"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(r)
        time.sleep(0.5)
        t0 = time.monotonic()
        s = subprocess.run(pre_s + ["udp-sender", "--interface", iface_s, "--portbase",
                                    str(port), "--min-receivers", "1", "--nokbd",
                                    "--mcast-rdv-address", rdv, "-f", src] + ttl,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        try:
            r.wait(30)
        except subprocess.TimeoutExpired:
            stop(r, signal.SIGKILL)
            return None
        t = time.monotonic() - t0
        if s.returncode != 0 or r.returncode != 0:
            return None
        return os.path.getsize(src) / t / 1e6

    def bench_udpcast(self):
        if not shutil.which("udp-sender"):
            return self.note("udpcast_lo", "udpcast not installed")
        self.put("udpcast_lo", [self.udpcast_once(self.img) for _ in range(self.a.runs)], "MB/s",
                 note="--mcast-rdv-address (the default 224.0.0.1 rendezvous is not heard "
                      "on lo), --ttl 0, default blocksize")

    # -- our stack --------------------------------------------------------
    def ours_once(self, n, server="127.0.0.1", ns_list=None, ifaddrs=None, check=False,
                  cpus=(None, None)):
        """One session with n receivers; returns (MB/s per receiver, server
        CPU s per GB of content) or (None, None). cpus: the CPU sets the
        server and the receivers run on (None: any)."""
        ns_srv = ns_list[0] if ns_list else None
        p, port = self.start_serve(server, [self.img], ns=ns_srv, ttl=1 if ns_srv else None,
                                   cpus=cpus[0])
        cpu0 = cpu_s(p.pid)
        outs = []
        t0 = time.monotonic()
        for i in range(n):
            ns = ns_list[1 + i % (len(ns_list) - 1)] if ns_list else None
            ifa = ifaddrs[i % len(ifaddrs)] if ifaddrs else "127.0.0.1"
            if check:
                o = os.path.join(self.tmp, "out%d.bin" % i)
                cmd = self.get_cmd(server, port, ifa, "image.bin", ns, o)
                g = subprocess.Popen(cmd, stderr=subprocess.PIPE, preexec_fn=pin_to(cpus[1]))
            else:
                cmd = self.get_cmd(server, port, ifa, "image.bin", ns)
                g = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=pin_to(cpus[1]))
            self.procs.append(g)
            outs.append(g)
        ok = True
        for g in outs:
            try:
                err = g.communicate(timeout=900)[1]
            except subprocess.TimeoutExpired:
                stop(g, signal.SIGKILL)
                err, ok = b"timeout", False
            if g.returncode != 0:
                ok = False
                log("    wdsget failed: %s" % err.decode(errors="replace").strip()[-200:])
        t = time.monotonic() - t0
        cpu = cpu_s(p.pid) - cpu0
        stop(p)
        self.last_stats, self.last_sent = "", None
        block = None
        with open(os.path.join(self.tmp, "serve.err"), errors="replace") as f:
            for line in f:
                m = re.search(r"session \w+: (sent .*)", line)
                if m:
                    self.last_stats = m.group(1)
                m = re.search(r", block (\d+)", line)
                if m:
                    block = int(m.group(1))
        m = re.match(r"sent (\d+) ODATA, (\d+) RDATA", self.last_stats)
        if m and block:
            # Data datagrams' payload bytes, repairs included.
            self.last_sent = (int(m.group(1)) + int(m.group(2))) * block
        if check and ok:
            want = sha256(self.img)
            for i in range(n):
                o = os.path.join(self.tmp, "out%d.bin" % i)
                if sha256(o) != want:
                    log("    receiver %d: SHA-256 differs" % i)
                    ok = False
                os.unlink(o)
        if not ok:
            return None, None
        size = os.path.getsize(self.img)
        return size / t / 1e6, cpu / (size / GB)

    def bench_ours(self):
        log("  (check: one wdsget -o FILE, SHA-256 compared)")
        rate, _ = self.ours_once(1, check=True)
        self.res["ours_check_sha256"] = {"value": rate is not None, "unit": "", "runs": []}
        for n in (1, 8, 32):
            rates, cpus = [], []
            for _ in range(self.a.runs):
                r, c = self.ours_once(n)
                rates.append(r)
                cpus.append(c)
            self.put("ours_%d_lo" % n, rates, "MB/s")
            self.put("ours_%d_cpu_per_gb" % n, cpus, "s/GB", best=min)

    # -- what the server's CPU is made of ---------------------------------
    def raw_sender_cpu(self, n, gso=False):
        """rawmc send of the file to n rawmc receivers on loopback: the
        sender's CPU seconds (user+sys) per GB."""
        port = free_port()
        rs = [subprocess.Popen([self.rawmc, "recv", "239.255.77.2", str(port), "127.0.0.1",
                                "8192", "2000"] + (["gro"] if gso else []),
                               stdout=subprocess.PIPE, text=True)
              for _ in range(n)]
        self.procs.extend(rs)
        for r in rs:
            r.stdout.readline()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([self.rawmc, "send", "239.255.77.2", str(port), "127.0.0.1", "8192",
                        str(self.a.size)] + (["gso"] if gso else []), stderr=subprocess.DEVNULL,
                       check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        for r in rs:
            try:
                r.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                stop(r, signal.SIGKILL)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        return cpu / (self.a.size / GB)

    def server_instructions(self, n):
        """The server run under callgrind with n receivers on loopback, on
        --cg-size bytes of content: instructions per GB."""
        img = os.path.join(self.tmp, "cg", "image.bin")
        os.makedirs(os.path.dirname(img), exist_ok=True)
        if not os.path.exists(img):
            with open(self.img, "rb") as src, open(img, "wb") as dst:
                dst.write(src.read(self.a.cg_size))
        size = os.path.getsize(img)
        out = os.path.join(self.tmp, "cg", "callgrind.out")
        wrap = os.path.join(self.tmp, "cg", "serve")
        with open(wrap, "w") as f:
            f.write("#!/bin/sh\nexec valgrind -q --tool=callgrind --callgrind-out-file=%s %s \"$@\"\n"
                    % (out, self.serve))
        os.chmod(wrap, 0o755)
        serve, img0 = self.serve, self.img
        self.serve, self.img = wrap, img
        try:
            if os.path.exists(out):
                os.unlink(out)
            rate, _ = self.ours_once(n)
            for _ in range(50):  # callgrind writes its file at exit
                if os.path.exists(out) and os.path.getsize(out):
                    break
                time.sleep(0.1)
        finally:
            self.serve, self.img = serve, img0
        if rate is None or not os.path.exists(out):
            return None
        with open(out) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1]) / (size / GB)
        return None

    def bench_cpu(self):
        for n in (1, 32):
            for gso in (False, True):
                self.put("raw_%ssender_%d_cpu_per_gb" % ("gso_" if gso else "", n),
                         [self.raw_sender_cpu(n, gso) for _ in range(self.a.runs)], "s/GB",
                         best=min)
        if not shutil.which("valgrind"):
            return self.note("server_instr", "valgrind not installed")
        for n in (1, 32):
            v = self.server_instructions(n)
            self.put("server_%d_instr_per_gb" % n, [v / 1e9 if v else None], "G/GB", best=min,
                     note="callgrind Ir of the server process, startup included")

    # -- server CPU behind a switch ---------------------------------------
    SWITCH_NODES = [("s", "10.78.0.1")] + [("r%d" % i, "10.78.0.%d" % (10 + i))
                                           for i in range(1, 33)]

    def switch_cpu(self, ns, group, cpus=(None, None)):
        size = os.path.getsize(self.img)
        nodes = self.SWITCH_NODES
        for n in (1, len(nodes) - 1):
            cpu, per_sent = [], []
            for _ in range(self.a.runs):
                c = self.ours_once(n, nodes[0][1], ns[:1 + n], [a for _, a in nodes[1:1 + n]],
                                   cpus=cpus)[1]
                cpu.append(c)
                # The same CPU over what was sent, repairs included: the
                # bridge thread drops when the server outruns it, and the
                # repairs it causes are not a cost of the receiver count.
                per_sent.append(c * size / self.last_sent if c and self.last_sent else None)
                log("    %d receivers: server %s" % (n, self.last_stats))
            self.put("%s_%d_cpu_per_gb" % (group, n), cpu, "s/GB", best=min)
            self.put("%s_%d_cpu_per_gb_sent" % (group, n), per_sent, "s/GB", best=min)

    def switch_topology(self):
        return self.topology(self.SWITCH_NODES, "switch", switch_thread=True)

    def bench_switch(self):
        try:
            ns = self.switch_topology()
        except (subprocess.CalledProcessError, FileNotFoundError, OSError) as e:
            return self.note("switch", "no threaded NAPI switch: %s" % e)
        self.switch_cpu(ns, "switch")

    def bench_link(self):
        """The switch topology as two machines' worth of it: the server has
        CPU 0 to itself and its link runs at 1 Gbit/s (tbf on its eth0,
        with a NIC's queue behind it, so a full link holds the server back
        through its send buffer as a NIC's would); the receivers and the
        bridge thread share the other CPUs. On one shared machine the
        receivers' kernel work lands on whatever runs beside it, the
        server included; here it cannot."""
        n_cpu = len(os.sched_getaffinity(0))
        if n_cpu < 2:
            return self.note("link", "needs 2 CPUs, have %d" % n_cpu)
        try:
            ns = self.switch_topology()
            subprocess.run(["ip", "netns", "exec", ns[0], "tc", "qdisc", "replace", "dev", "eth0",
                            "root", "tbf", "rate", LINK_RATE, "burst", "256k", "limit", "16m"],
                           check=True)
        except (subprocess.CalledProcessError, FileNotFoundError, OSError) as e:
            return self.note("link", "no shaped switch: %s" % e)
        everyone = os.sched_getaffinity(0)
        server, rest = {min(everyone)}, everyone - {min(everyone)}
        bridge = napi_threads("v-" + self.SWITCH_NODES[0][0])
        try:
            for pid in bridge:
                os.sched_setaffinity(pid, rest)
            self.switch_cpu(ns, "link", (server, rest))
        finally:
            for pid in bridge:
                try:
                    os.sched_setaffinity(pid, everyone)
                except OSError:
                    pass
            subprocess.run(["ip", "netns", "exec", ns[0], "tc", "qdisc", "del", "dev", "eth0",
                            "root"], stderr=subprocess.DEVNULL)

    # -- reading through the mount ---------------------------------------
    def mount(self, port, opts, contents):
        mnt = tempfile.mkdtemp(prefix="mnt.", dir=self.tmp)
        cache = tempfile.mkdtemp(prefix="cache.", dir=self.tmp)
        o = "cache=%s,interface=127.0.0.1,%s" % (cache, opts) if opts else \
            "cache=%s,interface=127.0.0.1" % cache
        d = subprocess.Popen([self.wdsfs, "127.0.0.1:%d" % port, mnt, "-f", "--image",
                              "Images=" + ",".join(contents), "-o", o],
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.tmp, "wdsfs.log"), "a"))
        self.procs.append(d)
        for _ in range(200):
            with open("/proc/mounts") as f:
                if " %s fuse" % mnt in f.read():
                    self.mounts.append(mnt)
                    return d, mnt
            if d.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("wdsfs did not mount (see wdsfs.log)")

    def unmount(self, d, mnt):
        subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
        self.mounts.remove(mnt)
        stop(d)

    def read_rate(self, cmd, path):
        t0 = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return os.path.getsize(path) / (time.monotonic() - t0) / 1e6

    def bench_mount(self):
        if not os.access(self.wdsfs, os.X_OK):
            return self.note("mount_cat", "wdsfs not built")
        p, port = self.start_serve("127.0.0.1", [self.img])
        d, mnt = self.mount(port, "", ["image.bin"])
        img = os.path.join(mnt, "Images", "image.bin")
        try:
            # Receive it all (the first read) and check it.
            ok = sha256(img) == sha256(self.img)
            self.res["mount_sha256"] = {"value": ok, "unit": "", "runs": []}
            # Both reads are copies out of the page cache, and how fast such a
            # copy runs here depends on where its pages landed in physical
            # memory: with one placement the mount read 5.5 GB/s against the
            # local file's 3.5, minutes after a placement that gave 0.7x. So
            # each run drops the caches and warms both files again, then
            # reads them in turn: the best of the runs compares read paths,
            # not one draw of page placements. Each file is warmed twice: the
            # second read of a cached page moves it to the active LRU list,
            # once per folio, and FUSE's folios are single pages, so a read
            # right after one warm-up measured that move (0.16 s against
            # 0.13 for the next read of the same image).
            runs = {k: [] for k in ("mount_cat", "local_cat", "mount_dd", "local_dd")}
            for _ in range(self.a.runs):
                drop_caches()
                for path in (img, self.img, img, self.img):
                    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
                for tool, cmd in (("cat", lambda f: ["cat", f]),
                                  ("dd", lambda f: ["dd", "if=" + f, "of=/dev/null", "bs=1M"])):
                    runs["mount_" + tool].append(self.read_rate(cmd(img), img))
                    runs["local_" + tool].append(self.read_rate(cmd(self.img), self.img))
            for name, r in runs.items():
                self.put(name, r, "MB/s")
            # Why the two differ: the size of the folios each copy walks.
            for name, path in (("mount_folio_pages", img), ("local_folio_pages", self.img)):
                v = mean_folio_pages(path)
                self.res[name] = {"value": v, "unit": "pages", "runs": [v]}
                log("  %-28s %s" % (name, "n/a" if v is None else "%.1f pages" % v))
        finally:
            self.unmount(d, mnt)
            stop(p)

    def bench_stream(self):
        if not os.access(self.wdsfs, os.X_OK):
            return self.note("stream_rss_4g", "wdsfs not built")
        big = os.path.join(self.tmp, "big.bin")
        with open(big, "wb") as f:
            f.truncate(self.a.stream_size)
        runs = []
        for _ in range(self.a.runs):
            p, port = self.start_serve("127.0.0.1", [big])
            d, mnt = self.mount(port, "stream", ["big.bin"])
            try:
                img = os.path.join(mnt, "Images", "big.bin")
                r = subprocess.run(["dd", "if=" + img, "of=/dev/null", "bs=1M"],
                                   stderr=subprocess.PIPE, text=True)
                ok = r.returncode == 0 and "%d bytes" % self.a.stream_size in r.stderr
                runs.append(hwm_kib(d.pid) / 1024 if ok else None)
                if not ok:
                    log("    stream read failed: " + r.stderr.strip()[-200:])
            finally:
                self.unmount(d, mnt)
                stop(p)
        os.unlink(big)
        self.put("stream_rss_4g", runs, "MiB", best=max,
                 note="peak RSS (VmHWM) of wdsfs -o stream (default 32M window), "
                      "dd bs=1M of a %d MiB image; worst of the runs" % (self.a.stream_size >> 20))

    # -- network namespaces ----------------------------------------------
    def topology(self, nodes, name="veth", switch_thread=False):
        """The namespaces of one topology, built once per run (veth and loss
        share theirs). With switch_thread, the bridge's work on what the
        first node sends runs in a kernel thread (threaded NAPI on its
        port), as a switch's would, instead of inside that node's sendmsg."""
        if name in self.topos:
            return self.topos[name]
        fx = "wb%d%s" % (os.getpid(), name[0])
        hub = fx + "-hub"
        sh = lambda *c: subprocess.run(c, check=True)
        sh("ip", "netns", "add", hub)
        self.netns.append(hub)
        sh("ip", "-n", hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", hub, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
        sh("ip", "-n", hub, "link", "set", "br0", "up")
        names = []
        for n, addr in nodes:
            ns = "%s-%s" % (fx, n)
            sh("ip", "netns", "add", ns)
            self.netns.append(ns)
            sh("ip", "-n", hub, "link", "add", "v-" + n, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            sh("ip", "-n", hub, "link", "set", "v-" + n, "mtu", "9000")
            sh("ip", "-n", ns, "link", "set", "eth0", "mtu", "9000")
            sh("ip", "-n", hub, "link", "set", "v-" + n, "master", "br0", "up")
            # The server's UDP GSO batches are cut into datagrams at the
            # node's link, as by a NIC without USO: a veth would carry them
            # whole, and the loss rule would drop 64 KiB at a time.
            sh("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx-udp-segmentation", "off")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
            names.append(ns)
        if switch_thread:
            # veth hands a packet to its peer's NAPI only with GRO on and,
            # for UDP, UDP GRO forwarding; threaded NAPI then polls it from
            # a kthread (napi/v-s-*), where the bridge floods it.
            port = "v-" + nodes[0][0]
            sh("ip", "netns", "exec", hub, "ethtool", "-K", port, "gro", "on",
               "rx-udp-gro-forwarding", "on")
            sh("ip", "netns", "exec", hub, "sh", "-c",
               "echo 1 > /sys/class/net/%s/threaded" % port)
        self.topos[name] = names
        return names

    def loss(self, ns, pct):
        rules = ("table netdev loss {\n chain in {\n  type filter hook ingress device eth0 "
                 "priority 0;\n  meta l4proto udp numgen random mod 100 < %d counter drop\n }\n}\n"
                 % pct)
        subprocess.run(["nsenter", "--net=/run/netns/" + ns, "nft", "-f", "-"], input=rules,
                       text=True, check=True)

    def noloss(self, ns):
        subprocess.run(["nsenter", "--net=/run/netns/" + ns, "nft", "delete", "table", "netdev",
                        "loss"], stderr=subprocess.DEVNULL)

    def uftp_once(self, s_ns, r_ns, s_addr, r_addr):
        dest = tempfile.mkdtemp(prefix="uftp.", dir=self.tmp)
        port = str(free_port())
        pub = "239.255.78.%d" % random.randrange(1, 100)
        d = subprocess.Popen(["nsenter", "--net=/run/netns/" + r_ns, "uftpd", "-d", "-I", r_addr,
                              "-D", dest, "-p", port, "-M", pub],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(d)
        time.sleep(0.5)
        t0 = time.monotonic()
        r = subprocess.run(["nsenter", "--net=/run/netns/" + s_ns, "uftp", "-I", s_addr, "-p",
                            port, "-M", pub, "-P", "239.255.79.%d" % random.randrange(1, 100),
                            "-R", "-1", "-b", "8192", "-t", "1", "image.bin"], cwd=self.tmp,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        t = time.monotonic() - t0
        stop(d)
        got = os.path.join(dest, "image.bin")
        ok = r.returncode == 0 and os.path.exists(got) and \
            os.path.getsize(got) == os.path.getsize(self.img)
        shutil.rmtree(dest, ignore_errors=True)
        return os.path.getsize(self.img) / t / 1e6 if ok else None

    def bench_veth(self):
        nodes = [("s", "10.77.0.1"), ("r1", "10.77.0.11"), ("r2", "10.77.0.12")]
        try:
            ns = self.topology(nodes)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            return self.note("veth", "no network namespaces: %s" % e)
        s, r1 = ns[0], ns[1]
        runs = [self.ours_once(1, "10.77.0.1", [s, r1], ["10.77.0.11"])[0]
                for _ in range(self.a.runs)]
        self.put("ours_1_veth", runs, "MB/s")
        if shutil.which("udp-sender"):
            self.put("udpcast_veth", [self.udpcast_once(self.img, s, r1, "eth0", "eth0")
                                      for _ in range(self.a.runs)], "MB/s")
        if shutil.which("uftp") and shutil.which("uftpd"):
            self.put("uftp_veth", [self.uftp_once(s, r1, "10.77.0.1", "10.77.0.11")
                                   for _ in range(self.a.runs)], "MB/s",
                     note="-R -1 (no rate limit), -b 8192, no encryption")
        else:
            self.note("uftp_veth", "uftp not installed")

    def bench_loss(self):
        nodes = [("s", "10.77.0.1"), ("r1", "10.77.0.11"), ("r2", "10.77.0.12")]
        try:
            s, r1, r2 = self.topology(nodes)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            return self.note("loss", "no network namespaces: %s" % e)
        # Two receivers (r1 and r2); r1's link lossy or not. The rate is the
        # session's: both receivers done. r1's first NACK makes it the Master
        # Client, whose ACKs clock the session (MS-WDSMT 3.1.5.9.6.1: any
        # loss at all makes a client slower than a lossless master).
        lossless, lossy = [], []
        for _ in range(self.a.runs):
            lossless.append(self.ours_once(2, "10.77.0.1", [s, r1, r2],
                                           ["10.77.0.11", "10.77.0.12"])[0])
            log("    lossless: %s MB/s; server %s" % (fmt(lossless[-1]), self.last_stats))
            self.loss(r1, 5)
            lossy.append(self.ours_once(2, "10.77.0.1", [s, r1, r2],
                                        ["10.77.0.11", "10.77.0.12"])[0])
            self.noloss(r1)
            log("    5%% loss: %s MB/s; server %s" % (fmt(lossy[-1]), self.last_stats))
        self.put("veth_2rcv_lossless", lossless, "MB/s")
        self.put("veth_2rcv_loss5", lossy, "MB/s",
                 note="5% of UDP datagrams dropped at r1's ingress (nftables numgen)")

    # -- report -----------------------------------------------------------
    def v(self, name):
        r = self.res.get(name)
        return r["value"] if r else None

    def table(self):
        rows = []

        def row(label, fig, unit, base_label, base, target=None, lower_better=False):
            ratio = (fig / base) if fig is not None and base else None
            meets = ""
            if target is not None and ratio is not None:
                meets = "meets" if (ratio <= target if lower_better else ratio >= target) \
                    else "BELOW"
                meets += " (%s %s)" % ("<=" if lower_better else ">=", target)
            rows.append((label, fmt(fig, unit) + " " + unit, base_label,
                         fmt(base, unit) + " " + unit if base is not None else "",
                         "%.2f" % ratio if ratio is not None else "", meets))

        raw8, raw14 = self.v("raw_8192"), self.v("raw_1400")
        udp = self.v("udpcast_lo")
        o1, o8, o32 = self.v("ours_1_lo"), self.v("ours_8_lo"), self.v("ours_32_lo")
        row("raw multicast, 8 KiB datagrams", raw8, "MB/s", "", None)
        row("raw multicast, 1400 B datagrams", raw14, "MB/s", "raw 8 KiB", raw8)
        rawg8 = self.v("raw_gso_8192")
        row("raw multicast, 8 KiB, GSO+GRO", rawg8, "MB/s", "raw 8 KiB", raw8)
        row("raw multicast, 1400 B, GSO+GRO", self.v("raw_gso_1400"), "MB/s", "raw 1400 B", raw14)
        row("udpcast, lo", udp, "MB/s", "raw 8 KiB", raw8)
        row("ours, 1 receiver, lo", o1, "MB/s", "raw 8 KiB", raw8, TARGETS["ours_1_vs_raw"])
        row("ours, 1 receiver, lo", o1, "MB/s", "raw 8 KiB, GSO+GRO", rawg8)
        row("ours, 1 receiver, lo", o1, "MB/s", "udpcast, lo", udp, TARGETS["ours_1_vs_udpcast"])
        row("ours, 8 receivers, lo (each)", o8, "MB/s", "ours, 1", o1)
        row("ours, 32 receivers, lo (each)", o32, "MB/s", "ours, 1", o1)
        c1 = self.v("ours_1_cpu_per_gb")
        row("server CPU/GB, 8 receivers", self.v("ours_8_cpu_per_gb"), "s/GB", "1 receiver", c1)
        row("server CPU/GB, 32 receivers", self.v("ours_32_cpu_per_gb"), "s/GB", "1 receiver",
            c1, TARGETS["cpu_32_vs_1"], lower_better=True)
        row("server CPU/GB, 32 rcv, switch", self.v("switch_32_cpu_per_gb"), "s/GB",
            "1 receiver, switch", self.v("switch_1_cpu_per_gb"), TARGETS["cpu_32_vs_1"],
            lower_better=True)
        row("same, per GB sent (repairs too)", self.v("switch_32_cpu_per_gb_sent"), "s/GB",
            "1 receiver, switch", self.v("switch_1_cpu_per_gb_sent"))
        row("server CPU/GB, 32 rcv, 1 Gbit/s link", self.v("link_32_cpu_per_gb"), "s/GB",
            "1 receiver, link", self.v("link_1_cpu_per_gb"), TARGETS["cpu_32_vs_1"],
            lower_better=True)
        row("same, per GB sent (repairs too)", self.v("link_32_cpu_per_gb_sent"), "s/GB",
            "1 receiver, link", self.v("link_1_cpu_per_gb_sent"))
        row("raw sender CPU/GB, 32 receivers", self.v("raw_sender_32_cpu_per_gb"), "s/GB",
            "1 receiver", self.v("raw_sender_1_cpu_per_gb"))
        row("server CPU/GB, 32 receivers", self.v("ours_32_cpu_per_gb"), "s/GB",
            "raw sender, 32", self.v("raw_sender_32_cpu_per_gb"))
        row("raw GSO sender CPU/GB, 32 rcv", self.v("raw_gso_sender_32_cpu_per_gb"), "s/GB",
            "1 receiver", self.v("raw_gso_sender_1_cpu_per_gb"))
        row("server CPU/GB, 32 receivers", self.v("ours_32_cpu_per_gb"), "s/GB",
            "raw GSO sender, 32", self.v("raw_gso_sender_32_cpu_per_gb"))
        # Instructions stand in for the server's own CPU (no target: the
        # target is the CPU row above).
        row("server instructions/GB, 32 rcv", self.v("server_32_instr_per_gb"), "G/GB",
            "1 receiver", self.v("server_1_instr_per_gb"))
        for tool in ("cat", "dd"):
            row("read via mount, %s" % tool, self.v("mount_" + tool), "MB/s",
                "local file, " + tool, self.v("local_" + tool), TARGETS["mount_vs_local"])
        row("page-cache folio, mount", self.v("mount_folio_pages"), "pages", "local file",
            self.v("local_folio_pages"))
        rss = self.res.get("stream_rss_4g", {})
        if rss.get("value") is None and rss.get("note"):
            rows.append(("-o stream peak RSS, 4 GiB", "n/a: " + rss["note"], "", "", "", ""))
        else:
            row("-o stream peak RSS, 4 GiB", rss.get("value"), "MiB", "limit",
                float(TARGETS["stream_rss_mib"]), 1.0, lower_better=True)
        ov, uv, fv = self.v("ours_1_veth"), self.v("udpcast_veth"), self.v("uftp_veth")
        row("ours, 1 receiver, veth", ov, "MB/s", "udpcast, veth", uv)
        row("ours, 1 receiver, veth", ov, "MB/s", "uftp, veth", fv)
        row("5% loss on 1 of 2 links, veth", self.v("veth_2rcv_loss5"), "MB/s", "lossless",
            self.v("veth_2rcv_lossless"), TARGETS["loss_vs_lossless"])
        head = ("figure", "value", "baseline", "baseline value", "ratio", "target")
        w = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
        lines = ["| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"
                 for r in [head] + rows]
        lines.insert(1, "|" + "|".join("-" * (x + 2) for x in w) + "|")
        return "\n".join(lines), rows


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if unit == "MB/s":
        return "%.0f" % v
    return "%.2f" % v if unit == "s/GB" else "%.3f" % v if unit == "G/GB" else "%.1f" % v


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return {"nproc": os.cpu_count(), "kernel": platform.release(), "cpu": cpu,
            "mem_mib": mem, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory")
    ap.add_argument("--size", type=parse_size, default=1 << 30, help="file size (1G)")
    ap.add_argument("--stream-size", type=parse_size, default=4 << 30,
                    help="image size of the stream RSS figure (4G)")
    ap.add_argument("--cg-size", type=parse_size, default=128 << 20,
                    help="content size of the callgrind runs (128M)")
    ap.add_argument("--runs", type=int, default=3, help="runs per figure; the best counts")
    ap.add_argument("--json", default="bench.json", help="where to write the results")
    ap.add_argument("--only", type=lambda s: s.split(","), default=[])
    ap.add_argument("--skip", type=lambda s: s.split(","), default=[])
    a = ap.parse_args()
    if os.geteuid() != 0:
        log("bench: needs root (network namespaces, FUSE, nftables)")
        return 1
    b = Bench(a)
    for exe in (b.serve, b.wdsget, b.rawmc):
        if not os.access(exe, os.X_OK):
            log("bench: %s missing; build first (ninja -C %s)" % (exe, a.build))
            return 1
    m = machine()
    log("machine: %(cpu)s, %(nproc)s cores, %(mem_mib)s MiB, Linux %(kernel)s" % m)
    try:
        with open(b.img, "wb") as f:
            left = a.size
            while left:
                n = min(left, 1 << 24)
                f.write(os.urandom(n))
                left -= n
        for group, fn in (("raw", b.bench_raw), ("udpcast", b.bench_udpcast),
                          ("ours", b.bench_ours), ("cpu", b.bench_cpu),
                          ("mount", b.bench_mount),
                          ("stream", b.bench_stream), ("switch", b.bench_switch),
                          ("link", b.bench_link),
                          ("veth", b.bench_veth),
                          ("loss", b.bench_loss)):
            if b.want(group):
                log("== %s" % group)
                try:
                    fn()
                except Exception as e:  # one broken group must not lose the others
                    log("  %s failed: %r" % (group, e))
                    b.res[group + "_error"] = {"value": None, "unit": "", "runs": [],
                                               "note": repr(e)}
    finally:
        b.cleanup()
    text, rows = b.table()
    print("machine: %(cpu)s, %(nproc)s cores, %(mem_mib)s MiB RAM, Linux %(kernel)s, %(date)s"
          % m)
    print("file: %d MiB of random bytes; each figure the best of %d runs" % (a.size >> 20, a.runs))
    print(text)
    with open(a.json, "w") as f:
        json.dump({"machine": m, "size": a.size, "runs": a.runs, "figures": b.res,
                   "targets": TARGETS,
                   "table": [dict(zip(("figure", "value", "baseline", "baseline_value", "ratio",
                                       "target"), r)) for r in rows]}, f, indent=2)
    print("(JSON: %s)" % a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
