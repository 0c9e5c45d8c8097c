#!/usr/bin/env bash
# After the e2e suite: no host log of the whole run holds any credential that any test used.
# The harness keeps each host's log (NAME.log) and the credentials its test used (NAME.secrets)
# in the directory given; a credential from one test must not appear in any test's log.
set -euo pipefail
dir=${1:?usage: no_secrets.sh E2E_LOG_DIR}
shopt -s nullglob
logs=("$dir"/*.log)
secrets=("$dir"/*.secrets)
if (( ${#logs[@]} == 0 )); then
    echo "no e2e host logs in $dir: did the e2e suite run?" >&2
    exit 1
fi
# Values under 8 characters (a test's "x") would match anything.
all=$(mktemp)
trap 'rm -f "$all"' EXIT
cat "${secrets[@]}" | awk 'length($0) >= 8' | sort -u > "$all"
if found=$(grep -F -l -f "$all" "${logs[@]}"); then
    echo "a credential appears in these host logs:" >&2
    echo "$found" >&2
    exit 1
fi
echo "no credential in ${#logs[@]} host logs ($(wc -l < "$all") credentials searched for)"
