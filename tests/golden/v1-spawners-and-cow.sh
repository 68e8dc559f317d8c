#!/bin/bash
F=/work/main/build/tests/fixtures
$F/spawners vfork_exec >/dev/null
$F/spawners system >/dev/null
$F/spawners popen >/dev/null
/work/main/build/tests/e2e/reports/cow_writer --share 8 --child-writes 3 --parent-writes 1 --hold-ms 300 --children 1
x=$(echo hi); sh -c 'exit 3'; true
