"""trivial-rewrite's private/rewrite service, spoken to directly
(queue.md 4.2 and 6; resolve_clnt.h describes the protocol).

Requests and replies are attribute messages (attr.h): NAME NUL VALUE NUL
per attribute, one extra NUL at the end.

    request=resolve, sender, address -> flags, transport, nexthop, recipient
    request=rewrite, rule, address   -> flags, address

flags carries RESOLVE_FLAG_* (FINAL 1, ROUTED 2, ERROR 4, FAIL 8) and one
RESOLVE_CLASS_* bit (LOCAL 256, ALIAS 512, VIRTUAL 1024, RELAY 2048,
DEFAULT 4096).
"""

import os
import socket
import time

import pytest

FINAL, ROUTED, ERROR, FAIL = 1, 2, 4, 8
LOCAL, ALIAS, VIRTUAL, RELAY, DEFAULT = 256, 512, 1024, 2048, 4096

TRANSPORT = """\
example.net relay:[10.0.0.5]:2525
.example.net smtp:
* error:go away
"""


def encode(pairs):
    out = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs)
    return out + b"\0"


def read_attrs(sock):
    """One attribute message as a dict; None when the server closed first."""
    fields, cur = [], bytearray()
    while True:
        ch = sock.recv(1)
        if not ch:
            if not fields and not cur:
                return None
            raise EOFError("connection closed inside an attribute message")
        if ch != b"\0":
            cur += ch
            continue
        if not cur and len(fields) % 2 == 0:
            return dict(zip(fields[0::2], fields[1::2]))
        fields.append(cur.decode())
        cur = bytearray()


class Client:
    """One connection to private/rewrite."""

    def __init__(self, inst):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(os.path.join(inst.queue_dir, "private", "rewrite"))

    def ask(self, pairs):
        self.sock.sendall(encode(pairs))
        return read_attrs(self.sock)

    def resolve(self, address, sender=""):
        reply = self.ask([("request", "resolve"), ("sender", sender),
                          ("address", address)])
        assert reply is not None, "server closed the connection"
        return (int(reply["flags"]), reply["transport"], reply["nexthop"],
                reply["recipient"])

    def rewrite(self, rule, address):
        reply = self.ask([("request", "rewrite"), ("rule", rule),
                          ("address", address)])
        assert reply is not None, "server closed the connection"
        return int(reply["flags"]), reply["address"]

    def close(self):
        self.sock.close()


@pytest.fixture
def running(instance):
    instance.write_file("transport", TRANSPORT)
    instance.write_file("relocated", "old@example.com new@example.org\n")
    instance.run("postmap", "hash:" + os.path.join(instance.path, "transport"),
                 check=True)
    instance.write_main_cf(
        f"transport_maps = hash:{instance.path}/transport\n"
        f"relocated_maps = texthash:{instance.path}/relocated\n"
        "virtual_mailbox_domains = d.test, vm.test\n"
        "mydestination = $myhostname, localhost, d.test\n"
        "virtual_alias_domains = va.test\n"
        "relay_domains = rel.test\n")
    instance.start()
    yield instance


def test_resolve_classes_and_tables(running):
    c = Client(running)
    # Acceptance 39.
    assert c.resolve("a@example.net") == (DEFAULT, "relay", "[10.0.0.5]:2525",
                                          "a@example.net")
    assert c.resolve("a@sub.example.net") == (DEFAULT, "smtp",
                                              "sub.example.net",
                                              "a@sub.example.net")
    assert c.resolve("a@other.test") == (DEFAULT, "error", "go away",
                                         "a@other.test")
    # Classes ("*" also catches local and virtual mailbox domains).
    assert c.resolve("alice@mail.example.com") == (
        LOCAL | FINAL, "error", "go away", "alice@mail.example.com")
    assert c.resolve("u@va.test") == (
        ALIAS | FINAL, "error", "5.1.1 User unknown in virtual alias table",
        "u@va.test")
    assert c.resolve("u@vm.test")[0] == VIRTUAL | FINAL
    assert c.resolve("u@rel.test")[0] == RELAY
    # Acceptance 41.
    assert c.resolve("old@example.com") == (
        DEFAULT, "error", "5.1.6 User has moved to new@example.org",
        "old@example.com")
    # Routed addresses.
    assert c.resolve("u%example.net@mail.example.com") == (
        DEFAULT, "relay", "[10.0.0.5]:2525", "u@example.net")
    assert c.resolve("u%b.test@c.example.net")[0] == DEFAULT | ROUTED
    assert c.resolve("u@")[0] & ERROR
    # Several requests on one connection, then the standard form.
    assert c.rewrite("local", "user") == (0, "user@mail.example.com")
    assert c.rewrite("local", "site!user") == (0, "user@site")
    assert c.rewrite("remote", "user") == (0, "user")
    c.close()


def test_both_warning(running):
    # Acceptance 42: logged by the service when it opens its lists.
    Client(running).resolve("x@d.test")
    running.wait_log(r"warning: do not list domain d\.test in BOTH "
                     r"mydestination and virtual_mailbox_domains")


def test_bad_requests_disconnect(running):
    c = Client(running)
    assert c.ask([("request", "frobnicate"), ("address", "a@b")]) is None
    running.wait_log(r'warning: unknown request "frobnicate"')
    c = Client(running)
    assert c.ask([("request", "resolve"), ("address", "a@b")]) is None
    c = Client(running)
    assert c.ask([("request", "rewrite"), ("rule", "sideways"),
                  ("address", "a@b")]) is None
    # The service still answers.
    assert Client(running).resolve("a@example.net")[1] == "relay"


def test_restart_after_table_change(running):
    old = Client(running)
    assert old.resolve("a@other.test")[1:3] == ("error", "go away")
    mark = running.log_mark()
    running.write_file("transport", TRANSPORT.replace("error:go away",
                                                      "smtp:[fallback]"))
    running.run("postmap",
                "hash:" + os.path.join(running.path, "transport"), check=True)
    # The process that has the table open restarts; a fresh connection
    # soon reaches a process with the new table.
    deadline = time.time() + 30
    answer = None
    while time.time() < deadline:
        try:
            c = Client(running)
            answer = c.ask([("request", "resolve"), ("sender", ""),
                            ("address", "a@other.test")])
            c.close()
        except OSError:
            answer = None
        if answer is not None and answer["transport"] == "smtp":
            break
        time.sleep(0.2)
    assert answer is not None
    assert (answer["transport"], answer["nexthop"]) == ("smtp", "[fallback]")
    # The old process leaves once its last client is gone.
    old.close()
    running.wait_log(r"table hash:\S+/transport has changed -- restarting",
                     since=mark)


def test_table_failure_defers(instance):
    """A table that cannot be read never gives a wrong answer: FAIL."""
    instance.write_main_cf(
        f"transport_maps = hash:{instance.path}/missing\n")
    instance.start()
    c = Client(instance)
    assert c.resolve("a@example.net") == (
        FAIL, "retry", "4.3.0 address resolver failure", "a@example.net")
    # The rewrite request needs no table.
    assert c.rewrite("local", "user") == (0, "user@mail.example.com")
    c.close()
