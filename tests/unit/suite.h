/*
 * Registering a unit suite's tests from a table, so that each test file
 * lists its tests instead of repeating the CUnit loop.
 */
#ifndef RP_TEST_SUITE_H
#define RP_TEST_SUITE_H

#include <stddef.h>

#include <CUnit/CUnit.h>

typedef struct test_case {
    const char *name;
    CU_TestFunc fn;
} test_case;

#define TEST_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* Adds the n tests of `tests` to `s` in order; `s`, or NULL if `s` is NULL
 * or CUnit refused a test (its error is set). */
CU_pSuite test_add_all(CU_pSuite s, const test_case *tests, size_t n);

#endif
