#!/bin/sh
# Stands in for a test whose tool was not found when the build was configured, so that the test
# fails with what is missing instead of disappearing. Usage: missing-tool.sh TOOL [PACKAGE]
tool=${1:?usage: missing-tool.sh TOOL [PACKAGE]}
package=${2:-$tool}
echo "$tool not found at configure time: install $package (scripts/setup.sh does) and" \
    "reconfigure (meson setup --reconfigure BUILD)" >&2
exit 1
