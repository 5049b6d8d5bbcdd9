#!/bin/sh
# Install what barrage needs from Debian packages, only if missing.
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -e
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
check() { # check PACKAGE TEST-COMMAND...
    pkg=$1; shift
    if ! "$@" >/dev/null 2>&1 && ! have_pkg "$pkg"; then need="$need $pkg"; fi
}
check build-essential  sh -c 'command -v cc && command -v make'
check pkg-config       command -v pkg-config
check libluajit-5.1-dev sh -c 'pkg-config --exists luajit || test -f /usr/include/luajit-2.1/lua.h'
check libssl-dev       sh -c 'pkg-config --exists openssl || test -f /usr/include/openssl/ssl.h'
check node-llhttp      test -f /usr/share/llhttp/llhttp.c
check lua-cjson        sh -c 'test -f /usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so || ls /usr/lib/*/lua/5.1/cjson.so'
check nginx-light      sh -c 'command -v nginx || test -x /usr/sbin/nginx'
check wrk              command -v wrk
check python3          command -v python3
check openssl          command -v openssl
check strace           command -v strace
check procps           command -v pkill
check time             test -x /usr/bin/time
check chromium         sh -c 'command -v chromium'
check python3-locust   test -x /usr/bin/locust
check siege            command -v siege
check prometheus       test -x /usr/bin/prometheus
check prometheus-pushgateway test -x /usr/bin/prometheus-pushgateway
check util-linux       command -v unshare
check iproute2         command -v ip
check clang            command -v clang
check libclang-rt-14-dev sh -c 'ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'
[ -z "$need" ] && exit 0
echo "deps: installing$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
