/*
 * dnsq - print what Postern's resolver (src/dns) answers; built for the
 * end-to-end tests only (build/test-libexec), never installed.
 *
 *   dnsq [-c config_dir] [-s] [-v] TYPE[,TYPE...] NAME
 *       dns_lookup() (several types: dns_lookup_v()); -s sets
 *       DNS_REQ_FLAG_DNSSEC. Output: "status: DNS_xxx", then "fqdn: NAME"
 *       and one line per record "TYPE OWNER TTL DATA [ad]", or
 *       "why: TEXT" on failure.
 *   dnsq [-c config_dir] PTRNAME ADDR     dns_addr_to_name()
 *   dnsq [-c config_dir] HASADDR NAME ADDR  dns_name_has_addr()
 *   dnsq REVERSE ADDR                      dns_reverse_name()
 *
 * DATA: A/AAAA the address, MX/SRV "PREF HOST" ("PREF WEIGHT PORT HOST"
 * for SRV), NS/PTR/CNAME the host, TXT the text in double quotes, other
 * types the data in hex. Exit status 0 for DNS_OK, 1 otherwise, 2 for
 * usage errors.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "vstring.h"

/* dnsq_usage - complain and exit */
static NORETURN dnsq_usage(void)
{
    msg_fatal_status(2, "usage: dnsq [-c config_dir] [-s] [-v] TYPE[,TYPE...] NAME | PTRNAME ADDR | "
                        "HASADDR NAME ADDR | REVERSE ADDR");
}

/* dnsq_print - one record in the format described above */
static void dnsq_print(const DNS_RR *rr)
{
    DNS_ADDR_STR pa;

    printf("%s %s %u ", dns_strtype(rr->type), rr->rname, rr->ttl);
    switch (rr->type) {
    case T_A:
    case T_AAAA:
        printf("%s", dns_rr_to_pa(rr, &pa) ? pa.buf : "?");
        break;
    case T_MX:
        printf("%u %s", rr->pref, rr->data);
        break;
    case T_SRV:
        printf("%u %u %u %s", rr->pref, rr->weight, rr->port, rr->data);
        break;
    case T_NS:
    case T_PTR:
    case T_CNAME:
        printf("%s", rr->data);
        break;
    case T_TXT:
        printf("\"%s\"", rr->data);
        break;
    default:
        for (size_t i = 0; i < rr->data_len; i++)
            printf("%02x", (unsigned char)rr->data[i]);
        break;
    }
    printf("%s\n", rr->dnssec_valid ? " ad" : "");
}

/* dnsq_types - parse "A,AAAA" into a 0-terminated array */
static void dnsq_types(const char *spec, unsigned *types, size_t max)
{
    char *copy = mystrdup(spec), *cp = copy, *tok;
    size_t n = 0;

    while ((tok = strsep(&cp, ",")) != NULL) {
        if (n + 1 >= max || (types[n] = dns_type(tok)) == 0)
            msg_fatal_status(2, "unknown record type: %s", tok);
        n++;
    }
    types[n] = 0;
    myfree(copy);
}

int main(int argc, char **argv)
{
    unsigned flags = 0, types[17];
    int ch, status;
    VSTRING *buf = vstring_alloc(100), *why = vstring_alloc(100);
    DNS_RR *list = NULL;

    msg_stderr_init("dnsq");
    while ((ch = getopt(argc, argv, "c:sv")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 's':
            flags |= DNS_REQ_FLAG_DNSSEC;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            dnsq_usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 2)
        dnsq_usage();
    if (strcmp(argv[0], "REVERSE") == 0) {
        const char *rev = dns_reverse_name(argv[1], buf);

        printf("%s\n", rev ? rev : "(malformed)");
        vstring_free(buf);
        vstring_free(why);
        return rev ? 0 : 1;
    }
    mail_conf_read();
    mail_params_init();
    if (strcmp(argv[0], "PTRNAME") == 0) {
        status = dns_addr_to_name(argv[1], buf);
        printf("status: %s\n", dns_strstatus(status));
        if (status == DNS_OK)
            printf("name: %s\n", vstring_str(buf));
    } else if (strcmp(argv[0], "HASADDR") == 0) {
        if (argc != 3)
            dnsq_usage();
        status = dns_name_has_addr(argv[1], argv[2]);
        printf("status: %s\n", dns_strstatus(status));
    } else {
        dnsq_types(argv[0], types, sizeof(types) / sizeof(types[0]));
        if (types[1] == 0)
            status = dns_lookup(argv[1], types[0], flags, &list, buf, why);
        else
            status = dns_lookup_v(argv[1], flags, &list, buf, why, types);
        printf("status: %s\n", dns_strstatus(status));
        if (status == DNS_OK) {
            printf("fqdn: %s\n", vstring_str(buf));
            for (DNS_RR *rr = list; rr != NULL; rr = rr->next)
                dnsq_print(rr);
        } else {
            printf("why: %s\n", vstring_str(why));
        }
        dns_rr_free(list);
    }
    vstring_free(buf);
    vstring_free(why);
    return status == DNS_OK ? 0 : 1;
}
