/*
 * CUnit driver for every suite in tests/unit/. With a suite name as argument
 * runs only that suite (ctest runs each as unit.<name>). The exit status is
 * non-zero on any failed assertion (CU_get_number_of_failures()), a registry
 * error, or an unknown suite name.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "suites.h"

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    int found = 0;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "testdriver: %s\n", CU_get_error_msg());
        return 2;
    }
    for (size_t i = 0; rtpproc_suites[i].name != NULL; i++) {
        if (only != NULL && strcmp(only, rtpproc_suites[i].name) != 0)
            continue;
        found++;
        if (rtpproc_suites[i].make() == NULL) {
            fprintf(stderr, "testdriver: suite %s: %s\n", rtpproc_suites[i].name,
                    CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    if (found == 0) {
        fprintf(stderr, "testdriver: no suite named '%s'\n", only ? only : "");
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS) {
        fprintf(stderr, "testdriver: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    unsigned failures = CU_get_number_of_failures();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (run == 0) {
        fprintf(stderr, "testdriver: no test ran\n");
        return 2;
    }
    return failures == 0 ? 0 : 1;
}
