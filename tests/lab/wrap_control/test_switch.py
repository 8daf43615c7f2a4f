"""A pytest suite that switches faults from the test itself, under `lastack wrap --control`.

Its server and client share 127.0.0.1 (wrap's one namespace). The test turns a drop of the
server's data on with `lastack ctl fault add`, asks the run's status, marks the trace, turns the
drop off, and checks that every byte still arrives and that its own kernel (TCP_INFO) saw none of
its segments lost (the server's were). `lastack` is $LASTACK; the socket is $LASTACK_CONTROL.
"""
import os
import socket
import subprocess
import threading
import time

LASTACK = os.environ.get("LASTACK", "lastack")
PORT = 8767
SIZE = 20000


def ctl(*words):
    return subprocess.run([LASTACK, "ctl", *words], capture_output=True, text=True)


def serve_one(listener):
    conn, _ = listener.accept()
    with conn:
        assert conn.recv(2) == b"go"
        conn.sendall(b"x" * SIZE)


def test_drop_switched_on_and_off_from_the_test():
    listener = socket.create_server(("127.0.0.1", PORT))
    server = threading.Thread(target=serve_one, args=(listener,), daemon=True)
    server.start()
    sock = socket.create_connection(("127.0.0.1", PORT))
    added = ctl("fault", "add", "segment=data", "from=server", "action=drop")
    assert added.returncode == 0, added.stderr
    fault = added.stdout.split()[1]
    sock.sendall(b"go")
    time.sleep(1.2)
    status = ctl("status")
    assert status.returncode == 0 and f"fault {fault}: drop" in status.stdout, status.stdout
    assert ctl("mark", "turning the drop off").returncode == 0
    assert ctl("fault", "remove", fault).returncode == 0
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    assert len(received) == SIZE
    server.join(timeout=10)
    listener.close()


def test_ctl_exit_codes():
    refused = ctl("fault", "remove", "99")
    assert refused.returncode == 1 and "there is no fault 99" in refused.stderr
    bad = ctl("fault", "add", "segment=data", "action=explode")
    assert bad.returncode == 1 and 'unknown action "explode"' in bad.stderr
    assert ctl("fault", "add").returncode == 2
    env = dict(os.environ)
    del env["LASTACK_CONTROL"]
    gone = subprocess.run([LASTACK, "ctl", "status"], capture_output=True, text=True, env=env)
    assert gone.returncode == 3 and "LASTACK_CONTROL is not set" in gone.stderr
