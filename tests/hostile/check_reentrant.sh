#!/usr/bin/env bash
# check_reentrant.sh - no library of the project calls a C library function that keeps hidden
# state between calls (issue 15: strtok in the transformer made twins differ between runs with
# several threads). The _r variants and our own *_strerror functions are fine; getenv is read
# only, and setenv happens once in the executables before any thread starts.
# Usage: check_reentrant.sh SOURCE_ROOT
set -uo pipefail
root=$1
funcs='strtok|strerror|localtime|gmtime|ctime|asctime|rand|srand|tmpnam|strsignal|inet_ntoa|gethostbyname|getservbyname|getpwnam|getpwuid|getgrnam|getgrgid|ttyname|getlogin|ptsname|dirname|ecvt|fcvt|gcvt|drand48|lrand48|mrand48|mblen|mbtowc|wctomb|hcreate|hsearch|hdestroy|l64a|crypt|setlocale|localeconv|getopt|readdir_r'
hits=$(cd "$root" && grep -nE "(^|[^A-Za-z0-9_.>])($funcs)[[:space:]]*\(" \
    transform/*.c engine/*.c lint/*.c server/*.c protocol/*.c runtime/src/*.c limiter/*.c 2>/dev/null |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
if [ -n "$hits" ]; then
    echo "non-reentrant C library calls in library code (use the _r variant or our own):"
    echo "$hits"
    exit 1
fi
echo "ok: no non-reentrant C library call in transform/ engine/ lint/ server/ protocol/ runtime/src/ limiter/"
