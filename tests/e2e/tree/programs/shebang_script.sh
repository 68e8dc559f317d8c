#!/bin/sh
# Run by path from the tree tests: the kernel execs the interpreter, the tree keeps the script.
/bin/true
exit 9
