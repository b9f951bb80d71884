#!/usr/bin/env bash
# ensure-chromium.sh makes sure what the browser test needs is installed: a
# headless Chromium (the web page's test drives Debian's `chromium` package)
# and a CJK font (the page is in Chinese; without a CJK font every character
# is a box and the layout the test checks and screenshots is wrong).
#
# Idempotent and quick when everything is there (no apt-get at all). When
# something is missing and we are root on a Debian/Ubuntu machine, installs
# it with apt-get (chromium; fonts-wqy-microhei, else fonts-noto-cjk);
# otherwise prints how to install it and exits non-zero. `make test` fails
# when this script fails, unless SKIP_BROWSER=1.
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

# have_cjk_font: a font covering Chinese is known to fontconfig (which
# Chromium uses on Linux), or one of the Debian packages is installed.
have_cjk_font() {
	if command -v fc-list >/dev/null && [[ -n "$(fc-list :lang=zh family 2>/dev/null)" ]]; then
		return 0
	fi
	local p
	for p in fonts-wqy-microhei fonts-noto-cjk; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			return 0
		fi
	done
	return 1
}

missing=()
find_chromium >/dev/null || missing+=(chromium)
have_cjk_font || missing+=(cjk-font)

if [[ ${#missing[@]} -eq 0 ]]; then
	find_chromium
	exit 0
fi

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
	echo "missing for the browser test: ${missing[*]}; installing with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	for m in "${missing[@]}"; do
		case $m in
		chromium) apt-get install -y -qq --no-install-recommends chromium >&2 ;;
		cjk-font) apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >&2 ||
			apt-get install -y -qq --no-install-recommends fonts-noto-cjk >&2 ;;
		esac
	done
	if ! have_cjk_font; then
		echo "apt-get ran but no CJK font is known to fontconfig" >&2
		exit 1
	fi
	if path=$(find_chromium); then
		echo "$path"
		exit 0
	fi
	echo "apt-get installed chromium but no chromium binary was found" >&2
	exit 1
fi

cat >&2 <<MSG
The browser test needs chromium and a CJK font; missing: ${missing[*]}.
Install them, then run the tests again:
  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y chromium fonts-wqy-microhei
                  (or fonts-noto-cjk)
  Fedora:         sudo dnf install -y chromium wqy-microhei-fonts
  macOS:          brew install --cask chromium   (macOS ships CJK fonts)
or point CHROMIUM at an existing Chrome/Chromium binary: CHROMIUM=/path/to/chrome make deps
To run the other tests without the browser test: SKIP_BROWSER=1 make test
MSG
exit 1
