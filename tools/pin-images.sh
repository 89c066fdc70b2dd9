#!/usr/bin/env bash
# The base images of every Dockerfile, pinned by digest.
#
#   tools/pin-images.sh --check   offline: fails naming each FROM (or the ARG default it uses)
#                                 that is neither `scratch` nor `name@sha256:<64 hex>`
#   tools/pin-images.sh           resolves each pinned ARG's tag again (skopeo inspect, else
#                                 crane digest; needs the registry) and rewrites its digest
#
# A tag moves (distroless rebuilds its images for every Debian security update): the digest is
# what was reviewed. Run it to take the bases' updates, then build and test the image.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
files=$(cd "$root" && git ls-files '*Dockerfile*')
pinned='@sha256:[0-9a-f]{64}$'

# Prints "file: reference" for each base a FROM names, with ${ARG} replaced by its default.
bases() {
	local f=$1
	awk -v f="$f" '
		$1 == "ARG" { split($2, kv, "="); if (kv[2] != "") def[kv[1]] = substr($2, length(kv[1]) + 2) }
		$1 == "FROM" {
			i = 2
			while (substr($i, 1, 2) == "--") i++  # --platform=...
			ref = $i
			if (match(ref, /^\$\{[A-Za-z_]+\}$/)) ref = def[substr(ref, 3, length(ref) - 3)]
			# scratch and earlier stages are not images from a registry.
			if (tolower(ref) != "scratch" && !(ref in stage)) print f ": " ref
			if (tolower($(i + 1)) == "as") stage[$(i + 2)] = 1
		}' "$root/$f"
}

check() {
	local f ref bad=0
	for f in $files; do
		while IFS= read -r line; do
			ref=${line#*: }
			if [ -z "$ref" ] || ! grep -qE -- "$pinned" <<<"$ref"; then
				echo "not pinned by digest: $line" >&2
				bad=1
			fi
		done < <(bases "$f")
	done
	[ "$bad" = 0 ] && echo "every base image of $(wc -w <<<"$files") Dockerfiles is scratch or pinned by digest"
	return "$bad"
}

digest() { # tag reference -> sha256:...
	if command -v skopeo >/dev/null; then
		skopeo inspect --format '{{.Digest}}' "docker://$1"
	elif command -v crane >/dev/null; then
		crane digest "$1"
	else
		echo "pin-images: neither skopeo nor crane is installed" >&2
		return 1
	fi
}

pin() {
	local f name ref tag new
	for f in $files; do
		grep -E '^ARG [A-Z_]+_IMAGE=' "$root/$f" | while IFS= read -r line; do
			name=${line#ARG }
			name=${name%%=*}
			ref=${line#*=}
			tag=${ref%@sha256:*}
			new=$(digest "$tag") || { echo "pin-images: $tag: could not resolve" >&2; exit 1; }
			sed -i "s|^ARG $name=.*|ARG $name=$tag@$new|" "$root/$f"
			echo "$f: $name=$tag@$new"
		done
	done
}

case "${1:-}" in
--check) check ;;
"") pin && check ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
