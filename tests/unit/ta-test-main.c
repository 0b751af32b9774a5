/* SPDX-License-Identifier: MIT */
/* main() of every Check-based unit test program. */
#include <stdlib.h>

#include "ta-check.h"

TCase *tcase_new(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, TA_TCASE_TIMEOUT);
	return tc;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* Before the runner forks: every test process inherits the table. */
	tw_init();
	sr = srunner_create(unit_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
