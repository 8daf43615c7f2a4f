"""A small integration suite as any project writes one: its own server and client on 127.0.0.1.

Nothing here knows about lastack. `lastack wrap --policy drop-syn --port 8765 -- python3 -m pytest`
runs it unchanged; the fault a run expects is told through the environment (LOST_SYNS: how many
SYNs of each connection the network loses), and the client asks its own kernel (TCP_INFO) how
often it sent its SYN again.
"""
import os
import socket
import struct
import threading
import time

PORT = int(os.environ.get("WRAP_TEST_PORT", "8765"))
LOST_SYNS = int(os.environ.get("LOST_SYNS", "0"))
# struct tcp_info (linux/tcp.h): 8 bytes of u8 fields, then u32s; tcpi_total_retrans is the 24th.
TCP_INFO_TOTAL_RETRANS = 8 + 23 * 4


def total_retransmissions(sock):
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("I", info, TCP_INFO_TOTAL_RETRANS)[0]


class EchoServer:
    """Serves one connection: answers what it received, upper-cased, once the client is done."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", PORT))
        self.listener.listen()
        self.thread = threading.Thread(target=self.serve_one, daemon=True)
        self.thread.start()

    def serve_one(self):
        with self.listener:
            conn, _ = self.listener.accept()
        with conn:
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
            conn.sendall(data.upper())

    def join(self):
        self.thread.join(timeout=10)


def exchange(payload):
    """Connect, send, half-close, read the answer; returns (answer, SYN retransmissions, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as client:
        connected = time.monotonic() - started
        retransmitted = total_retransmissions(client)  # nothing else sent yet: the SYN's
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    return answer, retransmitted, connected


def test_connect_is_retried_as_often_as_the_network_loses_the_syn():
    server = EchoServer()
    answer, retransmitted, connected = exchange(b"hello")
    server.join()
    assert answer == b"HELLO"
    assert retransmitted == LOST_SYNS
    if LOST_SYNS:
        assert connected >= 0.9  # the initial RTO is 1 s: the retry waited for it


def test_a_second_connection_gets_its_answer_too():
    server = EchoServer()
    answer, retransmitted, _ = exchange(b"x" * 5000)
    server.join()
    assert answer == b"X" * 5000
    assert retransmitted == LOST_SYNS
