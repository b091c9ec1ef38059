/*
 * vstring_test - unit tests for vstring.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vstring.h"

/* Appending past the initial size grows the buffer and keeps the terminator. */
static void test_growth(void **state UNUSED)
{
    VSTRING *vp = vstring_alloc(1);

    for (int i = 0; i < 1000; i++)
        vstring_addch(vp, 'a' + i % 26);
    assert_int_equal(VSTRING_LEN(vp), 1000);
    assert_int_equal(strlen(vstring_str(vp)), 1000);
    assert_int_equal(vstring_str(vp)[27], 'b');
    vstring_free(vp);
}

/* Embedded NUL bytes are kept and counted. */
static void test_binary(void **state UNUSED)
{
    VSTRING *vp = vstring_alloc(4);

    vstring_memcpy(vp, "a\0b", 3);
    vstring_memcat(vp, "\0c", 2);
    assert_int_equal(VSTRING_LEN(vp), 5);
    assert_memory_equal(vstring_str(vp), "a\0b\0c", 6);
    vstring_free(vp);
}

static void test_copy_and_cat(void **state UNUSED)
{
    static const struct {
        const char *first;
        const char *second;
        size_t limit;
        const char *want;
    } cases[] = {
        {"", "", 10, ""},
        {"abc", "def", 10, "abcdef"},
        {"abc", "def", 2, "abcde"},
        {"x", "", 0, "x"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        VSTRING *vp = vstring_alloc(1);

        vstring_strcpy(vp, "junk");
        vstring_strcpy(vp, cases[i].first);
        vstring_strncat(vp, cases[i].second, cases[i].limit);
        assert_string_equal(vstring_str(vp), cases[i].want);
        assert_int_equal(VSTRING_LEN(vp), strlen(cases[i].want));
        vstring_free(vp);
    }
}

static void test_sprintf(void **state UNUSED)
{
    VSTRING *vp = vstring_alloc(2);
    char big[5000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    vstring_sprintf(vp, "%s=%d", "n", 42);
    assert_string_equal(vstring_str(vp), "n=42");
    vstring_sprintf_append(vp, "/%s", big);
    assert_int_equal(VSTRING_LEN(vp), 5 + sizeof(big) - 1);
    vstring_sprintf(vp, "%c", 'z');
    assert_string_equal(vstring_str(vp), "z");
    vstring_free(vp);
}

static void test_truncate_reset_export(void **state UNUSED)
{
    VSTRING *vp = vstring_alloc(10);

    vstring_strcpy(vp, "hello world");
    vstring_truncate(vp, 5);
    assert_string_equal(vstring_str(vp), "hello");
    vstring_truncate(vp, 50);
    assert_int_equal(VSTRING_LEN(vp), 5);
    vstring_reset(vp);
    assert_string_equal(vstring_str(vp), "");
    vstring_strcpy(vp, "kept");
    char *s = vstring_export(vp);

    assert_string_equal(s, "kept");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_copy_and_cat),
        cmocka_unit_test(test_sprintf),
        cmocka_unit_test(test_truncate_reset_export),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
