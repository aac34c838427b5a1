#!/usr/bin/python3
"""bench/buildtime/run's scratch cache lock: a second run waits for the first, says so, and only then
touches the cache.

    cache_lock_test.py PATH/TO/bench/buildtime/run

The test holds the lock itself, exactly as a running benchmark does (flock on <cache>/bench.lock, the
holder's pid written into it), and starts `run --setup-only` on the same cache. The run must
  1. print one line saying it waits, naming the cache and the holder,
  2. leave the scratch tree alone while it waits (a marker file in it survives),
  3. proceed once the lock is released: copy the tree afresh (the marker is gone) and exit 0.
The cache is the one the benchmark uses ($DYNPERIPH_BENCH_CACHE or ~/.cache/dynperiph-bench), prepared
by bench.buildtime.quick, so step 3 is one tree copy and no QEMU build.

SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""
import fcntl
import os
import selectors
import subprocess
import sys
import time


def fail(msg):
    print("cache_lock_test: FAIL: " + msg)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        fail("usage: cache_lock_test.py PATH/TO/bench/buildtime/run")
    run = sys.argv[1]
    cache = os.environ.get("DYNPERIPH_BENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "dynperiph-bench")
    os.makedirs(os.path.join(cache, "tree"), exist_ok=True)
    marker = os.path.join(cache, "tree", ".cache-lock-test-marker")

    lock = os.open(os.path.join(cache, "bench.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    t_wait = time.monotonic()
    fcntl.flock(lock, fcntl.LOCK_EX)  # waits here if a real benchmark run holds the cache
    if time.monotonic() - t_wait > 1:
        print("cache_lock_test: waited %.0f s for another benchmark run" % (time.monotonic() - t_wait))
    holder = "pid %d, cache_lock_test" % os.getpid()
    os.ftruncate(lock, 0)
    os.pwrite(lock, (holder + "\n").encode(), 0)
    with open(marker, "w") as f:
        f.write("the run must not touch the tree while it waits\n")

    p = subprocess.Popen([run, "--setup-only", "--cache", cache], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    out = b""
    try:
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while b"waiting" not in out:
            if time.monotonic() > deadline:
                fail("no 'waiting' line within 60 s; output so far:\n" + out.decode(errors="replace"))
            if sel.select(timeout=1):
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    fail("the run ended without waiting (status %s):\n%s" % (p.wait(), out.decode(errors="replace")))
                out += chunk
        line = next(ln for ln in out.decode(errors="replace").splitlines() if "waiting" in ln)
        print("cache_lock_test: the run said: " + line)
        if cache not in line or holder not in line:
            fail("the waiting line does not name the cache %s and the holder '%s'" % (cache, holder))
        time.sleep(2)
        if p.poll() is not None:
            fail("the run ended while the lock was held (status %d)" % p.returncode)
        if not os.path.exists(marker):
            fail("the run touched the scratch tree while another run held the lock")
        if b"scratch copy" in out:
            fail("the run started copying while another run held the lock")
    except BaseException:
        p.kill()
        p.wait()
        raise
    finally:
        os.close(lock)  # release: the run may go on
    rest, _ = p.communicate(timeout=840)
    out += rest
    text = out.decode(errors="replace")
    if p.returncode != 0:
        fail("the run failed after the lock was released (status %d):\n%s" % (p.returncode, text[-3000:]))
    if "got the scratch cache lock" not in text:
        fail("the run did not report getting the lock:\n" + text[-3000:])
    if os.path.exists(marker):
        fail("the run did not prepare the scratch tree after getting the lock")
    print("cache_lock_test: ok (waited while held, proceeded after release)")


if __name__ == "__main__":
    main()
