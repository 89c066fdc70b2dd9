#!/usr/bin/env bash
# Builds the operator's image with buildah and no registry (no base image is pulled):
#
#   tools/image.sh [--archive FILE]
#
# 1. the release binary: `cargo build --release --locked -p quota-operator` (or QO_IMAGE_BINARY);
# 2. the runtime root filesystem, from Debian packages fetched with `apt-get download` (libc6 and
#    libgcc-s1's shared libraries, the CA bundle of ca-certificates, tzdata's zoneinfo; the
#    packages' copyright files), plus /etc/passwd and /etc/group with the nonroot user 65532 and
#    an empty /tmp; kept in the cache, keyed on the packages' versions;
# 3. `buildah bud -f Dockerfile.local` on scratch, with the OCI labels (version from Cargo.toml,
#    revision and creation time from git).
#
# The image is localhost/quota-operator:<version> (the chart's default image) in the project's own
# container storage (see tools/image/containers-env.sh); with --archive FILE it is also written as
# a docker archive, which keeps the name (for `ctr images import`, `docker load`,
# `skopeo copy docker-archive:FILE docker://REGISTRY/quota-operator:TAG`).
# Prints the size. The last stdout line is the image reference.
#
# Env:
#   QO_IMAGE          image reference (default localhost/quota-operator:<version>)
#   QO_IMAGE_BINARY   use this binary instead of building one
#   QO_CACHE_DIR      cache root (default $HOME/.cache/quota-operator)
#   CARGO_TARGET_DIR  as for cargo
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
log() { echo "image.sh: $*" >&2; }
die() { log "$*"; exit 1; }

archive=''
while [ $# -gt 0 ]; do
	case $1 in
	--archive) archive=${2:?--archive needs a file}; shift 2 ;;
	*) die "usage: $0 [--archive FILE]" ;;
	esac
done

# shellcheck source=image/containers-env.sh
. "$here/image/containers-env.sh"
for tool in buildah apt-get dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install buildah podman runc)"
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
image=${QO_IMAGE:-localhost/quota-operator:$version}
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && [ -n "$(git -C "$root" status --porcelain -- src sim Cargo.toml Cargo.lock .cargo 2>/dev/null)" ]; then
	revision=$revision-dirty
fi
# The commit's time, not the build's: the same commit gives the same labels.
created=$(git -C "$root" log -1 --format=%cI 2>/dev/null | xargs -r date -u +%Y-%m-%dT%H:%M:%SZ -d || true)
created=${created:-1970-01-01T00:00:00Z}

# --- 1. the binary -------------------------------------------------------------------------------
if [ -n "${QO_IMAGE_BINARY:-}" ]; then
	binary=$QO_IMAGE_BINARY
else
	log "cargo build --release (fat LTO: minutes when cold)"
	QO_GIT_COMMIT=$revision nice -n "${QO_BUILD_NICE:-10}" cargo build --release --locked -p quota-operator --bin quota-operator \
		--manifest-path "$root/Cargo.toml" >&2
	binary=${CARGO_TARGET_DIR:-$root/target}/release/quota-operator
fi
[ -x "$binary" ] || die "no binary at $binary"

# --- 2. the runtime root filesystem --------------------------------------------------------------
# gcc-12-base only for libgcc-s1's copyright file (its doc dir is a symlink to gcc-12-base's).
packages=(libc6 libgcc-s1 gcc-12-base ca-certificates tzdata)
cache=$QO_CONTAINERS_CACHE/image-rootfs
mkdir -p "$cache/debs"
candidates() {
	local p v
	for p in "${packages[@]}"; do
		v=$(apt-cache policy "$p" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
		[ -n "$v" ] && [ "$v" != "(none)" ] || return 1
		echo "$p=$v"
	done
}
if ! pinned=$(candidates); then
	log "apt-get update (no candidate for ${packages[*]})"
	apt-get update -qq >&2
	pinned=$(candidates) || die "apt has no candidate for one of ${packages[*]}"
fi
key=$(echo "$pinned" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$key
if ! [ -e "$rootfs/.complete" ]; then
	log "assembling the root filesystem from $(echo "$pinned" | tr '\n' ' ')"
	# shellcheck disable=SC2086 # one word per package=version
	(cd "$cache/debs" && apt-get download $pinned 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
	x=$(mktemp -d "$cache/x.XXXXXX")
	trap 'rm -rf "$x"' EXIT
	for p in $pinned; do
		# apt-get download names it NAME_VERSION_ARCH.deb, the epoch's colon escaped as %3a.
		v=${p#*=}
		deb=$(compgen -G "$cache/debs/${p%%=*}_${v//:/%3a}_*.deb" | head -n 1 || true)
		[ -n "$deb" ] && [ -f "$deb" ] || die "no .deb for $p in $cache/debs"
		dpkg-deb -x "$deb" "$x/pkgs"
	done
	r=$x/rootfs
	mkdir -p "$r/lib" "$r/lib64" "$r/etc/ssl/certs" "$r/usr/share" "$r/tmp" "$r/home/nonroot" "$r/usr/local/bin"
	# glibc and libgcc_s: every shared library of the two packages (as distroless cc has them), not
	# their programs, gconv modules or locales.
	cp -a "$x/pkgs/lib/x86_64-linux-gnu" "$r/lib/"
	cp -a "$x/pkgs/lib64/ld-linux-x86-64.so.2" "$r/lib64/"
	# The CA bundle, as update-ca-certificates makes it from every certificate the package ships.
	find "$x/pkgs/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | while read -r c; do
		sed -e '$a\' "$c"
	done >"$r/etc/ssl/certs/ca-certificates.crt"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$r/etc/ssl/certs/ca-certificates.crt")" -gt 100 ] || die "CA bundle too small"
	# tzdata: the zoneinfo database, without the leap-second "right/" copy.
	cp -a "$x/pkgs/usr/share/zoneinfo" "$r/usr/share/"
	rm -rf "$r/usr/share/zoneinfo/right"
	# Licences of what is shipped.
	for p in "${packages[@]}"; do
		c=$x/pkgs/usr/share/doc/$p/copyright
		[ -f "$c" ] || die "no copyright file for $p"
		install -D -m 0644 "$c" "$r/usr/share/doc/$p/copyright"
	done
	cat >"$r/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/sbin/nologin
		nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
		nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
	EOF
	cat >"$r/etc/group" <<-'EOF'
		root:x:0:
		nobody:x:65534:
		nonroot:x:65532:
	EOF
	echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
	echo "$pinned" >"$r/usr/share/doc/debian-packages.txt"
	chmod 1777 "$r/tmp"
	chown 65532:65532 "$r/home/nonroot"
	chmod 0755 "$r/home/nonroot"
	rm -rf "$rootfs"
	mv "$r" "$rootfs"
	touch "$rootfs/.complete"
	rm -rf "$x"
	trap - EXIT
fi

# --- 3. the image --------------------------------------------------------------------------------
ctx=$(mktemp -d "${TMPDIR:-/tmp}/qo-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp -a "$rootfs" "$ctx/rootfs"
rm -f "$ctx/rootfs/.complete"
install -m 0755 "$binary" "$ctx/quota-operator"
log "buildah bud -f Dockerfile.local -t $image"
buildah bud --quiet --layers=false --timestamp "$(date -u -d "$created" +%s)" \
	-f "$root/Dockerfile.local" \
	--build-arg VERSION="$version" \
	--build-arg REVISION="$revision" \
	--build-arg CREATED="$created" \
	--build-arg DEBIAN_PACKAGES="$(echo "$pinned" | tr '\n' ' ' | sed 's/ $//')" \
	-t "$image" "$ctx" >&2

# The image this one replaced under the same name stays behind untagged: drop such images, so
# the project's storage holds what is named, not every build.
podman image prune -f >/dev/null 2>&1 || true

size=$(podman image inspect --format '{{.Size}}' "$image")
log "$image: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB uncompressed), binary $(stat -c %s "$binary") bytes"
if [ -n "$archive" ]; then
	rm -f "$archive"
	podman save --quiet --format docker-archive -o "$archive" "$image"
	log "wrote $archive ($(stat -c %s "$archive") bytes)"
fi
echo "$image"
