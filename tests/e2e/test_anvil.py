"""The anvil service (spec/smtpd.md 1.2, 3.2, 3.3) driven through its
client library by the test-only program anvilq (src/anvilq): counts of
open connections, connection/message/recipient rates per service:address,
disconnects, state kept across client connections, the statistics log
lines every anvil_status_update_time and when anvil exits, and the
client's behaviour when the service is not running.
"""

import os
import re

import pytest

import postern
from smtpchat import SmtpChat

ANVILQ = os.path.join(postern.BUILD, "test-libexec", "anvilq")

DATE = r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d"


def anvil_master_cf(extra=""):
    return f"anvil unix - - n - 1 anvil{extra}\n"


@pytest.fixture
def anvil(make_instance):
    if not os.path.exists(ANVILQ):
        raise postern.MissingProgram(ANVILQ)
    inst = make_instance()
    inst.update_main_cf({"anvil_status_update_time": "1s"})
    inst.write_master_cf(anvil_master_cf())
    inst.start()
    return inst


def anvilq(inst, *commands):
    r = inst.run(ANVILQ, *commands, check=True)
    return r.stdout_lines


def test_counts_rates_and_disconnects(anvil):
    out = anvilq(anvil,
                 "connect smtp 192.0.2.1",
                 "connect smtp 192.0.2.1",
                 "connect smtp 192.0.2.2",
                 "connect submission 192.0.2.1",
                 "mail smtp 192.0.2.1",
                 "rcpt smtp 192.0.2.1",
                 "rcpt smtp 192.0.2.1",
                 "rcpt smtp 192.0.2.1",
                 "mail smtp 192.0.2.1",
                 "lookup smtp 192.0.2.1",
                 "disconnect smtp 192.0.2.1",
                 "lookup smtp 192.0.2.1",
                 "reopen",
                 "connect smtp 192.0.2.1",
                 "disconnect smtp 192.0.2.1",
                 "disconnect smtp 192.0.2.1",
                 "lookup smtp 192.0.2.1",
                 "lookup smtp 192.0.2.2",
                 "lookup smtp 192.0.2.99")
    assert out == [
        "connect status=0 count=1 rate=1",
        "connect status=0 count=2 rate=2",
        "connect status=0 count=1 rate=1",
        "connect status=0 count=1 rate=1",
        "mail status=0 rate=1",
        "rcpt status=0 rate=1",
        "rcpt status=0 rate=2",
        "rcpt status=0 rate=3",
        "mail status=0 rate=2",
        "lookup status=0 count=2 rate=2",
        "disconnect status=0",
        "lookup status=0 count=1 rate=2",
        "reopen",
        # state lives in the service, not in the client connection
        "connect status=0 count=2 rate=3",
        "disconnect status=0",
        "disconnect status=0",
        "lookup status=0 count=0 rate=3",
        "lookup status=0 count=1 rate=1",
        "lookup status=0 count=0 rate=0",
    ]
    # A second client process sees the same counters.
    assert anvilq(anvil, "connect smtp 192.0.2.1") == ["connect status=0 count=1 rate=4"]


def test_statistics_every_update_time(anvil):
    mark = anvil.log_mark()
    anvilq(anvil, "connect smtp 192.0.2.10", "connect smtp 192.0.2.10",
           "connect smtp 192.0.2.11", "mail smtp 192.0.2.10",
           "rcpt smtp 192.0.2.11", "rcpt smtp 192.0.2.11")
    m = anvil.wait_log(rf"statistics: max cache size 2 at {DATE}$", since=mark)
    lines = [line for line in anvil.log()[mark:m.end()].splitlines() if "statistics:" in line]
    assert [re.sub(r"^.*?postfix/anvil\[\d+\]: ", "", line) for line in lines] == [
        f"statistics: max connection rate 2/60s for (smtp:192.0.2.10) at {line_date(lines[0])}",
        f"statistics: max connection count 2 for (smtp:192.0.2.10) at {line_date(lines[1])}",
        f"statistics: max message rate 1/60s for (smtp:192.0.2.10) at {line_date(lines[2])}",
        f"statistics: max recipient rate 2/60s for (smtp:192.0.2.11) at {line_date(lines[3])}",
        f"statistics: max cache size 2 at {line_date(lines[4])}",
    ]
    # Peaks start over after a report: the next report names only new peaks.
    mark = anvil.log_mark()
    anvilq(anvil, "rcpt smtp 192.0.2.12")
    m = anvil.wait_log(r"statistics: max cache size 3 at .*$", since=mark)
    text = anvil.log()[mark:m.end()]
    assert re.search(r"statistics: max recipient rate 1/60s for \(smtp:192\.0\.2\.12\)", text)
    assert "connection" not in text


def line_date(line):
    m = re.search(rf" at ({DATE})$", line)
    assert m, line
    return m.group(1)


def test_statistics_at_exit(make_instance):
    inst = make_instance()
    inst.update_main_cf({"anvil_status_update_time": "600s"})
    inst.write_master_cf(anvil_master_cf("\n  -o max_idle=1s"))
    inst.start()
    mark = inst.log_mark()
    assert anvilq(inst, "connect smtp 192.0.2.20", "mail smtp 192.0.2.20") == [
        "connect status=0 count=1 rate=1", "mail status=0 rate=1"]
    # No client left: anvil exits after max_idle and reports first.
    m = inst.wait_log(r"statistics: max cache size 1 at ", since=mark, timeout=20)
    text = inst.log()[mark:m.end()]
    assert re.search(rf"postfix/anvil\[\d+\]: statistics: max connection rate 1/60s for \(smtp:192\.0\.2\.20\) at {DATE}$",
                     text, re.M)
    assert re.search(r"statistics: max message rate 1/60s for \(smtp:192\.0\.2\.20\)", text)
    assert "recipient rate" not in text


def test_service_unavailable(make_instance):
    inst = make_instance()
    inst.write_master_cf("")
    inst.start()
    r = inst.run(ANVILQ, "connect smtp 192.0.2.1", "mail smtp 192.0.2.1", check=True)
    assert r.stdout_lines == ["connect status=-1 count=0 rate=0", "mail status=-1 rate=0"]
    assert "warning: problem talking to service anvil" in r.stderr


def test_one_process_serves_concurrent_clients(make_instance):
    """anvil is a multi-client server with a process limit of 1: it stays
    available to the master while it has clients, so every smtpd process
    shares its one table and the master never calls it "at its process
    limit" (it did while every client connection counted as busy)."""
    inst = make_instance()
    inst.update_main_cf({"smtpd_client_event_limit_exceptions": "", "anvil_status_update_time": "1s"})
    inst.start()
    mark = inst.log_mark()
    sessions = [SmtpChat(inst.smtp_port) for _ in range(3)]  # three smtpd processes, each asks anvil
    for s in sessions:
        assert s.cmd("EHLO c.test")[0] == 250
    pids = set(re.findall(r"postfix/smtpd\[(\d+)\]: connect from", inst.log()[mark:]))
    assert len(pids) == 3
    m = inst.wait_log(r"statistics: max connection count 3 for \(127\.0\.0\.1:\d+:127\.0\.0\.1\)", since=mark)
    for s in sessions:
        s.close()
    assert "has reached its process limit" not in inst.log(), inst.log()[mark:m.end()]
