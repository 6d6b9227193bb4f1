#!/usr/bin/env bash
# Builds the Debian package moat_<version>_amd64.deb (dpkg-deb; the control files are in
# scripts/package/):
#   scripts/package.sh                    release build with the Swift runtime linked in
#                                         (.build-release), then the package in the top folder
#   scripts/package.sh --binaries DIR     package the executables already built in DIR instead
#                                         (the tests: a debug build; it needs this machine's
#                                         Swift toolchain to run)
#   --output DIR                          where the .deb goes
#   --lintian                             run lintian on it (errors fail the script)
#   --fast                                compress quickly (gzip -1) rather than small (xz)
# Contents: every executable product of Package.swift found in the build (moatd, moat-ctl,
# moat-scan, ...) in /usr/bin, the hardened unit, /etc/moat/moat.ini (a conffile, root:moat
# 0640), man pages moatd(8), moat-ctl(1), moat.ini(5) (generated from the schema and the
# commands' help), a logrotate entry, copyright and changelog; postinst makes the users moat
# and moat-scan, /var/lib/moat and /var/log/moat.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
binaries=""
output=$PWD
lint=0
compression=(-Zxz)
while [ $# -gt 0 ]; do
    case "$1" in
        --binaries) binaries=$(cd "$2" && pwd); shift 2 ;;
        --output) output=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
        --lintian) lint=1; shift ;;
        --fast) compression=(-Zgzip -z1); shift ;;
        *) echo "usage: scripts/package.sh [--binaries DIR] [--output DIR] [--lintian] [--fast]" >&2; exit 64 ;;
    esac
done
# A build with the Swift runtime as shared libraries (debug, --binaries) runs only where the
# toolchain is: its RUNPATH to the toolchain stays, and lintian is told so.
toolchain_build=""
if [ -n "$binaries" ] && ldd "$binaries/moatd" 2>/dev/null | grep -q libswiftCore; then
    toolchain_build=1
fi
if [ -z "$binaries" ]; then
    # Full RELRO (lintian's hardening-no-bindnow): relocations resolved at start, then read-only.
    swift build -c release --static-swift-stdlib -Xlinker -z -Xlinker now -Xlinker -z -Xlinker relro \
        --scratch-path "$top/.build-release"
    binaries="$top/.build-release/release"
    checkouts="$top/.build-release/checkouts"
else
    checkouts="$(dirname "$binaries")/checkouts"
    [ -d "$checkouts" ] || checkouts="$top/.build/checkouts"
fi

upstream=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/MoatService/MoatVersion.swift)
version="$upstream-${MOAT_DEB_REVISION:-1}"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The maintainer is who made the commit packaged, unless MOAT_DEB_MAINTAINER says otherwise.
maintainer=${MOAT_DEB_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null || echo "Moat maintainers <root@localhost>")}
# The date of the commit, so the same commit gives the same package.
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

work=$(mktemp -d /tmp/moat-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/etc/moat" "$root/etc/logrotate.d" \
    "$root/lib/systemd/system" "$root/usr/share/doc/moat" "$root/usr/share/man/man1" \
    "$root/usr/share/man/man5" "$root/usr/share/man/man8"

# Every executable product that this build has.
products=$(grep -o '\.executable(name: "[^"]*"' Package.swift | sed 's/.*name: "\(.*\)"/\1/')
shipped=()
for product in $products; do
    if [ -x "$binaries/$product" ]; then
        install -m 0755 "$binaries/$product" "$root/usr/bin/$product"
        strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$product"
        # A release build links the Swift runtime in: no search path to the toolchain is needed.
        if [ -z "$toolchain_build" ] && readelf -d "$root/usr/bin/$product" | grep -q 'R.*PATH'; then
            chrpath --delete "$root/usr/bin/$product" >/dev/null
        fi
        shipped+=("$product")
    else
        echo "package.sh: $product is not built in $binaries: left out" >&2
    fi
done
for needed in moatd moat-ctl moat-scan; do
    [ -x "$root/usr/bin/$needed" ] || { echo "package.sh: no $needed in $binaries" >&2; exit 1; }
done

# Configuration (a conffile; root:moat 0640 through dpkg-statoverride in postinst), unit,
# logrotate.
install -m 0644 etc/moat.ini "$root/etc/moat/moat.ini"
install -m 0644 scripts/package/moat.logrotate "$root/etc/logrotate.d/moat"
sed 's|/usr/local/bin/|/usr/bin/|g' etc/systemd/moatd.service > "$root/lib/systemd/system/moatd.service"
# The scan workers' own unit; moat-scan is installed beside moatd, where moatd also finds it.
sed 's|/usr/lib/moat/moat-scan|/usr/bin/moat-scan|g' etc/systemd/moat-scan.service > "$root/lib/systemd/system/moat-scan.service"
chmod 0644 "$root/lib/systemd/system/moatd.service" "$root/lib/systemd/system/moat-scan.service"
printf '/etc/moat/moat.ini\n/etc/logrotate.d/moat\n' > "$root/DEBIAN/conffiles"
install -m 0755 scripts/package/postinst scripts/package/prerm scripts/package/postrm "$root/DEBIAN/"

# Manual pages: moat.ini(5) from the schema, the commands' from their own help.
"$binaries/moat-ctl" config-reference --man > "$work/moat.ini.5"
python3 scripts/package/manpage.py "$binaries/moatd" 8 scripts/package/moatd.8.extra "$upstream" > "$work/moatd.8"
python3 scripts/package/manpage.py "$binaries/moat-ctl" 1 scripts/package/moat-ctl.1.extra "$upstream" > "$work/moat-ctl.1"
for product in "${shipped[@]}"; do
    case "$product" in
        moatd | moat-ctl) continue ;;
        # Not an ArgumentParser command (no --experimental-dump-help): its page is written by hand.
        moat-scan) cp scripts/package/moat-scan.8 "$work/moat-scan.8"; continue ;;
    esac
    extra="scripts/package/$product.8.extra"
    [ -f "$extra" ] || extra=/dev/null
    python3 scripts/package/manpage.py "$binaries/$product" 8 "$extra" "$upstream" > "$work/$product.8"
done
for page in "$work"/*.[158]; do
    section=${page##*.}
    gzip -9n -c "$page" > "$root/usr/share/man/man$section/$(basename "$page").gz"
done

# Documentation: changelog (Debian's), copyright (with the Swift packages linked in), README.
sed -e "s|@VERSION@|$version|" -e "s|@UPSTREAM@|$upstream|" -e "s|@COMMIT@|$commit|" \
    -e "s|@MAINTAINER@|$maintainer|" -e "s|@DATE@|$date|" scripts/package/changelog.in \
    | gzip -9n > "$root/usr/share/doc/moat/changelog.Debian.gz"
bash scripts/package/copyright.sh "$checkouts" > "$root/usr/share/doc/moat/copyright"
gzip -9n -c README.md > "$root/usr/share/doc/moat/README.md.gz"

# Depends: the shared libraries the executables need, as dpkg-shlibdeps finds their packages
# (a debug build's Swift runtime libraries belong to no package: left out with a warning).
mkdir -p "$work/debian"
printf 'Source: moat\n\nPackage: moat\nArchitecture: amd64\n' > "$work/debian/control"
executables=("$root"/usr/bin/*)
if ! shlibs=$(cd "$work" && dpkg-shlibdeps --ignore-missing-info -O "${executables[@]/#/-e}" 2>"$work/shlibdeps.log"); then
    cat "$work/shlibdeps.log" >&2
    exit 1
fi
shlibs=$(sed -n 's/^shlibs:Depends=//p' <<<"$shlibs")
if [ -n "$toolchain_build" ]; then
    echo "package.sh: these executables need the Swift toolchain's libraries (not a release build)" >&2
fi
depends="adduser, ca-certificates${shlibs:+, $shlibs}"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@INSTALLED_SIZE@|$size|" \
    -e "s|@DEPENDS@|$depends|" scripts/package/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

deb="$output/moat_${version}_amd64.deb"
dpkg-deb --root-owner-group "${compression[@]}" --build "$root" "$deb" >/dev/null
echo "$deb"
if [ "$lint" = 1 ]; then
    # Errors fail; warnings are printed (README lists the expected ones). A toolchain build's
    # RUNPATH to /opt/swift is what lets it run at all.
    suppress=()
    [ -n "$toolchain_build" ] && suppress=(--suppress-tags custom-library-search-path)
    lintian --fail-on error --tag-display-limit 0 "${suppress[@]}" "$deb" >&2
fi
