# Checks a wheel that `cargo xtask` built with maturin (xtask/src/wheel.rs runs
# this with `python -c`): argv is WHEEL CDYLIB VERSION.
#
# Passes when the wheel's tag is `py3-none-<platform>` with this host's
# platform tag (`manylinux_*` on Linux, as PyPI accepts no plain `linux`
# tag; `macosx_*` on macOS), its version is VERSION, it holds the
# hand-written package layer and the generated bindings, and its only native
# library is byte for byte CDYLIB, the library that cargo built for the
# profile asked for. Prints the tag and the library's size; exits 1 with the
# reasons otherwise.
import hashlib
import os
import sys
import zipfile

wheel, cdylib, version = sys.argv[1:4]
PLATFORM_TAGS = {"linux": "manylinux_", "darwin": "macosx_"}
platform_prefix = PLATFORM_TAGS.get(sys.platform)
if platform_prefix is None:
    sys.exit(f"wheel check: no wheel platform tag known for {sys.platform}")
PACKAGE = "matrix_mobile_core/"
LIBRARY = PACKAGE + "_ffi/" + os.path.basename(cdylib)
REQUIRED = [
    PACKAGE + "__init__.py",
    PACKAGE + "__init__.pyi",
    PACKAGE + "_security.py",
    PACKAGE + "_streams.py",
    PACKAGE + "py.typed",
    PACKAGE + "_ffi/__init__.py",
    PACKAGE + "_ffi/matrix_mobile_core.py",
    LIBRARY,
]
NATIVE = (".so", ".dylib", ".dll", ".pyd")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


problems = []
with zipfile.ZipFile(wheel) as archive:
    names = archive.namelist()
    dist_info = f"matrix_mobile_core-{version}.dist-info/"
    tags = []
    if dist_info + "WHEEL" not in names:
        problems.append(f"no {dist_info}WHEEL: the version is not {version}")
    else:
        wheel_meta = archive.read(dist_info + "WHEEL").decode()
        tags = [line.split(":", 1)[1].strip() for line in wheel_meta.splitlines() if line.startswith("Tag:")]
        metadata = archive.read(dist_info + "METADATA").decode()
        if f"\nVersion: {version}\n" not in metadata:
            problems.append(f"METADATA does not state Version: {version}")
    if not tags:
        problems.append("the WHEEL file names no tag")
    for tag in tags:
        platform = tag.split("-")[-1]
        if not tag.startswith("py3-none-"):
            problems.append(f"tag {tag}: expected py3-none-<platform> (the library is loaded with ctypes)")
        if not platform.startswith(platform_prefix):
            problems.append(f"tag {tag}: expected {platform_prefix}* on {sys.platform} (PyPI refuses plain linux tags)")
    for name in REQUIRED:
        if name not in names:
            problems.append(f"missing {name}")
    natives = [n for n in names if n.endswith(NATIVE)]
    if natives != [LIBRARY]:
        problems.append(f"native libraries {natives}: expected exactly [{LIBRARY}]")
    if PACKAGE + "_ffi.py" in names:
        problems.append(f"{PACKAGE}_ffi.py: a leftover of the layout before maturin")
    if LIBRARY in names:
        packed = archive.read(LIBRARY)
        with open(cdylib, "rb") as built_file:
            built = built_file.read()
        if sha256(packed) != sha256(built):
            problems.append(
                f"{LIBRARY} ({len(packed)} bytes) is not {cdylib} ({len(built)} bytes), "
                "the library cargo built for this profile"
            )
        else:
            print(f"wheel check: tag {', '.join(tags)}; {LIBRARY} is {cdylib}, {len(packed) / 2**20:.1f} MiB")

if problems:
    for problem in problems:
        print(f"wheel check: {problem}")
    sys.exit(1)
