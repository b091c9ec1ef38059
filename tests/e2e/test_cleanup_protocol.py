"""The cleanup protocol, spoken directly to a running instance's
public/cleanup socket (queue.md sections 1, 2, 4 and 10; cleanup_user.h).

This file doubles as the protocol's description for client writers.

Conversation on one connection, one message per connection:

    cleanup -> client   attributes: queue_id=QID
    client  -> cleanup  records: FLGS, TIME, [ATTR...], FROM, RCPT...,
                        MESG, NORM/CONT..., XTRA, [extracted...], END
    cleanup -> client   attributes: status=N, reason=TEXT
    cleanup closes the connection.

Attributes (attr.h): each is NAME NUL VALUE NUL; one extra NUL ends the
message. Integers travel as decimal text.

Records (record.h): one type byte, the data length as base-128 digits
(7 bits each, least significant first, high bit set on all but the last,
at most 5), then the data. Types used here: f FLGS (decimal
CLEANUP_FLAG_* bits), T TIME ("SECONDS MICROSECONDS"), A ATTR
("name=value"), S FROM, R RCPT, M MESG, N NORM (one line, no line end),
X XTRA, E END.

status is 0 for success, else CLEANUP_STAT_* bits (1 BAD protocol error,
2 WRITE, 4 SIZE, 8 CONT, 16 HOPS, 32 RCPT, 64 DEFER, 128 PROXY); reason is
empty on success and "D.D.D text" otherwise. status=0 arrives only after
the queue file and its directory entry are on stable storage; the file
is then mode 0700 (complete). A client that disconnects before END
leaves nothing queued. The queue file starts with the fixed-width SIZE
record "C" (79 bytes: message size, MESG offset, recipient count, 0, XTRA
offset, each %15d).
"""

import os
import socket
import stat
import time

import pytest

import postern

FLAG_HOLD = 1 << 2
STAT_BAD = 1 << 0
SIZE_LEN = 79


record = postern.encode_record


def message_records(sender="sender@example.com", rcpts=("user@mail.example.com",),
                    lines=("Subject: protocol test", "", "body line"), flags=0):
    """A complete message as a client sends it."""
    now = time.time()
    out = [record("f", str(flags)),
           record("T", f"{int(now)} {int((now % 1) * 1e6)}"),
           record("A", "rewrite_context=local"),
           record("S", sender)]
    out += [record("R", r) for r in rcpts]
    out.append(record("M"))
    out += [record("N", line) for line in lines]
    out += [record("X"), record("E")]
    return b"".join(out)


def read_attrs(sock):
    """One attribute message as a dict (raises on EOF before its end)."""
    fields, cur = [], bytearray()
    while True:
        ch = sock.recv(1)
        if not ch:
            raise EOFError("connection closed inside an attribute message")
        if ch != b"\0":
            cur += ch
            continue
        if not cur and len(fields) % 2 == 0:
            return dict(zip(fields[0::2], fields[1::2]))
        fields.append(cur.decode())
        cur = bytearray()


def decode_records(data):
    """[(offset, type, bytes)] of a queue file."""
    return postern.decode_records(data, offsets=True)


class Client:
    """One connection to public/cleanup."""

    def __init__(self, inst):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(os.path.join(inst.queue_dir, "public", "cleanup"))
        self.queue_id = read_attrs(self.sock)["queue_id"]

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """status and reason, then the server closes the connection."""
        attrs = read_attrs(self.sock)
        assert self.sock.recv(1) == b""
        self.sock.close()
        return int(attrs["status"]), attrs["reason"]


def queue_file(inst, queue, qid):
    return os.path.join(inst.queue_dir, queue, qid)


def find_anywhere(inst, qid):
    return [f for f in inst.queue_files() if os.path.basename(f) == qid]


@pytest.fixture
def running(instance):
    instance.start()
    return instance


def test_queue_id_names_a_new_incomplete_file(running):
    c = Client(running)
    path = queue_file(running, "incoming", c.queue_id)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    c.send(message_records(flags=FLAG_HOLD))
    assert c.reply() == (0, "")


def test_held_message_is_complete_and_described_by_its_size_record(running):
    lines = ("Subject: held", "", "first", "second")
    c = Client(running)
    c.send(message_records(lines=lines, rcpts=("a@mail.example.com", "b@mail.example.com"),
                           flags=FLAG_HOLD))
    assert c.reply() == (0, "")
    path = queue_file(running, "hold", c.queue_id)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert not os.path.exists(queue_file(running, "incoming", c.queue_id))
    with open(path, "rb") as f:
        recs = decode_records(f.read())
    assert recs[0][0] == 0 and recs[0][1] == "C" and len(recs[0][2]) == SIZE_LEN
    size, data_off, nrcpt, flags, xtra_off = (int(x) for x in recs[0][2].split())
    types = {t: off for off, t, _ in recs}
    assert data_off == types["M"]
    assert xtra_off == types["X"]
    assert nrcpt == sum(1 for _, t, _ in recs if t == "R") == 2
    assert flags == 0
    content = [d for off, t, d in recs if t in "NL" and data_off < off < xtra_off]
    assert size == sum(len(d) + 1 for d in content)
    assert recs[-1][1] == "E"


def test_disconnect_before_end_leaves_nothing(running):
    c = Client(running)
    mark = running.log_mark()
    c.send(message_records(flags=FLAG_HOLD)[:-2])
    c.sock.close()
    running.wait_log(rf"cleanup\[\d+\]: warning: {c.queue_id}: unexpected end of input from .* "
                     r"-- queue file removed", since=mark)
    assert find_anywhere(running, c.queue_id) == []


def test_malformed_record_is_a_protocol_error(running):
    c = Client(running)
    mark = running.log_mark()
    c.send(b"S" + b"\x80" * 7 + b"x")
    status, reason = c.reply()
    assert status == STAT_BAD
    assert reason.startswith("4.")
    running.wait_log(rf"cleanup\[\d+\]: warning: {c.queue_id}: malformed record from ", since=mark)
    assert find_anywhere(running, c.queue_id) == []


def test_concurrent_clients_are_all_acknowledged(running):
    clients = [Client(running) for _ in range(8)]
    msgs = [message_records(lines=(f"Subject: n{i}", "", "x"), flags=FLAG_HOLD)
            for i in range(len(clients))]
    # Everything but the last byte (part of END) first, then the ENDs back to back,
    # so the messages complete together and share commits.
    for c, m in zip(clients, msgs):
        c.send(m[:-1])
    for c, m in zip(clients, msgs):
        c.send(m[-1:])
    for c in clients:
        assert c.reply() == (0, "")
        assert stat.S_IMODE(os.stat(queue_file(running, "hold", c.queue_id)).st_mode) == 0o700
    assert len({c.queue_id for c in clients}) == len(clients)


def test_silent_client_times_out(instance):
    instance.write_master_cf(instance.default_master_cf().replace(
        "cleanup unix n - n - 0 cleanup",
        "cleanup unix n - n - 0 cleanup -o ipc_timeout=1s", 1))
    instance.start()
    c = Client(instance)
    mark = instance.log_mark()
    c.send(record("f", str(FLAG_HOLD)))
    status, reason = c.reply()
    assert status == STAT_BAD and reason.startswith("4.")
    instance.wait_log(rf"cleanup\[\d+\]: warning: {c.queue_id}: read timeout on ", since=mark)
    assert find_anywhere(instance, c.queue_id) == []
