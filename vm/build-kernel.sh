#!/usr/bin/env bash
# Builds the lab's kernel: the newest linux-source-6.x (>= 6.12) Debian offers, with the test
# patches vm/*.patch applied (in name order), tinyconfig plus kernel.options, bzImage + modules,
# prepared for out-of-tree modules. The result is cached outside the repository, keyed on the
# source version, the options file and the patches, so a second run takes seconds. A new key
# starts from a copy of a cached tree of the same version, its own patches reverted, so make
# rebuilds only what the change touches. Prints the build directory on its last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${IIOJS_VM_CACHE:-$HOME/.cache/iiojs-vm}"

packages=(qemu-system-x86 busybox-static cpio flex bison bc libelf-dev libssl-dev build-essential xz-utils kmod patch)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "vm: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The newest linux-source-6.N package with N >= 12 that the archive has.
newest_source() {
  apt-cache search --names-only '^linux-source-6\.[0-9]+$' | awk '{print $1}' |
    awk -F. '$2 >= 12' | sort -t. -k2,2n | tail -1
}
pkg="$(newest_source)"
if [[ -z "$pkg" ]]; then
  apt-get update -qq >&2
  pkg="$(newest_source)"
fi
[[ -n "$pkg" ]] || { echo "vm: no linux-source-6.x >= 6.12 in the archive" >&2; exit 1; }
version="$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')"
patches=("$here"/*.patch)
[[ -e "${patches[0]}" ]] || patches=()
# Without patches the key is what it was before there were any, so older caches stay valid.
key="$(printf '%s\n' "$version" | cat - "$here/kernel.options" "${patches[@]}" | sha256sum | cut -c1-16)"
out="$cache/$pkg-$version-$key"

if [[ -f "$out/arch/x86/boot/bzImage" && -f "$out/Module.symvers" ]]; then
  echo "vm: cached kernel $out" >&2
  echo "$out"
  exit 0
fi

echo "vm: building $pkg $version into $out" >&2
if ! dpkg -s "$pkg" 2>/dev/null | grep -q "^Version: $version$"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
fi
tarball="$(ls /usr/src/"$pkg".tar.xz)"
rm -rf "$out.tmp"

# A finished tree of the same source version: its objects are reused, its patches (kept in
# .iiojs-patches; none in trees older than this) reverted to get back to the pristine source.
seed="$(ls -dt "$cache/$pkg-$version"-???????????????? 2>/dev/null | head -1 || true)"
unpatched=
if [[ -n "$seed" && -f "$seed/arch/x86/boot/bzImage" && -f "$seed/Module.symvers" ]]; then
  echo "vm: reusing the objects of $seed" >&2
  cp -a "$seed" "$out.tmp"
  unpatched=1
  for p in $(ls -r "$out.tmp/.iiojs-patches" 2>/dev/null); do
    patch -d "$out.tmp" -p1 -R -s <"$out.tmp/.iiojs-patches/$p" >&2 || { unpatched=; break; }
  done
  [[ -n "$unpatched" ]] || { echo "vm: could not revert the patches of $seed" >&2; rm -rf "$out.tmp"; }
fi
if [[ -z "$unpatched" ]]; then
  mkdir -p "$out.tmp"
  tar -xf "$tarball" -C "$out.tmp" --strip-components=1
fi
rm -rf "$out.tmp/.iiojs-patches"
mkdir "$out.tmp/.iiojs-patches"
for p in "${patches[@]}"; do
  patch -d "$out.tmp" -p1 -s --no-backup-if-mismatch <"$p" >&2
  cp "$p" "$out.tmp/.iiojs-patches/"
done

cd "$out.tmp"
make -s tinyconfig
options=()
while read -r opt; do
  [[ -z "$opt" || "$opt" == \#* ]] && continue
  options+=("$opt")
done <"$here/kernel.options"
for pass in 1 2; do
  for opt in "${options[@]}"; do scripts/config -e "$opt"; done
  make -s olddefconfig
done
bad=()
for opt in "${options[@]}"; do grep -q "^CONFIG_$opt=y$" .config || bad+=("$opt"); done
if ((${#bad[@]})); then
  echo "vm: options not set after olddefconfig: ${bad[*]}" >&2
  exit 1
fi
make -s -j"$(nproc)" bzImage modules >&2
make -s modules_prepare >&2
cd /
mv "$out.tmp" "$out"
echo "vm: built $out" >&2
echo "$out"
