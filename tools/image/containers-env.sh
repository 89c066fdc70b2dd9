# shellcheck shell=bash
# Sourced by tools/image.sh and the container tests: podman and buildah with the project's own
# configuration and storage, so nothing in /etc/containers or in other users' storage is changed
# or needed.
#
# - containers.conf: runc (crun refuses this machine's hybrid cgroups: v1 controllers with a
#   `unified` v2 mount beside them) and no default ulimits (runc refuses the default
#   RLIMIT_NOFILE here);
# - storage.conf: images under $QO_CACHE_DIR/containers, the overlay driver (vfs if the kernel
#   has no overlayfs).
_qo_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QO_CONTAINERS_CACHE=${QO_CACHE_DIR:-${HOME:?HOME not set}/.cache/quota-operator}/containers
mkdir -p "$QO_CONTAINERS_CACHE/storage" "$QO_CONTAINERS_CACHE/run"
export CONTAINERS_CONF=$_qo_here/containers.conf
export CONTAINERS_STORAGE_CONF=$QO_CONTAINERS_CACHE/storage.conf
_qo_driver=overlay
grep -qw overlay /proc/filesystems || _qo_driver=vfs
_qo_storage="[storage]
driver = \"$_qo_driver\"
graphroot = \"$QO_CONTAINERS_CACHE/storage\"
runroot = \"$QO_CONTAINERS_CACHE/run\""
if [ "$(cat "$CONTAINERS_STORAGE_CONF" 2>/dev/null)" != "$_qo_storage" ]; then
	printf '%s\n' "$_qo_storage" >"$CONTAINERS_STORAGE_CONF"
fi
unset _qo_here _qo_driver _qo_storage
