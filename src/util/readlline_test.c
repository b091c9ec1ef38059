/*
 * readlline_test - unit tests for readlline: the logical-line rules of
 * config.md 2.1.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "readlline.h"

/* Read all logical lines of text, joined as "N:line|" (N = first line). */
static char *read_all(const char *text, size_t len)
{
    FILE *fp = fmemopen((void *) text, len, "r");
    READLLINE rl = {fp, "test.cf", 0};
    VSTRING *buf = vstring_alloc(10);
    VSTRING *out = vstring_alloc(10);
    int first;

    while (readlline(buf, &rl, &first))
        vstring_sprintf_append(out, "%d:%s|", first, vstring_str(buf));
    fclose(fp);
    vstring_free(buf);
    return vstring_export(out);
}

static void test_rules(void **state UNUSED)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"", ""},
        {"a = b\n", "1:a = b|"},
        {"a = b", "1:a = b|"},
        {"a = b,\n    c\n", "1:a = b,    c|"},
        {"a = b\n# x\n  c\n", "1:a = b  c|"},
        {"a = b\n\n  c\nd = e\n", "1:a = b  c|4:d = e|"},
        {"a = b\n  # indented comment\n\tc\n", "1:a = b\tc|"},
        {"  x = y\nm = n\n", "2:m = n|"},
        {"a = b\r\n  c\r\n", "1:a = b  c|"},
        {"a = b \\\nc = d\n", "1:a = b \\|2:c = d|"},
        {"# only\n   \n", ""},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = read_all(cases[i].text, strlen(cases[i].text));

        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
        free(got);
    }
}

/* Text after a NUL byte on a line is dropped. */
static void test_nul_byte(void **state UNUSED)
{
    static const char text[] = "a = b\0zz\nc = d\n";
    char *got = read_all(text, sizeof(text) - 1);

    assert_string_equal(got, "1:a = b|2:c = d|");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_nul_byte),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
