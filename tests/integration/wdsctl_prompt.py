#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wdsctl useradd's password prompt on a terminal (a pseudo-terminal here):
echo is off while the password is typed and back on afterwards, whichever
way the prompt ends: a good password, two that differ, Ctrl-C (SIGINT) or
SIGTERM at either prompt; a SIGINT its starter ignored stays ignored. A password as long as NTLM allows (256
characters, 768 bytes of UTF-8) can be retyped. Nothing is written unless
the passwords match.

    wdsctl_prompt.py   (WDSCTL: path of wdsctl)
"""
import os
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time

WDSCTL = os.environ["WDSCTL"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read_until(fd, want, timeout=10):
    """What the terminal shows, up to and including `want`."""
    got = b""
    end = time.monotonic() + timeout
    while want not in got:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            fail("no %r on the terminal; it showed %r" % (want, got))
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            fail("terminal closed before %r; it showed %r" % (want, got))
        got += chunk
    return got


def session(users, typed, signal_at=None, ignore_int=False):
    """Run wdsctl useradd on a new pty: answer the prompts with `typed`
    (one entry per prompt) or, at prompt number `signal_at`, send a signal
    instead. Returns (exit status, what the terminal showed, whether ECHO
    was on afterwards)."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] |= termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    def child_setup():
        __import__("fcntl").ioctl(0, termios.TIOCSCTTY, 0)
        if ignore_int:  # as under nohup or in a background job
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    p = subprocess.Popen([WDSCTL, "useradd", "alice", "--users", users], stdin=slave,
                         stdout=slave, stderr=slave, start_new_session=True,
                         preexec_fn=child_setup)
    shown = b""
    prompts = [b"Password for alice: ", b"Retype the password: "]
    for i, answer in enumerate(typed + [None]):
        if i >= len(prompts):
            break
        if signal_at is not None and i == signal_at[0]:
            shown += read_until(master, prompts[i])
            if signal_at[1] == signal.SIGINT:
                os.write(master, b"\x03")  # the terminal sends SIGINT
            else:
                p.send_signal(signal_at[1])
            break
        if answer is None:
            break
        shown += read_until(master, prompts[i])
        if ignore_int:
            os.write(master, b"\x03")  # ignored: the prompt goes on
        os.write(master, answer + b"\n")
    st = p.wait(timeout=10)
    # Drain what is left, then look at the terminal's settings.
    while select.select([master], [], [], 0.2)[0]:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        shown += data
    echo = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
    os.close(master)
    os.close(slave)
    return st, shown, echo


def main():
    try:
        os.close(os.openpty()[0])
    except OSError as e:
        print("SKIP: no pseudo-terminal here (%s)" % e)
        sys.exit(77)
    d = tempfile.mkdtemp()
    users = os.path.join(d, "users")

    for at in (0, 1):
        for sig in (signal.SIGINT, signal.SIGTERM):
            st, shown, echo = session(users, [b"first pass"], (at, sig))
            if st != -sig:
                fail("signal %d at prompt %d: exit %s, terminal %r" % (sig, at, st, shown))
            if not echo:
                fail("signal %d at prompt %d left echo off" % (sig, at))
            if os.path.exists(users):
                fail("an interrupted useradd wrote the users file")

    # SIGINT ignored by whoever started it: ^C at the prompt changes nothing.
    st, shown, echo = session(users, [b"first pass", b"first pass"], ignore_int=True)
    if st != 0 or not echo:
        fail("with SIGINT ignored, ^C at the prompt: exit %s, echo %s, terminal %r"
             % (st, echo, shown))
    os.unlink(users)

    st, shown, echo = session(users, [b"one", b"two"])
    if st != 1 or b"the passwords differ" not in shown or not echo:
        fail("passwords that differ: exit %s, echo %s, terminal %r" % (st, echo, shown))
    if os.path.exists(users):
        fail("passwords that differ wrote the users file")

    # 256 three-byte characters: NTLM's limit, retyped.
    long_pw = ("\u20ac" * 256).encode()
    st, shown, echo = session(users, [long_pw, long_pw])
    if st != 0 or not echo:
        fail("a 768-byte password: exit %s, echo %s, terminal %r" % (st, echo, shown[-200:]))
    if long_pw in shown:
        fail("the password was echoed")
    with open(users) as f:
        if not any(line.startswith("alice:") for line in f):
            fail("users file has no alice")
    print("ok: echo restored after SIGINT/SIGTERM at both prompts and after a mismatch; "
          "an ignored SIGINT stays ignored; 768-byte password retyped")


if __name__ == "__main__":
    main()
