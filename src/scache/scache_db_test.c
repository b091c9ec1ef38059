/*
 * scache_db_test - unit tests for the connection cache store: a scripted
 * sequence of saves, lookups and expiry runs at given times with the
 * properties each lookup must return (newest connection first, lookups by
 * destination through endpoint bindings, misses after a TTL, a binding
 * whose endpoint has no connection left), checks that expired and freed
 * descriptors are closed, and the statistics lines.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "argv.h"
#include "scache_db.h"
#include "vstring.h"

typedef enum { OP_SAVE_ENDP, OP_SAVE_DEST, OP_FIND_ENDP, OP_FIND_DEST, OP_EXPIRE } OP;

static const struct {
    OP op;
    int at;            /* ms */
    int ttl;           /* ms, saves */
    const char *label; /* endpoint or destination */
    const char *prop;  /* saves: the properties; finds: the expected ones (NULL: miss) */
    const char *endp;  /* save_dest: the endpoint; find_dest: expected endpoint properties */
    int closed;        /* expire: connections closed */
} script[] = {
    {OP_SAVE_ENDP, 0, 2000, "smtp:192.0.2.1:25", "c1", NULL, 0},
    {OP_SAVE_DEST, 0, 2000, "smtp:example.com", "d1", "smtp:192.0.2.1:25", 0},
    {OP_SAVE_ENDP, 100, 2000, "smtp:192.0.2.1:25", "c2", NULL, 0},
    /* Newest first, by endpoint. */
    {OP_FIND_ENDP, 200, 0, "smtp:192.0.2.1:25", "c2", NULL, 0},
    /* By destination: the remaining connection of the bound endpoint. */
    {OP_FIND_DEST, 300, 0, "smtp:example.com", "d1", "c1", 0},
    {OP_FIND_DEST, 400, 0, "smtp:example.com", NULL, NULL, 0},
    {OP_FIND_ENDP, 400, 0, "smtp:192.0.2.1:25", NULL, NULL, 0},
    {OP_FIND_DEST, 400, 0, "smtp:other.example", NULL, NULL, 0},
    /* Two endpoints for one destination; a rebinding replaces the old one. */
    {OP_SAVE_ENDP, 1000, 1000, "smtp:192.0.2.2:25", "c3", NULL, 0},
    {OP_SAVE_DEST, 1000, 3000, "smtp:example.com", "d2", "smtp:192.0.2.2:25", 0},
    {OP_SAVE_ENDP, 1500, 3000, "smtp:192.0.2.1:25", "c4", NULL, 0},
    {OP_SAVE_DEST, 1500, 1000, "smtp:example.com", "d1b", "smtp:192.0.2.1:25", 0},
    /* c3 expired at 2000: the other endpoint is used. */
    {OP_FIND_DEST, 2100, 0, "smtp:example.com", "d1b", "c4", 0},
    /* The d1b binding ends at 2500; d2 remains but its endpoint is empty. */
    {OP_SAVE_ENDP, 2200, 500, "smtp:192.0.2.1:25", "c5", NULL, 0},
    {OP_FIND_DEST, 2600, 0, "smtp:example.com", NULL, NULL, 0},
    {OP_EXPIRE, 2800, 0, NULL, NULL, NULL, 1},
    {OP_FIND_ENDP, 2800, 0, "smtp:192.0.2.1:25", NULL, NULL, 0},
    {OP_SAVE_ENDP, 3000, 1000, "lmtp:/var/run/lmtp", "c6", NULL, 0},
    {OP_SAVE_ENDP, 3000, 5000, "lmtp:/var/run/lmtp", "c7", NULL, 0},
    {OP_EXPIRE, 4000, 0, NULL, NULL, NULL, 1},
    {OP_FIND_ENDP, 4100, 0, "lmtp:/var/run/lmtp", "c7", NULL, 0},
};

/* Is FD an open descriptor? */
static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static void test_script(void **unused)
{
    SCACHE_DB *db = scache_db_create();
    VSTRING *prop = vstring_alloc(10);
    VSTRING *endp_prop = vstring_alloc(10);
    int saved_fd[32];
    int nsaved = 0;

    (void)unused;
    for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
        int fd;
        int pfd[2];

        switch (script[i].op) {
        case OP_SAVE_ENDP:
            assert_int_equal(pipe(pfd), 0);
            close(pfd[1]);
            saved_fd[nsaved++] = pfd[0];
            scache_db_save_endp(db, script[i].at, script[i].ttl, script[i].label, script[i].prop, pfd[0]);
            break;
        case OP_SAVE_DEST:
            scache_db_save_dest(db, script[i].at, script[i].ttl, script[i].label, script[i].prop,
                                script[i].endp);
            break;
        case OP_FIND_ENDP:
            fd = scache_db_find_endp(db, script[i].at, script[i].label, prop);
            if (script[i].prop == NULL) {
                assert_int_equal(fd, -1);
            } else {
                assert_true(fd >= 0);
                assert_string_equal(vstring_str(prop), script[i].prop);
                close(fd);
            }
            break;
        case OP_FIND_DEST:
            fd = scache_db_find_dest(db, script[i].at, script[i].label, prop, endp_prop);
            if (script[i].prop == NULL) {
                assert_int_equal(fd, -1);
            } else {
                assert_true(fd >= 0);
                assert_string_equal(vstring_str(prop), script[i].prop);
                assert_string_equal(vstring_str(endp_prop), script[i].endp);
                close(fd);
            }
            break;
        case OP_EXPIRE:
            assert_int_equal(scache_db_expire(db, script[i].at), script[i].closed);
            break;
        }
    }
    /* Every descriptor was handed back or closed by the cache. */
    scache_db_free(db);
    for (int i = 0; i < nsaved; i++)
        assert_false(fd_open(saved_fd[i]));
    vstring_free(prop);
    vstring_free(endp_prop);
}

static void test_free_closes(void **unused)
{
    SCACHE_DB *db = scache_db_create();
    int pfd[2];
    int dests, endps, conns;

    (void)unused;
    assert_int_equal(pipe(pfd), 0);
    scache_db_save_endp(db, 0, 1000, "smtp:a:25", "p", pfd[0]);
    scache_db_save_dest(db, 0, 1000, "smtp:a", "", "smtp:a:25");
    scache_db_count(db, &dests, &endps, &conns);
    assert_int_equal(dests, 1);
    assert_int_equal(endps, 1);
    assert_int_equal(conns, 1);
    assert_true(fd_open(pfd[0]));
    scache_db_free(db);
    assert_false(fd_open(pfd[0]));
    close(pfd[1]);
}

static void test_stats(void **unused)
{
    SCACHE_DB *db = scache_db_create();
    ARGV *lines = argv_alloc(4);
    VSTRING *prop = vstring_alloc(10);
    VSTRING *endp_prop = vstring_alloc(10);
    int pfd[2];
    int fd;

    (void)unused;
    /* Nothing happened: no report. */
    scache_db_stats(db, lines);
    assert_int_equal(lines->argc, 0);

    assert_int_equal(pipe(pfd), 0);
    close(pfd[1]);
    scache_db_save_endp(db, 0, 1000, "smtp:a:25", "p", pfd[0]);
    scache_db_save_dest(db, 0, 1000, "smtp:a", "", "smtp:a:25");
    assert_int_equal(scache_db_find_dest(db, 1, "smtp:b", prop, endp_prop), -1);
    fd = scache_db_find_dest(db, 1, "smtp:a", prop, endp_prop);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(scache_db_find_dest(db, 1, "smtp:a", prop, endp_prop), -1);
    assert_int_equal(scache_db_find_endp(db, 1, "smtp:a:25", prop), -1);
    scache_db_stats(db, lines);
    assert_int_equal(lines->argc, 4);
    assert_true(strncmp(lines->argv[0], "statistics: start interval ", 27) == 0);
    assert_string_equal(lines->argv[1], "statistics: domain lookup hits=1 miss=2 success=33%");
    assert_string_equal(lines->argv[2], "statistics: address lookup hits=0 miss=1 success=0%");
    assert_string_equal(lines->argv[3], "statistics: max simultaneous domains=1 addresses=1 connection=1");
    /* A new interval starts empty. */
    argv_truncate(lines, 0);
    scache_db_stats(db, lines);
    assert_int_equal(lines->argc, 0);
    argv_free(lines);
    vstring_free(prop);
    vstring_free(endp_prop);
    scache_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_free_closes),
        cmocka_unit_test(test_stats),
    };

    setenv("TZ", "UTC", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
