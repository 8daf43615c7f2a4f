"""A test's client under `lastack exec --control`: it times one round trip on a plain wire, sets
the link to 100 ms of latency each way through `lastack ctl link set`, and times another.

The server (a `lastack agent`) answers each byte with one of its own. Prints both round trips in ms; exit 0
when the second is at least 200 ms (the latency both ways) and the first well under it.
"""
import os
import socket
import sys
import time

from lastack_ctl import ctl


def round_trip(sock):
    start = time.monotonic()
    sock.sendall(b"x")
    if not sock.recv(1):
        sys.exit(2)
    return (time.monotonic() - start) * 1000


sock = socket.create_connection((os.environ["LASTACK_SERVER_ADDR"], int(os.environ["LASTACK_SERVER_PORT"])))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
before = round_trip(sock)
ctl("link", "set", "latency=100ms")
after = round_trip(sock)
print(f"round trips {before:.1f} ms then {after:.1f} ms", flush=True)
sock.close()
sys.exit(0 if after >= 200 and before < 100 else 1)
