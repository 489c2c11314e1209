#!/usr/bin/env bash
# Fetches the sample photographs convnotes uses for data augmentation and crops (notebook 05) from the Debian
# packages that ship them, without installing the packages or their dependencies: `apt-get download` fetches the
# .deb files into a temporary directory, `dpkg-deb` extracts the four images, and each is checked against the
# SHA-256 digests that gomlx_models/data/photos.go also holds.
#
#   python3-skimage: skimage/data/astronaut.png, chelsea.png, coffee.png
#   opencv-doc:      examples/data/starry_night.jpg
#
# Usage: scripts/fetch_photos.sh [DEST]   (default: .cache/data/photos in the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.cache/data/photos}

# file  package  path inside the package  sha256
photos=(
  "astronaut.png python3-skimage ./usr/lib/python3/dist-packages/skimage/data/astronaut.png 88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"
  "chelsea.png python3-skimage ./usr/lib/python3/dist-packages/skimage/data/chelsea.png 596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"
  "coffee.png python3-skimage ./usr/lib/python3/dist-packages/skimage/data/coffee.png cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"
  "starry_night.jpg opencv-doc ./usr/share/doc/opencv-doc/examples/data/starry_night.jpg accda7a19a90f22a4a922fdc8c230167d7abf5f80882171e2cee125c5f12481d"
)

verified() { # file sha256
  [ -f "$dest/$1" ] && echo "$2  $dest/$1" | sha256sum --check --status
}

missing=()
for entry in "${photos[@]}"; do
  read -r file pkg _ sum <<<"$entry"
  verified "$file" "$sum" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "photos: all present and verified in $dest"
  exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "photos: apt-get and dpkg-deb are needed to fetch the sample photos (Debian/Ubuntu); skipping" >&2
  exit 1
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "photos: downloading ${pkgs[*]} (packages are not installed)"
if ! (cd "$tmp" && apt-get download -q "${pkgs[@]}" >/dev/null 2>&1); then
  if [ "$(id -u)" = 0 ]; then apt-get update -q >/dev/null; fi
  (cd "$tmp" && apt-get download -q "${pkgs[@]}" >/dev/null) || {
    echo "photos: apt-get download ${pkgs[*]} failed (run 'sudo apt-get update' and retry)" >&2
    exit 1
  }
fi

mkdir -p "$dest"
status=0
for entry in "${photos[@]}"; do
  read -r file pkg member sum <<<"$entry"
  verified "$file" "$sum" && continue
  deb=$(ls "$tmp"/"${pkg}"_*.deb)
  dpkg-deb --fsys-tarfile "$deb" | tar -x -O "$member" >"$tmp/$file"
  if echo "$sum  $tmp/$file" | sha256sum --check --status; then
    mv "$tmp/$file" "$dest/$file"
    echo "photos: $dest/$file ok"
  else
    echo "photos: $file from $deb has an unexpected SHA-256 (a different package version?)" >&2
    status=1
  fi
done
exit $status
