#!/usr/bin/env bash
# Builds one libFuzzer executable per MediaWire parser with `swiftc -sanitize=fuzzer,address`.
# SwiftPM is not used here: every module is compiled with coverage instrumentation, in
# dependency order (MediaCrypto → MediaWire → WireFuzzing, HTTP → Signaling → ProtocolFuzzing), then each target links against them.
# Output: tools/fuzz/out/fuzz-<target>.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/tools/fuzz/out"
mkdir -p "$out"
export PATH=/opt/swift/usr/bin:$PATH
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -I "$out" -I "$root/Sources/COpenSSL" -I "$root/Sources/COpus" -swift-version 6)

module() {  # module NAME SOURCES...
  local name=$1; shift
  swiftc "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$out/$name.swiftmodule" \
    -wmo -c "$@" -o "$out/$name.o"
}

module MediaCrypto "$root"/Sources/MediaCrypto/*.swift
module MediaWire "$root"/Sources/MediaWire/*.swift
module WireFuzzing "$root"/tools/fuzz/WireFuzzing/*.swift
module HTTP "$root"/Sources/HTTP/*.swift
module Signaling "$root"/Sources/Signaling/*.swift
module ProtocolFuzzing "$root"/tools/fuzz/ProtocolFuzzing/*.swift
module SFU "$root"/Sources/SFU/*.swift
module MediaFuzzing "$root"/tools/fuzz/MediaFuzzing/*.swift
module AudioTranscoding "$root"/Sources/AudioTranscoding/*.swift
module Ingest "$root"/Sources/Ingest/*.swift
module IngestFuzzing "$root"/tools/fuzz/IngestFuzzing/*.swift

for target_file in "$root"/tools/fuzz/targets/*.swift; do
  name=$(basename "$target_file" .swift)
  swiftc "${flags[@]}" -module-name "fuzz_${name//-/_}" "$target_file" \
    "$out/MediaCrypto.o" "$out/MediaWire.o" "$out/WireFuzzing.o" "$out/HTTP.o" "$out/Signaling.o" "$out/ProtocolFuzzing.o" "$out/SFU.o" "$out/MediaFuzzing.o" "$out/AudioTranscoding.o" "$out/Ingest.o" "$out/IngestFuzzing.o" -lopus -lssl -lcrypto -o "$out/fuzz-$name" \
    2> >(grep -v "Cannot export local symbol" >&2)
  echo "built $out/fuzz-$name"
done
