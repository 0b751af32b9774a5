# SPDX-License-Identifier: MIT
# Helpers of the rules tests (sourced after ../common.sh, not run).
# shellcheck shell=bash

TA_RULES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TA_CHECK_REPORT=$TA_RULES_DIR/../check-report.py

# ta_rules_need_python: the report checks need Debian's interpreter.
ta_rules_need_python() {
	ta_need_exe "$TA_PY"
}

# ta_check_report REPORT ARGS...: check-report.py on REPORT; fail, showing
# the report, unless every check holds.
ta_check_report() {
	local report=$1
	shift
	if ! "$TA_PY" "$TA_CHECK_REPORT" "$report" "$@"; then
		ta_show report "$report"
		ta_fail "check-report.py $report $*"
	fi
}

# ta_report_py REPORT CODE: run CODE with `r` the parsed REPORT and `groups`
# a dict name -> group; CODE raises (or calls fail(msg)) when a check does
# not hold.
ta_report_py() {
	local report=$1 code=$2
	if ! "$TA_PY" - "$report" <<EOPY; then
import json, sys
r = json.load(open(sys.argv[1]))
groups = {g["name"]: g for g in r["groups"]}
def fail(msg):
    print("report check: FAIL:", msg)
    sys.exit(1)
$code
EOPY
		ta_show report "$report"
		ta_fail "a check of $report did not hold"
	fi
}
