"""End-to-end tests of the SMTP server's access restrictions (smtpd.md §7-§9,
§13; acceptance checks 9-12, 23-31, 35-37, 40, 48, 49).

Every test starts the spec's baseline instance: myhostname mx.example.test,
local domains mx.example.test, localhost and example.test, mynetworks
127.0.0.1/32 and the local users alice, bob and all. "Outside" is a client
that became 192.0.2.10 (client.remote.test) through XCLIENT, which the
baseline allows from 127.0.0.1 only.
"""
import os
import re

import pytest

from agentmx import AgentMx
from policyd import PolicyServer
from smtpchat import SmtpChat

QID = r"[0-9A-F]{6,}"

BASELINE = {
    "myhostname": "mx.example.test",
    "mydestination": "$myhostname, localhost, example.test",
    "mynetworks": "127.0.0.1/32",
    "alias_maps": "",
    "local_recipient_maps": "inline:{alice=1, bob=1, all=1}",
    "smtpd_authorized_xclient_hosts": "127.0.0.1",
}


@pytest.fixture
def mx(instance):
    return AgentMx(instance, BASELINE)


def reply(code, text):
    return (code, text)


# --- relay control and recipient validation ----------------------------------

def test_unknown_local_user_and_postmaster(mx):
    """Check 9."""
    mx.start()
    assert mx.rcpt("nobody@example.test") == reply(
        550, "5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table")
    assert mx.rcpt("postmaster") == reply(250, "2.1.5 Ok")
    assert mx.rcpt("alice@example.test") == reply(250, "2.1.5 Ok")


def test_default_relay_restrictions_defer_outside_relaying(mx):
    """Check 10: the default smtpd_relay_restrictions end in
    defer_unauth_destination; the rejection is logged with NOQUEUE."""
    mx.start()
    assert mx.rcpt("u@remote.test", outside=True) == reply(454, "4.7.1 <u@remote.test>: Relay access denied")
    mx.inst.wait_log(r"NOQUEUE: reject: RCPT from client\.remote\.test\[192\.0\.2\.10\]: 454 4\.7\.1 "
                     r"<u@remote\.test>: Relay access denied; from=<a@remote\.test> to=<u@remote\.test> "
                     r"proto=ESMTP helo=<c\.test>$")


def test_reject_unauth_destination(mx):
    """Check 11."""
    mx.start(smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination")
    assert mx.rcpt("u@remote.test", outside=True) == reply(554, "5.7.1 <u@remote.test>: Relay access denied")
    assert mx.rcpt("u@remote.test") == reply(250, "2.1.5 Ok")


@pytest.mark.parametrize("rcpt", [
    "u@remote.test", "u@remote.test@example.test", "u%remote.test@example.test",
    "remote.test!u@example.test", "@example.test:u@remote.test", "u@[192.0.2.99]", "u@remote.test.",
])
def test_routed_addresses_never_relay(mx, rcpt):
    """Check 12: every sender-routing trick is refused, nothing is queued."""
    mx.start()
    code, text = mx.rcpt(rcpt, outside=True)
    assert code == 454 and text.endswith(": Relay access denied"), (code, text)
    assert mx.inst.queue_files() == []


def test_relay_recipient_maps(mx):
    """Check 35."""
    mx.start(relay_domains="relay.test", relay_recipient_maps="inline:{ok@relay.test=1}")
    assert mx.rcpt("ok@relay.test", outside=True) == reply(250, "2.1.5 Ok")
    assert mx.rcpt("no@relay.test", outside=True) == reply(
        550, "5.1.1 <no@relay.test>: Recipient address rejected: User unknown in relay recipient table")


def test_virtual_domains_validate_recipients(mx):
    """Check 36."""
    mx.start(virtual_mailbox_domains="vm.test", virtual_mailbox_maps="inline:{a@vm.test=x}",
             virtual_alias_domains="va.test", virtual_alias_maps="inline:{a@va.test=alice}")
    assert mx.rcpt("b@vm.test") == reply(
        550, "5.1.1 <b@vm.test>: Recipient address rejected: User unknown in virtual mailbox table")
    assert mx.rcpt("b@va.test") == reply(
        550, "5.1.1 <b@va.test>: Recipient address rejected: User unknown in virtual alias table")
    assert mx.rcpt("a@vm.test") == reply(250, "2.1.5 Ok")
    assert mx.rcpt("a@va.test") == reply(250, "2.1.5 Ok")


def test_relocated_user(mx):
    """Check 37."""
    mx.start(relocated_maps="inline:{carol@example.test=carol@new.test}")
    assert mx.rcpt("carol@example.test") == reply(
        550, "5.1.6 <carol@example.test>: Recipient address rejected: User has moved to carol@new.test")


def test_soft_bounce_turns_rejections_into_deferrals(mx):
    """Check 31."""
    mx.start(soft_bounce="yes", smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination")
    assert mx.rcpt("u@remote.test", outside=True) == reply(454, "4.7.1 <u@remote.test>: Relay access denied")
    code, text = mx.rcpt("nobody@example.test")
    assert code == 450 and text.startswith("4.1.1 <nobody@example.test>: "), (code, text)


# --- the stages --------------------------------------------------------------

def test_client_restriction_applies_at_rcpt(mx):
    """Check 23: with smtpd_delay_reject the client list runs at RCPT."""
    mx.start(smtpd_client_restrictions="check_client_access inline:{192.0.2.10=REJECT}")
    with mx.chat(outside=True) as chat:
        assert chat.cmd("MAIL FROM:<a@remote.test>") == reply(250, "2.1.0 Ok")
        assert chat.cmd("RCPT TO:<alice@example.test>") == reply(
            554, "5.7.1 <client.remote.test[192.0.2.10]>: Client host rejected: Access denied")


def test_client_rejected_at_connect_without_delay_reject(mx):
    """Check 24."""
    mx.start(smtpd_client_restrictions="check_client_access inline:{127.0.0.2=REJECT}",
             smtpd_delay_reject="no")
    with SmtpChat(mx.inst.smtp_port, source="127.0.0.2") as chat:
        code, text = chat.greeting
        assert code == 554 and re.fullmatch(r"5\.7\.1 <\S+\[127\.0\.0\.2\]>: Client host rejected: Access denied",
                                            text), chat.greeting
        code, text = chat.cmd("EHLO x")
        assert code == 503 and re.fullmatch(r"5\.7\.0 Error: access denied for \S+\[127\.0\.0\.2\]", text), text
        assert chat.cmd("QUIT")[0] == 221


def test_non_fqdn_helo(mx):
    """Check 25."""
    mx.start(smtpd_helo_restrictions="reject_non_fqdn_helo_hostname")
    with mx.chat(helo="foo") as chat:
        assert chat.cmd("MAIL FROM:<a@remote.test>")[0] == 250
        assert chat.cmd("RCPT TO:<alice@example.test>") == reply(
            504, "5.5.2 <foo>: Helo command rejected: need fully-qualified hostname")


def test_invalid_helo_literal(mx):
    """Check 26."""
    mx.start(smtpd_helo_restrictions="reject_invalid_helo_hostname")
    with mx.chat(helo="[1.2.3]") as chat:
        assert chat.cmd("MAIL FROM:<a@remote.test>")[0] == 250
        assert chat.cmd("RCPT TO:<alice@example.test>") == reply(
            501, "5.5.2 <[1.2.3]>: Helo command rejected: invalid ip address")


def test_sender_access_parent_domains_and_dunno(mx):
    """Check 27."""
    mx.start(smtpd_sender_restrictions="check_sender_access "
             "inline:{spam.test=REJECT, sub.spam.test=DUNNO, {bad@=550 5.7.1 go away}}")
    assert mx.rcpt("alice@example.test", sender="x@a.spam.test") == reply(
        554, "5.7.1 <x@a.spam.test>: Sender address rejected: Access denied")
    assert mx.rcpt("alice@example.test", sender="bad@any.test") == reply(
        550, "5.7.1 <bad@any.test>: Sender address rejected: go away")
    assert mx.rcpt("alice@example.test", sender="x@sub.spam.test") == reply(250, "2.1.5 Ok")


def test_defer_if_permit_from_recipient_access(mx):
    """Check 28."""
    mx.start(smtpd_recipient_restrictions="check_recipient_access inline:{{bob@example.test=DEFER_IF_PERMIT busy}}")
    assert mx.rcpt("bob@example.test") == reply(450, "4.7.1 <bob@example.test>: Recipient address rejected: busy")
    assert mx.rcpt("alice@example.test") == reply(250, "2.1.5 Ok")


def test_restriction_class_as_access_result(mx):
    """Check 29."""
    mx.start(smtpd_restriction_classes="insiders",
             insiders="check_sender_access inline:{example.test=OK}, reject",
             smtpd_recipient_restrictions="check_recipient_access inline:{all@example.test=insiders}")
    assert mx.rcpt("all@example.test", sender="x@remote.test") == reply(
        554, "5.7.1 <all@example.test>: Recipient address rejected: Access denied")
    assert mx.rcpt("all@example.test", sender="x@example.test") == reply(250, "2.1.5 Ok")


def test_warn_if_reject_logs_and_goes_on(mx):
    """Check 30."""
    mx.start(smtpd_sender_restrictions="warn_if_reject reject_non_fqdn_sender")
    assert mx.rcpt("alice@example.test", sender="a@b") == reply(250, "2.1.5 Ok")
    mx.inst.wait_log(r"reject_warning: RCPT from \S+\[127\.0\.0\.1\]: 504 5\.5\.2 <a@b>: "
                     r"Sender address rejected: need fully-qualified address;")


def test_removed_restriction_is_a_configuration_error(mx):
    """Check 48."""
    mx.start(smtpd_recipient_restrictions="check_relay_domains")
    code, text = mx.rcpt("alice@example.test")
    assert (code, text) == (451, "4.3.5 Server configuration error")
    mx.inst.wait_log(r"warning: .*check_relay_domains.*reject_unauth_destination")


def test_no_working_relay_restriction_refuses_to_start(mx):
    """Check 49: smtpd exits with the fatal message; the client sees no greeting."""
    mx.start(smtpd_relay_restrictions="", smtpd_recipient_restrictions="permit_mynetworks")
    with pytest.raises((EOFError, ConnectionResetError, AssertionError)):
        SmtpChat(mx.inst.smtp_port, timeout=5)
    mx.inst.wait_log(r"fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
                     r"specify at least one working instance of: ")


# --- access-map side effects --------------------------------------------------

def send(mx, recipients, sender="x@remote.test"):
    with mx.chat() as chat:
        replies = chat.transaction(sender, recipients)
        chat.cmd("QUIT")
    code, text = replies[-1]
    assert code == 250, replies
    return re.search(rf"queued as ({QID})", text).group(1)


def test_hold_action(mx):
    """Check 40, HOLD: accepted, then waits in the hold queue."""
    mx.start(smtpd_recipient_restrictions="check_recipient_access inline:{alice@example.test=HOLD}")
    qid = send(mx, ["alice@example.test"])
    mx.inst.wait_log(r"NOQUEUE: hold: RCPT from \S+: <alice@example\.test>: Recipient address triggers HOLD action;")
    assert qid in mx.inst.queue_ids("hold")


def test_discard_action(mx):
    """Check 40, DISCARD: accepted, never delivered."""
    mx.start(smtpd_recipient_restrictions="check_recipient_access inline:{alice@example.test=DISCARD}")
    qid = send(mx, ["alice@example.test"])
    mx.inst.wait_log(r"NOQUEUE: discard: RCPT from \S+: <alice@example\.test>: Recipient address triggers DISCARD action;")
    assert mx.inst.queue_files() == []
    assert not os.path.exists(mx.journal) or qid not in open(mx.journal).read()


def test_redirect_action(mx):
    """Check 40, REDIRECT: only bob gets the message."""
    mx.start(smtpd_recipient_restrictions="check_recipient_access "
             "inline:{{alice@example.test=REDIRECT bob@example.test}}")
    qid = send(mx, ["alice@example.test"])
    assert mx.delivered(qid) == [("bob@example.test", "alice@example.test")]


def test_bcc_action(mx):
    """Check 40, BCC: alice and bob."""
    mx.start(smtpd_recipient_restrictions="check_recipient_access "
             "inline:{{alice@example.test=BCC bob@example.test}}")
    qid = send(mx, ["alice@example.test"])
    assert [a for a, _ in mx.delivered(qid)] == ["alice@example.test", "bob@example.test"]


def test_filter_action(mx):
    """Check 40, FILTER: the message goes to the filter's transport and next hop."""
    mx.start(smtpd_recipient_restrictions="check_recipient_access "
             "inline:{{alice@example.test=FILTER test:[127.0.0.1]:10099}}")
    qid = send(mx, ["alice@example.test"])
    mx.inst.wait_log(rf"{qid}: to=<alice@example\.test>, relay=testagent\[\[127\.0\.0\.1\]:10099\]")


def test_content_filter_parameter(mx):
    """content_filter (main.cf or the smtpd service's -o) routes accepted mail
    to the filter; a FILTER action would beat it."""
    mx.start(content_filter="test:[127.0.0.1]:10026")
    qid = send(mx, ["alice@example.test"])
    mx.inst.wait_log(rf"{qid}: to=<alice@example\.test>, relay=testagent\[\[127\.0\.0\.1\]:10026\]")


def test_prepend_action_above_received(mx):
    """Check 39 with an access map: the header sits directly above Received:."""
    mx.start(queue_only=True, smtpd_recipient_restrictions="check_recipient_access "
             "inline:{{alice@example.test=PREPEND X-Test: yes}}")
    qid = send(mx, ["alice@example.test"])
    content = mx.inst.postcat(qid, "-h").splitlines()
    i = content.index("X-Test: yes")
    assert content[i + 1].startswith("Received: from c.test ("), content[:5]


# --- policy delegation (§10) --------------------------------------------------

@pytest.fixture
def policy(mx):
    server = PolicyServer(unix_path=os.path.join(mx.inst.root, "policy.sock"), owner=mx.inst.user)
    yield server
    server.close()


def test_policy_reject_and_request(mx, policy):
    """Check 38: the server's REJECT is the reply; it got the §10 request."""
    policy.replies = ["REJECT no thanks"]
    mx.start(smtpd_recipient_restrictions=f"check_policy_service {policy.endpoint}")
    assert mx.rcpt("alice@example.test") == reply(
        554, "5.7.1 <alice@example.test>: Recipient address rejected: no thanks")
    req = policy.requests[0]
    assert req["request"] == "smtpd_access_policy"
    assert req["protocol_state"] == "RCPT"
    assert req["protocol_name"] == "ESMTP"
    assert req["recipient"] == "alice@example.test"
    assert req["sender"] == "a@remote.test"
    assert req["helo_name"] == "c.test"
    assert req["client_address"] == "127.0.0.1"
    assert req["instance"]


def test_policy_server_down(mx, policy):
    """Check 38: no server -> smtpd_policy_service_default_action."""
    policy.close()
    mx.start(smtpd_recipient_restrictions=f"check_policy_service {policy.endpoint}",
             smtpd_policy_service_try_limit="1")
    assert mx.rcpt("alice@example.test") == reply(
        451, "4.3.5 <alice@example.test>: Recipient address rejected: Server configuration problem")


def test_policy_one_instance_per_message_and_connection_reuse(mx, policy):
    """The same instance for every request of one message, a new one for the
    next; one connection serves every request of the session."""
    policy.default = "DUNNO"
    mx.start(smtpd_recipient_restrictions=f"check_policy_service {policy.endpoint}",
             smtpd_data_restrictions=f"check_policy_service {policy.endpoint}")
    with mx.chat() as chat:
        for _ in range(2):
            replies = chat.transaction("a@remote.test", ["alice@example.test", "bob@example.test"])
            assert replies[-1][0] == 250, replies
    states = [(r["protocol_state"], r["instance"], r["recipient_count"]) for r in policy.requests]
    assert [s for s, _, _ in states] == ["RCPT", "RCPT", "DATA"] * 2
    assert states[2][2] == "2"
    assert states[0][1] == states[1][1] == states[2][1] != states[3][1]
    assert policy.connections == 1


def test_policy_prepend_above_received(mx, policy):
    """Check 39."""
    policy.replies = ["PREPEND X-Test: yes"]
    mx.start(queue_only=True, smtpd_recipient_restrictions=f"check_policy_service {policy.endpoint}")
    qid = send(mx, ["alice@example.test"])
    content = mx.inst.postcat(qid, "-h").splitlines()
    i = content.index("X-Test: yes")
    assert content[i + 1].startswith("Received: from c.test ("), content[:5]


# --- per-client limits through anvil (§1.2, §3.2, §3.3) -----------------------

def test_connection_count_limit(mx):
    """A client outside smtpd_client_event_limit_exceptions gets 421 for the
    connection beyond smtpd_client_connection_count_limit."""
    mx.start(smtpd_client_connection_count_limit="2")
    first = SmtpChat(mx.inst.smtp_port, source="127.0.0.2")
    second = SmtpChat(mx.inst.smtp_port, source="127.0.0.2")
    try:
        assert first.greeting[0] == second.greeting[0] == 220
        with SmtpChat(mx.inst.smtp_port, source="127.0.0.2") as third:
            assert third.greeting == (421, "4.7.0 mx.example.test Error: too many connections from 127.0.0.2")
            assert third.closed()
        with SmtpChat(mx.inst.smtp_port) as exempt:  # 127.0.0.1 is in $mynetworks
            assert exempt.greeting[0] == 220
    finally:
        first.close()
        second.close()


def test_message_and_recipient_rate_limits(mx):
    mx.start(smtpd_client_message_rate_limit="1", smtpd_client_recipient_rate_limit="2")
    with mx.chat(source="127.0.0.2") as chat:
        assert chat.cmd("MAIL FROM:<a@remote.test>") == reply(250, "2.1.0 Ok")
        assert chat.cmd("RCPT TO:<alice@example.test>") == reply(250, "2.1.5 Ok")
        assert chat.cmd("RCPT TO:<bob@example.test>") == reply(250, "2.1.5 Ok")
        assert chat.cmd("RCPT TO:<all@example.test>") == reply(450, "4.7.1 Error: too many recipients from 127.0.0.2")
        assert chat.cmd("RSET")[0] == 250
        assert chat.cmd("MAIL FROM:<a@remote.test>") == reply(450, "4.7.1 Error: too much mail from 127.0.0.2")
