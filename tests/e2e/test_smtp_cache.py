"""Connection caching of the smtp client, in the process and through
scache(8) (delivery.md 1, 6.3; acceptance check 33).

A scripted peer (smtppeer.Peer) is the only destination, reached through a
transport map entry smtp:[127.0.0.1]:PORT; it answers the end of data
slowly so that mail piles up in the queue manager while one delivery is in
progress (smtp_destination_concurrency_limit = 1). The queue manager then
tells the agent that more mail waits (DEL_REQ_FLAG_CONN_STORE), the agent
keeps its idle connection instead of sending QUIT, and the next delivery
takes it back: its log line shows conn_use=2 and the peer sees fewer
connections than messages. The agent keeps the connection itself for a
moment (a quarter second), then hands it to scache, where a later delivery
finds it. With smtp_connection_cache_on_demand = no every message gets its
own connection. A peer that hangs up after a message leaves a dead
connection, in the agent or in scache: the client notices and connects
again, and nothing is deferred.
"""

import re
import time

from smtppeer import Peer

SENDER = "alice@example.org"
LINE = (r"postfix/smtp\[\d+\]: (?P<qid>\w+): to=<(?P<rcpt>[^>]+)>, relay=(?P<relay>\S+), "
        r"(?:conn_use=(?P<conn_use>\d+), )?delay=[0-9.]+, "
        r"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=(?P<dsn>[0-9.]+), status=(?P<status>\w+) ")


def start(inst, peer, **params):
    inst.write_file("transport", f"cache.test smtp:{peer.nexthop}\n")
    settings = {"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
                "transport_maps": f"texthash:{inst.path}/transport",
                "smtp_destination_concurrency_limit": "1",
                "connection_cache_status_update_time": "1s"}
    settings.update(params)
    inst.settings.update(settings)
    inst.write_main_cf("")
    inst.start()


def submit(inst, rcpt):
    content = f"From: <{SENDER}>\nTo: <{rcpt}>\nSubject: cache test\n\nbody\n"
    res = inst.cleanup_submit(SENDER, [rcpt], content)
    assert res["status"] == 0, res
    return res["queue_id"]


def delivery_lines(inst, count, timeout=60):
    """Wait for COUNT delivery lines; return them as dicts."""
    plain = re.sub(r"\(\?P<\w+>", "(?:", LINE)
    inst.wait_log("(?s)" + ".*".join([plain] * count), timeout=timeout)
    return [m.groupdict() for m in re.finditer(LINE, inst.log(), re.M)]


def test_five_messages_reuse_the_connection(make_instance):
    with Peer(delays={"eod": 0.4}) as peer:
        inst = make_instance()
        start(inst, peer)
        rcpts = [f"user{i}@cache.test" for i in range(5)]
        for r in rcpts:
            submit(inst, r)
        lines = delivery_lines(inst, 5)
        assert sorted(d["rcpt"] for d in lines) == rcpts
        assert all(d["status"] == "sent" and d["relay"] == f"127.0.0.1[127.0.0.1]:{peer.port}"
                   for d in lines), lines
        uses = [int(d["conn_use"]) for d in lines if d["conn_use"]]
        assert 2 in uses, lines
        assert len(peer.messages) == 5
        assert len(peer.sessions) < 5, [s.commands for s in peer.sessions]
        # A reused connection carries the next MAIL FROM without a new EHLO.
        reused = [s for s in peer.sessions if len([c for c in s.commands if c.startswith("MAIL")]) > 1]
        assert reused and sum(c.startswith("EHLO") for c in reused[0].commands) == 1
        assert "deferred" not in inst.log()


def wait_scache_hit(inst):
    """Wait for a scache statistics line (every second here) with a hit."""
    inst.wait_log(r"postfix/scache\[\d+\]: statistics: domain lookup hits=[1-9]\d* miss=\d+", timeout=10)


def test_idle_connection_goes_to_scache(make_instance):
    """After the agent's moment, its idle connection waits in scache: a
    message a second later reuses it from there (conn_use=2, one session,
    a scache hit)."""
    with Peer() as peer:
        inst = make_instance()
        start(inst, peer, smtp_connection_cache_destinations=peer.nexthop,
              smtp_connection_cache_time_limit="10s", connection_cache_ttl_limit="10s")
        submit(inst, "first@cache.test")
        delivery_lines(inst, 1)
        time.sleep(1)
        submit(inst, "second@cache.test")
        lines = delivery_lines(inst, 2)
        assert [(d["rcpt"], d["status"], d["conn_use"]) for d in lines] == [
            ("first@cache.test", "sent", None), ("second@cache.test", "sent", "2")]
        assert len(peer.sessions) == 1 and len(peer.messages) == 2
        wait_scache_hit(inst)


def test_no_caching_on_demand_off(make_instance):
    with Peer(delays={"eod": 0.4}) as peer:
        inst = make_instance()
        start(inst, peer, smtp_connection_cache_on_demand="no")
        for i in range(5):
            submit(inst, f"user{i}@cache.test")
        lines = delivery_lines(inst, 5)
        assert all(d["status"] == "sent" and d["conn_use"] is None for d in lines), lines
        peer.wait_sessions(5, closed=True)
        assert len(peer.sessions) == 5
        assert all(s.commands[-1] == "QUIT" for s in peer.sessions)


class HangupPeer(Peer):
    """A peer that drops the connection HANGUP seconds after answering each
    message (in the background: the reply goes out at once)."""

    hangup = 0

    def _got_message(self, io, sess, *args):
        super()._got_message(io, sess, *args)
        time.sleep(self.hangup)
        raise OSError("hang up")


def dead_connection_case(make_instance, hangup, pause):
    """The peer hangs up HANGUP s after the first message; the second comes
    PAUSE s later. Both sent, each over its own connection."""
    with HangupPeer() as peer:
        peer.hangup = hangup
        inst = make_instance()
        start(inst, peer, smtp_connection_cache_destinations=peer.nexthop,
              smtp_connection_cache_time_limit="10s", connection_cache_ttl_limit="10s")
        submit(inst, "first@cache.test")
        delivery_lines(inst, 1)
        peer.wait_sessions(1, closed=True)
        time.sleep(pause)
        submit(inst, "second@cache.test")
        lines = delivery_lines(inst, 2)
        assert [(d["rcpt"], d["status"], d["conn_use"]) for d in lines] == [
            ("first@cache.test", "sent", None), ("second@cache.test", "sent", None)]
        assert len(peer.messages) == 2 and len(peer.sessions) == 2
        assert "deferred" not in inst.log()
        return inst


def test_dead_held_connection_reconnects(make_instance):
    """The connection dies while the agent still holds it."""
    dead_connection_case(make_instance, hangup=0, pause=0)


def test_dead_cached_connection_reconnects(make_instance):
    """The connection dies after the agent handed it to scache: the next
    delivery takes it from there, finds it dead, and connects again."""
    inst = dead_connection_case(make_instance, hangup=0.8, pause=0.5)
    wait_scache_hit(inst)


def test_4xx_over_cached_connection_is_not_retried_on_a_new_one(make_instance):
    """A recipient that gets 450 over a cached connection is deferred: the
    same server is not asked again over a new connection in the same
    delivery (it was, once, and the bench's 450 share was retried at once)."""
    with Peer(delays={"eod": 0.4}, rcpt_replies=[("busy*@cache.test", (450, "4.2.1 try later"))]) as peer:
        inst = make_instance()
        start(inst, peer)
        rcpts = ["user0@cache.test", "busy1@cache.test", "user2@cache.test", "busy3@cache.test"]
        for r in rcpts:
            submit(inst, r)
        lines = delivery_lines(inst, 4)
        status = {d["rcpt"]: d for d in lines}
        assert status["user0@cache.test"]["status"] == "sent", lines
        assert status["user2@cache.test"]["status"] == "sent", lines
        for busy in ("busy1@cache.test", "busy3@cache.test"):
            assert status[busy]["status"] == "deferred", lines
            asked = sum(1 for s in peer.sessions for c in s.commands
                        if c.upper().startswith("RCPT") and busy in c)
            assert asked == 1, peer.sessions
        assert any(d["conn_use"] for d in lines), lines
        assert re.search(r"busy1@cache\.test>.*status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] "
                         r"said: 450 4\.2\.1 try later \(in reply to RCPT TO command\)\)", inst.log())
