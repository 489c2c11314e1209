#!/usr/bin/env bash
# Fetches the pretrained Inception v3 of section 08 and the photos it is run on, then verifies every file's SHA-256.
#
#   nsfwjs@4.4.0 (npm pack): dist/models/inception_v3/model.min.js + group1-shard{1..6}of6.min.js, a Keras
#   InceptionV3 converted to TensorFlow.js (uint8-quantized weights, 5-class head), extracted to
#   $DEST/nsfwjs/inception_v3/.
#   Debian python3-skimage (apt-get download, unpacked with dpkg-deb, nothing installed): astronaut.png,
#   chelsea.png and coffee.png, copied to $DEST/photos/.
#
# DEST is $CONVNOTES_DATA when set, else .cache/data in the checkout. Files already present with the right digest are
# kept; anything else is fetched again. The digests are also in gomlx_models/tfjs/nsfwjs.go (keep both in sync).
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="${CONVNOTES_DATA:-$PWD/.cache/data}"
NSFWJS_VERSION=4.4.0
NSFWJS_TGZ_SHA256=585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382
MODEL_DIR="$DEST/nsfwjs/inception_v3"
PHOTO_DIR="$DEST/photos"

declare -A MODEL_FILES=(
  [model.min.js]=8c2b793b9d277840fc757725bf3b135c96d5a54ec020e2b4ab569fc3df6b3848
  [group1-shard1of6.min.js]=e9316ac20ff634f990e483062050afe9a4826885c3a212d676ce2cfda93a4884
  [group1-shard2of6.min.js]=467b33d62b4c470edf8acd3da554e331f2d49f3f93ddd718f944f595c516cd82
  [group1-shard3of6.min.js]=075300e057ca7e9fd2e282afbc3a6596a0404288c94bf781e9b20658cbeee664
  [group1-shard4of6.min.js]=b51ee46e062e752e81c28761a56369432671bfb3d59f4f062f5bd4dd58ff5303
  [group1-shard5of6.min.js]=d4149969b3c61e0d4dde1d4f555f5b00f4fc87f6bab1a4cd4967b24f62725de6
  [group1-shard6of6.min.js]=b684762a7d7c39b80183d260bdab6f072321349300f9f2ff144a085a382acfc4
)
declare -A PHOTO_FILES=(
  [astronaut.png]=88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
  [chelsea.png]=596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb
  [coffee.png]=cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

# all_ok DIR ARRAYNAME: every file of the table is in DIR with its digest.
all_ok() {
  local dir=$1 f
  local -n table=$2
  for f in "${!table[@]}"; do
    [ -f "$dir/$f" ] && [ "$(sha "$dir/$f")" = "${table[$f]}" ] || return 1
  done
}

# verify DIR ARRAYNAME WHAT: one line per missing or corrupt file, exit 1 if any.
verify() {
  local dir=$1 what=$3 f bad=0
  local -n table=$2
  for f in "${!table[@]}"; do
    if [ ! -f "$dir/$f" ]; then
      echo "fetch_nsfwjs: $dir/$f missing after fetching $what" >&2; bad=1
    elif [ "$(sha "$dir/$f")" != "${table[$f]}" ]; then
      echo "fetch_nsfwjs: $dir/$f has SHA-256 $(sha "$dir/$f"), want ${table[$f]} ($what)" >&2; bad=1
    fi
  done
  return $bad
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if all_ok "$MODEL_DIR" MODEL_FILES; then
  echo "nsfwjs@$NSFWJS_VERSION Inception v3: present in $MODEL_DIR"
else
  if ! command -v npm >/dev/null; then
    # Like Fashion-MNIST above: only section 08 needs these files; its tests skip, saying so, until they are here.
    echo "fetch_nsfwjs: npm not found: skipping the pretrained Inception v3 (install npm, e.g. 'sudo apt-get install npm', then run 'make data')" >&2
    exit 0
  fi
  echo "nsfwjs@$NSFWJS_VERSION Inception v3: npm pack -> $MODEL_DIR"
  (cd "$tmp" && npm pack --silent "nsfwjs@$NSFWJS_VERSION" >/dev/null)
  tgz="$tmp/nsfwjs-$NSFWJS_VERSION.tgz"
  [ "$(sha "$tgz")" = "$NSFWJS_TGZ_SHA256" ] || {
    echo "fetch_nsfwjs: $tgz has SHA-256 $(sha "$tgz"), want $NSFWJS_TGZ_SHA256" >&2; exit 1; }
  tar -xzf "$tgz" -C "$tmp" package/dist/models/inception_v3
  mkdir -p "$MODEL_DIR"
  for f in "${!MODEL_FILES[@]}"; do cp "$tmp/package/dist/models/inception_v3/$f" "$MODEL_DIR/$f"; done
  verify "$MODEL_DIR" MODEL_FILES "nsfwjs@$NSFWJS_VERSION"
fi

if all_ok "$PHOTO_DIR" PHOTO_FILES; then
  echo "skimage photos: present in $PHOTO_DIR"
else
  command -v apt-get >/dev/null || { echo "fetch_nsfwjs: apt-get not found: copy astronaut.png, chelsea.png, coffee.png from scikit-image's data/ into $PHOTO_DIR" >&2; exit 1; }
  echo "skimage photos: apt-get download python3-skimage -> $PHOTO_DIR"
  if ! (cd "$tmp" && apt-get download -q python3-skimage >/dev/null 2>&1); then
    # No package lists yet (a fresh machine): refresh them, without prompting for a password.
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    $SUDO apt-get update -q >/dev/null || { echo "fetch_nsfwjs: apt-get download python3-skimage failed: run 'sudo apt-get update', then 'make data'" >&2; exit 1; }
    (cd "$tmp" && apt-get download -q python3-skimage >/dev/null)
  fi
  dpkg-deb -x "$tmp"/python3-skimage_*.deb "$tmp/skimage"
  mkdir -p "$PHOTO_DIR"
  for f in "${!PHOTO_FILES[@]}"; do
    cp "$(find "$tmp/skimage" -path "*/skimage/data/$f" | head -1)" "$PHOTO_DIR/$f"
  done
  verify "$PHOTO_DIR" PHOTO_FILES "python3-skimage"
fi
