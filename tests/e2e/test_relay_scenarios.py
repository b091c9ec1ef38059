"""Relay and gateway scenarios of delivery.md 8 with exactly the parameters
the spec shows (other settings: the harness defaults), driven through the
real programs against real SMTP peers (test_smtp_client.Peer) and the BIND
fixture: 8.2 null client (acceptance check 37) and 8.4 firewall gateway
(acceptance check 36).
"""

import os
import re

from dnsserver import dns_server  # noqa: F401 (fixture)
from test_smtp_client import peers  # noqa: F401 (fixture)

COMMON = {"minimal_backoff_time": "300s", "maximal_backoff_time": "300s",
          "smtp_connect_timeout": "5s"}


def mailbox_files(inst):
    found = []
    for root, _dirs, files in os.walk(inst.mail_dir):
        found += [os.path.join(root, f) for f in files]
    return found


def test_null_client(make_instance, dns_server, peers):  # noqa: F811
    # The relay host is $mydomain: its MX is the peer.
    relay = peers(host="127.0.58.50", port=25)
    dns = dns_server({"example.com": "@ MX 10 relay\nrelay A 127.0.58.50\n"})
    inst = make_instance()
    inst.settings.update(COMMON)
    inst.settings.update({
        "dns_resolver_servers": dns.address,
        "myorigin": "$mydomain",
        "relayhost": "$mydomain",
        "inet_interfaces": "loopback-only",
        "mydestination": "",
    })
    inst.write_main_cf("")
    inst.start()
    inst.run("sendmail", "alice", input="Subject: null client\n\nhello\n", check=True)
    inst.run("sendmail", f"bob@{inst.hostname}", input="Subject: to myhostname\n\nhello\n",
             check=True)
    m = inst.wait_log(r"postfix/smtp\[\d+\]: \w+: to=<alice@example\.com>, orig_to=<alice>, "
                      r"relay=relay\.example\.com\[127\.0\.58\.50\]:25, .*status=sent", timeout=30)
    assert m
    inst.wait_log(rf"postfix/smtp\[\d+\]: \w+: to=<bob@{re.escape(inst.hostname)}>, "
                  r"relay=relay\.example\.com\[127\.0\.58\.50\]:25, .*status=sent", timeout=30)
    rcpts = sorted(re.match(r"RCPT TO:<([^>]*)>", c).group(1)
                   for s in relay.sessions for c in s["cmds"] if c.startswith("RCPT"))
    assert rcpts == ["alice@example.com", f"bob@{inst.hostname}"]
    # Nothing was delivered locally.
    assert mailbox_files(inst) == []
    assert not re.search(r"postfix/(local|virtual)\[", inst.log())


def test_firewall_gateway(make_instance, peers):  # noqa: F811
    inside = peers(host="127.0.58.51")
    inst = make_instance()
    inst.write_file("transport", f"example.com relay:[127.0.58.51]:{inside.port}\n")
    inst.write_file("relay_recipients", "user@example.com x\n")
    inst.write_file("virtual", "postmaster postmaster@example.com\n")
    inst.settings.update(COMMON)
    inst.settings.update({
        "mydestination": "",
        "local_recipient_maps": "",
        "local_transport": "error:local mail delivery is disabled",
        "relay_domains": "example.com",
        "parent_domain_matches_subdomains": "debug_peer_list smtpd_access_maps",
        "relay_recipient_maps": f"texthash:{inst.path}/relay_recipients",
        "transport_maps": f"texthash:{inst.path}/transport",
        "smtpd_relay_restrictions": "permit_mynetworks reject_unauth_destination",
        "virtual_alias_maps": f"texthash:{inst.path}/virtual",
        # The test client (127.0.0.1) is "outside".
        "mynetworks": "10.0.0.0/8",
    })
    inst.write_main_cf("")
    inst.start()
    res = inst.send_mail(sender="someone@outside.test", recipients=["user@example.com"])
    assert res.accepted, res
    m = inst.wait_log(r"postfix/relay/smtp\[\d+\]: \w+: to=<user@example\.com>, "
                      rf"relay=127\.0\.58\.51\[127\.0\.58\.51\]:{inside.port}, .*status=sent",
                      timeout=30)
    assert m
    assert inside.sessions[0]["data"] is not None
    res = inst.send_mail(sender="someone@outside.test", recipients=["user@sub.example.com"])
    assert res.rcpt == [(554, "5.7.1 <user@sub.example.com>: Relay access denied")], res
    # Unknown users of the relayed domain are rejected too.
    res = inst.send_mail(sender="someone@outside.test", recipients=["nobody@example.com"])
    assert res.rcpt[0][0] == 550, res
