"""A test's client under `lastack exec --control`: it switches a drop of the server's data on and
off through `lastack ctl`, and reads every byte once the drop is off.

The server (a `lastack agent`) sends 20000 bytes once it has read "go"; the drop goes on before
"go" is sent, so every data segment the server sends while it is on is lost, and its kernel
retransmits (RTO at least 200 ms: twice or more in 1.2 s). Exit 0 when all 20000 bytes arrive.
"""
import os
import socket
import sys
import time

from lastack_ctl import ctl


sock = socket.create_connection((os.environ["LASTACK_SERVER_ADDR"], int(os.environ["LASTACK_SERVER_PORT"])))
fault = ctl("fault", "add", "segment=data", "from=server", "action=drop").split()[1]  # "fault 1 added: ..."
sock.sendall(b"go")
time.sleep(1.2)
ctl("mark", "the drop was on for 1.2 s")
ctl("fault", "remove", fault)
received = 0
while chunk := sock.recv(65536):
    received += len(chunk)
print("received", received, flush=True)
sys.exit(0 if received == 20000 else 1)
