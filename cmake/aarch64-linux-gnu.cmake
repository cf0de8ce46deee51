# Cross-compiling for arm64 (aarch64) with Debian 12's cross toolchain and multiarch libraries
# (docs/packaging.md). `make arm64` uses it: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake.
# Needs `scripts/install-deps --arm64`: crossbuild-essential-arm64 and the :arm64 -dev packages,
# which Debian installs beside the amd64 ones (/usr/lib/aarch64-linux-gnu, /usr/include/aarch64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Multiarch: the target's libraries live in the host's /usr, under lib/aarch64-linux-gnu.
# Programs (protoc, pkg-config helpers) are the host's; libraries, headers and CMake packages are
# looked up for the target only, so nothing amd64 gets linked by mistake.
set(CMAKE_FIND_ROOT_PATH /usr/${CMAKE_LIBRARY_ARCHITECTURE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# protoc runs on the build machine (protobuf-compiler, amd64); the generated code links
# libprotobuf-dev:arm64. FindProtobuf would otherwise look for an arm64 protoc.
set(Protobuf_PROTOC_EXECUTABLE /usr/bin/protoc CACHE FILEPATH "host protoc")

# pkg-config (libnats, libmosquitto, tomlplusplus, libsystemd) must read the arm64 .pc files.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# libsimdjson-dev is not Multi-Arch: same in Debian 12, so it cannot be installed for arm64 beside
# the amd64 one. Its header is architecture-independent: cmake/arm64/simdjson pairs it with the
# arm64 runtime library (libsimdjson14:arm64).
set(simdjson_DIR ${CMAKE_CURRENT_LIST_DIR}/arm64/simdjson CACHE PATH "simdjson for arm64")

# Tests (and gtest_discover_tests) run the arm64 binaries through qemu-user (qemu-user-static).
# The multiarch libraries and the arm64 loader (/lib/ld-linux-aarch64.so.1) are where qemu looks.
find_program(CISTERN_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(CISTERN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CISTERN_QEMU_AARCH64})
endif()
