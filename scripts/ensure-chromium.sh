#!/usr/bin/env bash
# ensure-chromium.sh makes sure a headless Chromium is available for the
# browser tests (the web page's tests drive Debian's `chromium` package).
#
# Idempotent: does nothing when a Chromium is already installed. When it is
# missing and we are root on a Debian/Ubuntu machine, installs it with apt-get;
# otherwise prints how to install it and exits non-zero.
#
# Prints the path of the browser on success. CHROMIUM=/path overrides the search.
set -euo pipefail

find_chromium() {
	local c
	for c in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser "$(command -v chromium 2>/dev/null || true)"; do
		if [[ -n "$c" && -x "$c" ]]; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

if path=$(find_chromium); then
	echo "$path"
	exit 0
fi

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
	echo "chromium not found; installing Debian's chromium package" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends chromium >&2
	if path=$(find_chromium); then
		echo "$path"
		exit 0
	fi
	echo "apt-get installed chromium but no chromium binary was found" >&2
	exit 1
fi

cat >&2 <<'MSG'
chromium is needed by the browser tests and is not installed.
Install it, then run the tests again:
  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y chromium
  Fedora:         sudo dnf install -y chromium
  macOS:          brew install --cask chromium
or point CHROMIUM at an existing Chrome/Chromium binary: CHROMIUM=/path/to/chrome make deps
MSG
exit 1
