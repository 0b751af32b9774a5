/* SPDX-License-Identifier: MIT */
/* LTTng-UST emission; without the lttng feature only ta_statedump remains. */
#include <errno.h>

#include "ta-internal.h"
#include "trace-internal.h"

#if !TA_WITH_LTTNG
TA_API int ta_statedump(void)
{
	return -ENOSYS;
}
#endif
