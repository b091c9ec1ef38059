/*
 * vstream_test - unit tests for vstream, over pipes, socketpairs and files.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "iostuff.h"
#include "vstream.h"
#include "vstring.h"

/* A stream that reads the given bytes from a pipe whose writer has closed. */
static VSTREAM *stream_from_bytes(const char *data, size_t len)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write_buf(fds[1], data, len, 1000), (ssize_t)len);
    close(fds[1]);
    return vstream_fdopen(fds[0], O_RDONLY);
}

/* A connected pair: a stream on one end, the raw descriptor of the other. */
static VSTREAM *stream_pair(int *peer)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    *peer = sv[1];
    return vstream_fdopen(sv[0], O_RDWR);
}

/* Wait for a forked helper and require that it exited with status 0. */
static void reap(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Line reading: newline kept or stripped, limits, binary data, a last partial line. */
static void test_fgets(void **state UNUSED)
{
    struct want {
        int result;
        const char *text;
        size_t len;
    };
    static const struct {
        const char *input;
        size_t input_len;
        size_t limit;
        bool keep_newline;
        struct want want[5];
    } cases[] = {
        {"", 0, 100, true, {{VSTREAM_LINE_EOF, "", 0}}},
        {"a\nbc\n", 5, 100, true, {{0, "a\n", 2}, {0, "bc\n", 3}, {VSTREAM_LINE_EOF, "", 0}}},
        {"a\nbc\n", 5, 100, false, {{0, "a", 1}, {0, "bc", 2}, {VSTREAM_LINE_EOF, "", 0}}},
        {"\n\nx", 3, 100, false, {{0, "", 0}, {0, "", 0}, {VSTREAM_LINE_PARTIAL, "x", 1}, {-1, "", 0}}},
        {"abcdef\ngh\n",
         10,
         4,
         true,
         {{VSTREAM_LINE_LIMIT, "abcd", 4}, {0, "ef\n", 3}, {0, "gh\n", 3}, {-1, "", 0}}},
        /* A newline right after the limit still completes the line. */
        {"abcd\nabcde\n", 11, 4, false, {{0, "abcd", 4}, {VSTREAM_LINE_LIMIT, "abcd", 4}, {0, "e", 1}}},
        {"abcd\n", 5, 4, true, {{0, "abcd\n", 5}, {-1, "", 0}}},
        {"ab\n", 3, 0, false, {{VSTREAM_LINE_LIMIT, "", 0}, {VSTREAM_LINE_LIMIT, "", 0}}},
        {"a\0b\r\nc", 6, VSTREAM_NO_LIMIT, false, {{0, "a\0b\r", 4}, {VSTREAM_LINE_PARTIAL, "c", 1}}},
    };
    VSTRING *vp = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        VSTREAM *s = stream_from_bytes(cases[i].input, cases[i].input_len);

        for (const struct want *w = cases[i].want; w < cases[i].want + 5 && w->text; w++) {
            int got = cases[i].keep_newline ? vstream_fgets_limit(vp, s, cases[i].limit)
                                            : vstream_fgets_nonl_limit(vp, s, cases[i].limit);

            assert_int_equal(got, w->result);
            assert_int_equal(VSTRING_LEN(vp), w->len);
            assert_memory_equal(vstring_str(vp), w->text, w->len);
        }
        assert_false(vstream_ferror(s));
        assert_int_equal(vstream_fclose(s), 0);
    }
    vstring_free(vp);
}

/* A line longer than the buffer arrives whole; getc and ungetc interleave. */
static void test_long_line_and_getc(void **state UNUSED)
{
    size_t len = 3 * VSTREAM_BUFSIZE + 17;
    char *data = malloc(len + 3);
    VSTRING *vp = vstring_alloc(10);

    memset(data, 'q', len);
    memcpy(data + len, "\nZ", 2);
    VSTREAM *s = stream_from_bytes(data, len + 2);

    assert_int_equal(vstream_getc(s), 'q');
    assert_int_equal(vstream_ungetc('Q', s), 'Q');
    assert_int_equal(vstream_fgets_nonl_limit(vp, s, VSTREAM_NO_LIMIT), VSTREAM_LINE_OK);
    assert_int_equal(VSTRING_LEN(vp), len);
    assert_int_equal(vstring_str(vp)[0], 'Q');
    assert_int_equal(vstring_str(vp)[len - 1], 'q');
    assert_int_equal(vstream_getc(s), 'Z');
    assert_int_equal(vstream_getc(s), VSTREAM_EOF);
    assert_true(vstream_feof(s));
    assert_false(vstream_ferror(s));
    /* Pushing back at end of file makes one more byte readable. */
    assert_int_equal(vstream_ungetc('z', s), 'z');
    assert_false(vstream_feof(s));
    assert_int_equal(vstream_getc(s), 'z');
    assert_int_equal(vstream_getc(s), VSTREAM_EOF);
    assert_int_equal(vstream_ungetc(VSTREAM_EOF, s), VSTREAM_EOF);
    vstream_fclose(s);
    vstring_free(vp);
    free(data);
}

/* One megabyte of binary data through a socketpair, in odd-sized pieces. */
static void test_binary_transfer(void **state UNUSED)
{
    enum { TOTAL = 1 << 20 };
    int peer;
    VSTREAM *s = stream_pair(&peer);
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        vstream_fclose(s); /* the parent's end; freed so valgrind sees no leak */
        VSTREAM *out = vstream_fdopen(peer, O_WRONLY);
        unsigned char chunk[1000];

        for (size_t done = 0; done < TOTAL; done += sizeof(chunk)) {
            for (size_t j = 0; j < sizeof(chunk); j++)
                chunk[j] = (unsigned char)((done + j) * 7);
            size_t n = TOTAL - done < sizeof(chunk) ? TOTAL - done : sizeof(chunk);

            if (vstream_fwrite(out, chunk, n) != 0)
                _exit(1);
        }
        _exit(vstream_fclose(out) == 0 ? 0 : 2);
    }
    close(peer);
    unsigned char *buf = malloc(TOTAL + 1);
    size_t got = 0;

    while (got < TOTAL) {
        size_t n = vstream_fread(s, buf + got, 777);

        if (n == 0)
            break;
        got += n;
    }
    assert_int_equal(got, TOTAL);
    for (size_t j = 0; j < TOTAL; j++)
        if (buf[j] != (unsigned char)(j * 7))
            fail_msg("byte %zu differs", j);
    assert_int_equal(vstream_fread(s, buf, 10), 0);
    assert_true(vstream_feof(s));
    reap(pid);
    vstream_fclose(s);
    free(buf);
}

/* Output is flushed before a read, so request-then-reply cannot deadlock. */
static void test_flush_before_read(void **state UNUSED)
{
    int peer;
    VSTREAM *s = stream_pair(&peer);
    VSTRING *vp = vstring_alloc(10);
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        VSTREAM *p = vstream_fdopen(peer, O_RDWR);

        vstream_set_timeout(p, 5);
        if (vstream_fgets_nonl_limit(vp, p, 100) != VSTREAM_LINE_OK)
            _exit(1);
        vstream_fprintf(p, "you said %s; %d bytes\n", vstring_str(vp), (int)VSTRING_LEN(vp));
        vstream_fclose(s); /* the parent's end; freed so valgrind sees no leak */
        vstring_free(vp);
        _exit(vstream_fclose(p) == 0 ? 0 : 2);
    }
    close(peer);
    vstream_set_timeout(s, 5);
    assert_int_equal(vstream_fputs("ping", s), 0);
    assert_int_equal(vstream_putc('\n', s), '\n');
    assert_int_equal(vstream_fgets_limit(vp, s, 100), VSTREAM_LINE_OK);
    assert_string_equal(vstring_str(vp), "you said ping; 4 bytes\n");
    reap(pid);
    vstream_fclose(s);
    vstring_free(vp);
}

/* Read and write time limits: flags are set, errno is ETIMEDOUT, nothing blocks. */
static void test_timeouts(void **state UNUSED)
{
    static const struct {
        bool write;
        bool in_seconds;
        int limit;
        int min_ms;
    } cases[] = {
        {false, false, 0, 0},
        {false, false, 80, 80},
        {false, true, 1, 1000},
        {true, false, 60, 60},
    };
    static char big[1 << 20];

    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int peer;
        VSTREAM *s = stream_pair(&peer);
        int64_t start = iostuff_clock_ms();

        if (cases[i].in_seconds)
            vstream_set_timeout(s, cases[i].limit);
        else
            vstream_set_timeout_ms(s, cases[i].limit, cases[i].limit);
        if (cases[i].write) {
            assert_int_equal(vstream_fwrite(s, big, sizeof(big)), VSTREAM_EOF);
            assert_int_equal(vstream_fflush(s), VSTREAM_EOF);
        } else {
            assert_int_equal(vstream_getc(s), VSTREAM_EOF);
        }
        int64_t elapsed = iostuff_clock_ms() - start;

        assert_true(elapsed >= cases[i].min_ms);
        assert_true(elapsed < cases[i].min_ms + 2000);
        assert_true(vstream_ftimeout(s));
        assert_true(vstream_ferror(s));
        assert_false(vstream_feof(s));
        assert_int_equal(vstream_errno(s), ETIMEDOUT);

        /* The failure is sticky until cleared. */
        start = iostuff_clock_ms();
        if (cases[i].write) {
            assert_int_equal(vstream_fputs("x", s), VSTREAM_EOF);
        } else {
            assert_int_equal(write(peer, "x", 1), 1);
            assert_int_equal(vstream_getc(s), VSTREAM_EOF);
            vstream_clearerr(s);
            assert_false(vstream_ftimeout(s));
            assert_int_equal(vstream_getc(s), 'x');
        }
        assert_true(iostuff_clock_ms() - start < 50);
        assert_int_equal(vstream_fclose(s), cases[i].write ? VSTREAM_EOF : 0);
        close(peer);
    }
}

/*
 * A peer that trickles one byte every 20 ms: a per-call limit of 100 ms
 * never fires, a deadline of 100 ms for the whole line does.
 */
static void test_deadline(void **state UNUSED)
{
    static const struct {
        bool deadline;
        int want;
        bool want_timeout;
    } cases[] = {
        {false, VSTREAM_LINE_OK, false},
        {true, VSTREAM_LINE_PARTIAL, true},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int peer;
        VSTREAM *s = stream_pair(&peer);
        VSTRING *vp = vstring_alloc(10);
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
            vstream_fclose(s);
            vstring_free(vp);
            for (int n = 0; n < 15; n++) {
                usleep(20000);
                if (write(peer, n < 14 ? "a" : "\n", 1) != 1)
                    _exit(0);
            }
            _exit(0);
        }
        close(peer);
        vstream_set_timeout_ms(s, 100, 100);
        vstream_set_deadline(s, cases[i].deadline);
        int64_t start = iostuff_clock_ms();

        assert_int_equal(vstream_fgets_nonl_limit(vp, s, 100), cases[i].want);
        assert_int_equal(vstream_ftimeout(s), cases[i].want_timeout);
        if (cases[i].want_timeout) {
            assert_true(iostuff_clock_ms() - start < 250);
            assert_true(VSTRING_LEN(vp) >= 1 && VSTRING_LEN(vp) < 14);
        } else {
            assert_string_equal(vstring_str(vp), "aaaaaaaaaaaaaa");
        }
        vstream_fclose(s);
        reap(pid);
        vstring_free(vp);
    }
}

/* A pluggable bottom layer: XOR on the wire, with a call counter as context. */
struct xor_layer {
    unsigned char key;
    int reads;
    int writes;
};

/* Read through the XOR layer. */
static ssize_t xor_read(int fd, void *buf, size_t len, int timeout_ms, void *context)
{
    struct xor_layer *x = context;
    ssize_t n = timed_read(fd, buf, len, timeout_ms);

    for (ssize_t i = 0; i < n; i++)
        ((unsigned char *)buf)[i] ^= x->key;
    x->reads++;
    return n;
}

/* Write through the XOR layer, at most 512 bytes per call. */
static ssize_t xor_write(int fd, const void *buf, size_t len, int timeout_ms, void *context)
{
    struct xor_layer *x = context;
    unsigned char tmp[512];

    if (len > sizeof(tmp))
        len = sizeof(tmp);
    for (size_t i = 0; i < len; i++)
        tmp[i] = ((const unsigned char *)buf)[i] ^ x->key;
    x->writes++;
    return timed_write(fd, tmp, len, timeout_ms);
}

/* Output and input pass through a replacement layer; switching drops unread input. */
static void test_pluggable_io(void **state UNUSED)
{
    struct xor_layer x = {.key = 0x20};
    int peer;
    VSTREAM *s = stream_pair(&peer);
    VSTRING *vp = vstring_alloc(10);
    char wire[32];

    /* Output written before the switch goes out in the clear, the rest encoded. */
    vstream_fputs("plain ", s);
    assert_int_equal(vstream_set_io(s, xor_read, xor_write, &x), 0);
    assert_ptr_equal(vstream_context(s), &x);
    vstream_fputs("hello\n", s);
    assert_int_equal(vstream_fflush(s), 0);
    assert_int_equal(read(peer, wire, sizeof(wire)), 12);
    assert_memory_equal(wire, "plain HELLO*", 12);
    assert_true(x.writes >= 1);

    /* Input is decoded by the layer. */
    assert_int_equal(write(peer, "WORLD*", 6), 6);
    assert_int_equal(vstream_fgets_limit(vp, s, 100), VSTREAM_LINE_OK);
    assert_string_equal(vstring_str(vp), "world\n");
    assert_int_equal(x.reads, 1);

    /* Unread input is dropped when the layer changes. */
    assert_int_equal(write(peer, "ABC", 3), 3);
    assert_int_equal(vstream_getc(s), 'a');
    assert_int_equal(vstream_peek(s), 2);
    assert_int_equal(vstream_set_io(s, NULL, NULL, NULL), 0);
    assert_int_equal(vstream_peek(s), 0);
    assert_int_equal(write(peer, "d", 1), 1);
    assert_int_equal(vstream_getc(s), 'd');
    vstream_fclose(s);
    close(peer);
    vstring_free(vp);
}

/* Files: open errors, formatted output, seek and tell with mixed reads and writes. */
static void test_files(void **state UNUSED)
{
    char dir[] = "/tmp/vstream_test.XXXXXX";
    char path[64];
    VSTRING *vp = vstring_alloc(10);
    char big[VSTREAM_BUFSIZE * 2];

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/file", dir);
    errno = 0;
    assert_null(vstream_fopen(path, O_RDONLY, 0));
    assert_int_equal(errno, ENOENT);

    VSTREAM *s = vstream_fopen(path, O_RDWR | O_CREAT | O_EXCL, 0600);

    assert_non_null(s);
    assert_string_equal(vstream_path(s), path);
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(vstream_fprintf(s, "%s %d\n%s\n", "line", 1, big), 0);
    assert_int_equal(vstream_ftell(s), 7 + sizeof(big));
    assert_int_equal(vstream_fseek(s, 0, SEEK_SET), 0);
    assert_int_equal(vstream_fgets_limit(vp, s, 100), VSTREAM_LINE_OK);
    assert_string_equal(vstring_str(vp), "line 1\n");
    assert_int_equal(vstream_ftell(s), 7);
    /* A write after a read lands where the reader stopped, not after the read-ahead. */
    assert_int_equal(vstream_fputs("XY", s), 0);
    assert_int_equal(vstream_ftell(s), 9);
    assert_int_equal(vstream_fseek(s, -2, SEEK_CUR), 7);
    assert_int_equal(vstream_getc(s), 'X');
    assert_int_equal(vstream_getc(s), 'Y');
    assert_int_equal(vstream_getc(s), 'b');
    assert_int_equal(vstream_fseek(s, 0, SEEK_END), (off_t)(7 + sizeof(big)));
    assert_int_equal(vstream_getc(s), VSTREAM_EOF);
    assert_true(vstream_feof(s));
    assert_int_equal(vstream_fclose(s), 0);

    s = vstream_fopen(path, O_RDONLY, 0);
    assert_non_null(s);
    assert_int_equal(vstream_fgets_nonl_limit(vp, s, 100), VSTREAM_LINE_OK);
    assert_string_equal(vstring_str(vp), "line 1");
    assert_int_equal(vstream_fgets_nonl_limit(vp, s, VSTREAM_NO_LIMIT), VSTREAM_LINE_OK);
    assert_int_equal(VSTRING_LEN(vp), sizeof(big) - 1);
    assert_memory_equal(vstring_str(vp), "XYbb", 4);
    vstream_fclose(s);
    unlink(path);
    rmdir(dir);
    vstring_free(vp);
}

/* The logical position computed the slow way: the descriptor's offset. */
static off_t kernel_tell(VSTREAM *s)
{
    return lseek(vstream_fileno(s), 0, SEEK_CUR) - (off_t)(s->rend - s->rpos) + (off_t)s->wlen;
}

/*
 * vstream_ftell() keeps the file offset itself (no lseek): it must agree
 * with the kernel after reads, read-ahead, writes, seeks and on a file
 * opened with O_APPEND (writes go to the end).
 */
static void test_ftell_without_lseek(void **state UNUSED)
{
    char dir[] = "/tmp/vstream_test.XXXXXX";
    char path[64];
    VSTRING *vp = vstring_alloc(10);
    VSTREAM *s;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/file", dir);
    s = vstream_fopen(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_non_null(s);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(vstream_fprintf(s, "line %d\n", i), 0);
    assert_int_equal(vstream_ftell(s), kernel_tell(s));
    assert_int_equal(vstream_fseek(s, 5, SEEK_SET), 5);
    assert_int_equal(vstream_fgets_limit(vp, s, 100), VSTREAM_LINE_OK);
    assert_int_equal(vstream_ftell(s), 7);
    assert_int_equal(vstream_ftell(s), kernel_tell(s));
    assert_int_equal(vstream_fputs("Z", s), 0);
    assert_int_equal(vstream_ftell(s), kernel_tell(s));
    assert_int_equal(vstream_fflush(s), 0);
    assert_int_equal(vstream_ftell(s), 8);
    assert_int_equal(vstream_fseek(s, -3, SEEK_END), 18890 - 3);
    assert_int_equal(vstream_ftell(s), kernel_tell(s));
    assert_int_equal(vstream_fseek(s, 100, SEEK_CUR), 18890 + 97);
    assert_int_equal(vstream_ftell(s), kernel_tell(s));
    vstream_fclose(s);

    /* Opened with O_APPEND at offset 0: a write moves to the end. */
    s = vstream_fopen(path, O_RDWR | O_APPEND, 0);
    assert_non_null(s);
    assert_int_equal(vstream_ftell(s), 0);
    assert_int_equal(vstream_fputs("tail\n", s), 0);
    assert_int_equal(vstream_fflush(s), 0);
    assert_int_equal(vstream_ftell(s), kernel_tell(s));
    assert_true(vstream_ftell(s) > 5);
    vstream_fclose(s);
    unlink(path);
    rmdir(dir);
    vstring_free(vp);
}

/*
 * A seek to a position inside the read buffer moves within the buffer
 * (the kernel offset stays where the read left it); one outside it, or
 * after a write, goes to the kernel. Reads after either are right.
 */
static void test_fseek_within_buffer(void **state UNUSED)
{
    char dir[] = "/tmp/vstream_test.XXXXXX";
    char path[64];
    char buf[16];
    VSTREAM *s;
    off_t kernel;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/file", dir);
    s = vstream_fopen(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_non_null(s);
    for (int i = 0; i < 100; i++)
        assert_int_equal(vstream_fprintf(s, "%09d\n", i), 0); /* 1,000 bytes */
    assert_int_equal(vstream_fflush(s), 0);
    assert_int_equal(vstream_fseek(s, 0, SEEK_SET), 0);
    assert_int_equal(vstream_fread(s, buf, 10), 10);
    kernel = lseek(vstream_fileno(s), 0, SEEK_CUR);
    assert_int_equal(kernel, 1000); /* the whole file is in the buffer */

    assert_int_equal(vstream_fseek(s, 500, SEEK_SET), 500);
    assert_int_equal(lseek(vstream_fileno(s), 0, SEEK_CUR), kernel);
    assert_int_equal(vstream_fread(s, buf, 10), 10);
    assert_memory_equal(buf, "000000050\n", 10);
    assert_int_equal(vstream_fseek(s, -20, SEEK_CUR), 490);
    assert_int_equal(vstream_fread(s, buf, 10), 10);
    assert_memory_equal(buf, "000000049\n", 10);
    assert_int_equal(vstream_ftell(s), 500);
    assert_int_equal(vstream_fseek(s, 1000, SEEK_SET), 1000); /* the buffer's end */
    assert_int_equal(vstream_fread(s, buf, 10), 0);
    assert_int_equal(vstream_fseek(s, 0, SEEK_SET), 0); /* after end of file */
    assert_int_equal(vstream_fread(s, buf, 10), 10);
    assert_memory_equal(buf, "000000000\n", 10);
    assert_int_equal(lseek(vstream_fileno(s), 0, SEEK_CUR), kernel);

    /* Writing after a seek inside the buffer writes at the logical position. */
    assert_int_equal(vstream_fseek(s, 20, SEEK_SET), 20);
    assert_int_equal(vstream_fputs("X", s), 0);
    assert_int_equal(vstream_fflush(s), 0);
    assert_int_equal(vstream_ftell(s), 21);
    assert_int_equal(vstream_fseek(s, 18, SEEK_SET), 18);
    assert_int_equal(vstream_fread(s, buf, 4), 4);
    assert_memory_equal(buf, "1\nX0", 4);

    /* Outside the buffer and from the end: the kernel's answer. */
    assert_int_equal(vstream_fseek(s, -10, SEEK_END), 990);
    assert_int_equal(vstream_fread(s, buf, 10), 10);
    assert_memory_equal(buf, "000000099\n", 10);
    vstream_fclose(s);
    unlink(path);
    rmdir(dir);
}

/* Write errors surface in vstream_fflush() and vstream_fclose(). */
static void test_write_errors(void **state UNUSED)
{
    int peer;
    VSTREAM *s = stream_pair(&peer);

    signal(SIGPIPE, SIG_IGN);
    close(peer);
    assert_int_equal(vstream_fputs("lost", s), 0);
    assert_int_equal(vstream_fflush(s), VSTREAM_EOF);
    assert_int_equal(vstream_errno(s), EPIPE);
    assert_true(vstream_ferror(s));
    assert_false(vstream_ftimeout(s));
    assert_int_equal(vstream_fputs("more", s), VSTREAM_EOF);
    assert_int_equal(vstream_fclose(s), VSTREAM_EOF);
    assert_int_equal(errno, EPIPE);

    /* Output buffered when the peer goes away is reported by close. */
    s = stream_pair(&peer);
    close(peer);
    assert_int_equal(vstream_fputs("lost", s), 0);
    assert_int_equal(vstream_fclose(s), VSTREAM_EOF);

    /* vstream_fdclose() leaves the descriptor usable. */
    s = stream_pair(&peer);
    int fd = vstream_fileno(s);

    vstream_fputs("kept", s);
    assert_int_equal(vstream_fdclose(s), 0);
    assert_int_equal(write(fd, "!", 1), 1);
    char buf[8];

    assert_int_equal(read(peer, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "kept!", 5);
    close(fd);
    close(peer);
}

/* The standard streams: vstream_out buffers, vstream_err writes through. */
static void test_std_streams(void **state UNUSED)
{
    static const struct {
        VSTREAM *stream;
        int fd;
        bool buffered;
    } cases[] = {
        {vstream_out, 1, true},
        {vstream_err, 2, false},
    };
    char buf[64];

    assert_int_equal(vstream_fileno(vstream_in), 0);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int fds[2];
        int saved = dup(cases[i].fd);

        assert_int_equal(pipe(fds), 0);
        assert_true(non_blocking(fds[0], true) >= 0);
        assert_int_equal(dup2(fds[1], cases[i].fd), cases[i].fd);
        assert_int_equal(vstream_fileno(cases[i].stream), cases[i].fd);
        assert_int_equal(vstream_fprintf(cases[i].stream, "std %d\n", cases[i].fd), 0);
        ssize_t n = read(fds[0], buf, sizeof(buf));

        if (cases[i].buffered) {
            assert_int_equal(n, -1);
            assert_int_equal(vstream_fflush(cases[i].stream), 0);
            n = read(fds[0], buf, sizeof(buf));
        }
        assert_int_equal(n, 6);
        assert_memory_equal(buf, cases[i].fd == 1 ? "std 1\n" : "std 2\n", 6);
        assert_int_equal(dup2(saved, cases[i].fd), cases[i].fd);
        close(saved);
        close(fds[0]);
        close(fds[1]);
    }
}

/* Run the tests. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fgets),           cmocka_unit_test(test_long_line_and_getc),
        cmocka_unit_test(test_binary_transfer), cmocka_unit_test(test_flush_before_read),
        cmocka_unit_test(test_timeouts),        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_pluggable_io),    cmocka_unit_test(test_files),
        cmocka_unit_test(test_ftell_without_lseek), cmocka_unit_test(test_fseek_within_buffer),
        cmocka_unit_test(test_write_errors),    cmocka_unit_test(test_std_streams),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
