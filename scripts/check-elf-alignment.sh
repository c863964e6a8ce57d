#!/usr/bin/env bash
# Checks that every LOAD segment of each ELF file is aligned to at least 16 KB
# (0x4000), as Android 15+ devices with 16 KB pages (and Google Play) require.
#
# usage: scripts/check-elf-alignment.sh LIB.so [LIB.so ...]
#
# Reads the program headers with `readelf -lW` (GNU binutils) or the NDK's
# `llvm-readelf`; set READELF to choose one. Prints one line per file with its
# smallest LOAD alignment and exits 1 if any file is below 16 KB.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 LIB.so [LIB.so ...]" >&2
    exit 2
fi

readelf_cmd="${READELF:-}"
if [ -z "$readelf_cmd" ]; then
    for candidate in llvm-readelf readelf; do
        if command -v "$candidate" >/dev/null 2>&1; then
            readelf_cmd="$candidate"
            break
        fi
    done
fi
if [ -z "$readelf_cmd" ]; then
    echo "no readelf: install binutils or set READELF to the NDK's llvm-readelf" >&2
    exit 2
fi

required=$((0x4000))
failed=0
for lib in "$@"; do
    # The last field of each LOAD line is its alignment, e.g. 0x4000.
    aligns=$("$readelf_cmd" -lW "$lib" | awk '$1 == "LOAD" { print $NF }')
    if [ -z "$aligns" ]; then
        echo "FAIL  $lib: no LOAD segment (not an ELF shared object?)"
        failed=1
        continue
    fi
    smallest=""
    for align in $aligns; do
        value=$((align))
        if [ -z "$smallest" ] || [ "$value" -lt "$smallest" ]; then
            smallest=$value
        fi
    done
    size=$(wc -c <"$lib")
    if [ "$smallest" -ge "$required" ]; then
        printf 'ok    %s: LOAD align 0x%x, %s bytes\n' "$lib" "$smallest" "$size"
    else
        printf 'FAIL  %s: LOAD align 0x%x < 0x4000 (link with -z max-page-size=16384)\n' "$lib" "$smallest"
        failed=1
    fi
done
exit "$failed"
