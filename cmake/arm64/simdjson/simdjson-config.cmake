# simdjson::simdjson for the arm64 cross build (cmake/aarch64-linux-gnu.cmake): the
# architecture-independent header from libsimdjson-dev (amd64) and the arm64 shared library
# from libsimdjson14:arm64. Same target and definitions as Debian's own simdjson-config.cmake.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
set(_cistern_simdjson_lib /usr/lib/aarch64-linux-gnu/libsimdjson.so.14)
if(NOT EXISTS ${_cistern_simdjson_lib} OR NOT EXISTS /usr/include/simdjson.h)
  set(simdjson_FOUND FALSE)
  set(simdjson_NOT_FOUND_MESSAGE
    "needs libsimdjson14:arm64 and libsimdjson-dev (scripts/install-deps --arm64)")
  return()
endif()
if(NOT TARGET simdjson::simdjson)
  add_library(simdjson::simdjson SHARED IMPORTED)
  set_target_properties(simdjson::simdjson PROPERTIES
    IMPORTED_LOCATION ${_cistern_simdjson_lib}
    IMPORTED_SONAME libsimdjson.so.14
    INTERFACE_COMPILE_DEFINITIONS "SIMDJSON_THREADS_ENABLED=1"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
set(simdjson_FOUND TRUE)
