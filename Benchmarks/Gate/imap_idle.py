#!/usr/bin/env python3
"""Idle IMAP clients for Benchmarks/Gate/run.sh.

Opens COUNT connections to HOST:PORT (at most PARALLEL being set up at once); on each: the
greeting, LOGIN, SELECT INBOX, IDLE up to the server's "+" continuation. Then holds them all
idle: writes "ready <idle> <failed> <seconds>" to STATUS and waits until the file RELEASE
exists (or HOLD seconds pass). Then ends IDLE on every connection (DONE, the tagged OK), logs
out, and writes "done <idle> <failed> <ended> <seconds>" to STATUS. Every wait is bounded.

  imap_idle.py HOST PORT COUNT STATUS RELEASE [--parallel 100] [--hold 900] [--timeout 60]
"""
import argparse
import asyncio
import collections
import os
import sys
import time


async def until(reader, prefix, timeout):
    """Lines up to the first that starts with prefix; that line."""
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ConnectionError("connection closed")
        if line.startswith(prefix):
            return line


async def open_idle(host, port, timeout):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        greeting = await asyncio.wait_for(reader.readline(), timeout)
        if not greeting.startswith(b"* OK"):
            raise ConnectionError(f"greeting {greeting[:60]!r}")
        for tag, command in ((b"a1", b"LOGIN bob secret"), (b"a2", b"SELECT INBOX")):
            writer.write(tag + b" " + command + b"\r\n")
            reply = await until(reader, tag + b" ", timeout)
            if not reply.startswith(tag + b" OK"):
                raise ConnectionError(f"{command.split()[0].decode()}: {reply[:80]!r}")
        writer.write(b"a3 IDLE\r\n")
        reply = await until(reader, b"+", timeout)
        return reader, writer
    except BaseException:
        writer.close()
        raise


async def end_idle(reader, writer, timeout):
    try:
        writer.write(b"DONE\r\n")
        reply = await until(reader, b"a3 ", timeout)
        if not reply.startswith(b"a3 OK"):
            return False
        writer.write(b"a4 LOGOUT\r\n")
        reply = await until(reader, b"a4 ", timeout)
        return reply.startswith(b"a4 OK")
    finally:
        writer.close()


def status(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(path + ".tmp", path)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("status")
    p.add_argument("release")
    p.add_argument("--parallel", type=int, default=100)
    p.add_argument("--hold", type=float, default=900)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()

    start = time.monotonic()
    gate = asyncio.Semaphore(a.parallel)
    errors = collections.Counter()

    async def one():
        async with gate:
            try:
                return await open_idle(a.host, a.port, a.timeout)
            except Exception as e:  # counted, not raised: the others go on
                errors[f"{type(e).__name__}: {e}"] += 1
                return None

    opened = [c for c in await asyncio.gather(*(one() for _ in range(a.count))) if c]
    elapsed = time.monotonic() - start
    failed = a.count - len(opened)
    for text, n in errors.most_common(5):
        print(f"  {n} x {text}", file=sys.stderr)
    status(a.status, f"ready {len(opened)} {failed} {elapsed:.1f}")

    deadline = time.monotonic() + a.hold
    while not os.path.exists(a.release) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    # Still open? A connection the server or the Gate closed meanwhile reads EOF here.
    start = time.monotonic()
    gate = asyncio.Semaphore(a.parallel)

    async def end(c):
        async with gate:
            try:
                return await end_idle(*c, a.timeout)
            except Exception:
                return False

    ended = sum(await asyncio.gather(*(end(c) for c in opened)))
    status(a.status, f"done {len(opened)} {failed} {ended} {time.monotonic() - start:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
