/*
 * anvilq - a test client of the anvil service through anvil_clnt.h;
 * built for the end-to-end tests only (build/test-libexec), never
 * installed.
 *
 *   anvilq [-c config_dir] [-v] [COMMAND ...]
 *
 * Runs each COMMAND (or, without arguments, each line of standard input)
 * on one client, printing one line per command at once:
 *
 *   connect SERVICE ADDR     -> "connect status=S count=N rate=R"
 *   mail SERVICE ADDR        -> "mail status=S rate=R"
 *   rcpt SERVICE ADDR        -> "rcpt status=S rate=R"
 *   disconnect SERVICE ADDR  -> "disconnect status=S"
 *   lookup SERVICE ADDR      -> "lookup status=S count=N rate=R" (a raw
 *                               request on its own connection)
 *   reopen                   -> "reopen": a new client (new connection)
 *
 * Errors: a bad command prints "error: ..." and goes on.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anvil_clnt.h"
#include "argv.h"
#include "attr.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_proto.h"
#include "msg.h"
#include "msg_stderr.h"
#include "vstream.h"
#include "vstring.h"

/* A lookup request, sent without the client library (it has none). */
static void anvilq_lookup(const char *service, const char *addr)
{
    VSTREAM *stream = mail_connect(MAIL_CLASS_PRIVATE, "anvil", BLOCKING);
    VSTRING *ident = vstring_alloc(100);
    int status = -1;
    int count = 0;
    int rate = 0;

    vstring_sprintf(ident, "%s:%s", service, addr);
    if (stream == NULL ||
        attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_REQ, "lookup"),
                   SEND_ATTR_STR("ident", vstring_str(ident)), ATTR_TYPE_END) != 0 ||
        attr_scan(stream, ATTR_FLAG_STRICT, RECV_ATTR_INT(MAIL_ATTR_STATUS, &status),
                  RECV_ATTR_INT("count", &count), RECV_ATTR_INT("rate", &rate), ATTR_TYPE_END) != 3)
        status = -1;
    vstream_fprintf(vstream_out, "lookup status=%d count=%d rate=%d\n", status, count, rate);
    if (stream)
        vstream_fclose(stream);
    vstring_free(ident);
}

/* Run one command line. */
static void anvilq_command(ANVIL_CLNT **anvil, const char *line)
{
    ARGV *av = argv_split(line, " \t\r\n");
    int count = 0;
    int rate = 0;
    int st;

    if (av->argc == 1 && strcmp(av->argv[0], "reopen") == 0) {
        anvil_clnt_free(*anvil);
        *anvil = anvil_clnt_create();
        vstream_fprintf(vstream_out, "reopen\n");
    } else if (av->argc != 3) {
        vstream_fprintf(vstream_out, "error: bad command \"%s\"\n", line);
    } else if (strcmp(av->argv[0], "connect") == 0) {
        st = anvil_clnt_connect(*anvil, av->argv[1], av->argv[2], &count, &rate);
        vstream_fprintf(vstream_out, "connect status=%d count=%d rate=%d\n", st, count, rate);
    } else if (strcmp(av->argv[0], "mail") == 0) {
        st = anvil_clnt_mail(*anvil, av->argv[1], av->argv[2], &rate);
        vstream_fprintf(vstream_out, "mail status=%d rate=%d\n", st, rate);
    } else if (strcmp(av->argv[0], "rcpt") == 0) {
        st = anvil_clnt_rcpt(*anvil, av->argv[1], av->argv[2], &rate);
        vstream_fprintf(vstream_out, "rcpt status=%d rate=%d\n", st, rate);
    } else if (strcmp(av->argv[0], "disconnect") == 0) {
        st = anvil_clnt_disconnect(*anvil, av->argv[1], av->argv[2]);
        vstream_fprintf(vstream_out, "disconnect status=%d\n", st);
    } else if (strcmp(av->argv[0], "lookup") == 0) {
        anvilq_lookup(av->argv[1], av->argv[2]);
    } else {
        vstream_fprintf(vstream_out, "error: bad command \"%s\"\n", line);
    }
    vstream_fflush(vstream_out);
    argv_free(av);
}

int main(int argc, char **argv)
{
    ANVIL_CLNT *anvil;
    VSTRING *line;
    int ch;

    msg_stderr_init("anvilq");
    while ((ch = getopt(argc, argv, "c:v")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal("usage: anvilq [-c config_dir] [-v] [command ...]");
        }
    }
    mail_conf_read();
    mail_params_init();
    anvil = anvil_clnt_create();
    if (optind < argc) {
        for (int i = optind; i < argc; i++)
            anvilq_command(&anvil, argv[i]);
    } else {
        line = vstring_alloc(100);
        while (vstream_fgets_nonl_limit(line, vstream_in, 1000) != VSTREAM_LINE_EOF)
            anvilq_command(&anvil, vstring_str(line));
        vstring_free(line);
    }
    anvil_clnt_free(anvil);
    return 0;
}
