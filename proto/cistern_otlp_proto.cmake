# cistern_add_otlp_proto(<target>): runs protoc on proto/cistern/otlp/*.proto at build time and
# defines the static library <target> holding the generated C++ (include "cistern/otlp/x.pb.h").
# Shared by the main build and fuzz/ (which includes this file from its own project).
# REQUIRES: find_package(Protobuf REQUIRED) in the calling project.
set(CISTERN_OTLP_PROTO_ROOT ${CMAKE_CURRENT_LIST_DIR})

function(cistern_add_otlp_proto target)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/otlp_proto)
  set(protos)
  set(generated)
  foreach(name common resource logs metrics logs_service metrics_service)
    list(APPEND protos ${CISTERN_OTLP_PROTO_ROOT}/cistern/otlp/${name}.proto)
    list(APPEND generated ${out_dir}/cistern/otlp/${name}.pb.cc ${out_dir}/cistern/otlp/${name}.pb.h)
  endforeach()
  add_custom_command(
    OUTPUT ${generated}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND protobuf::protoc --cpp_out=${out_dir} -I ${CISTERN_OTLP_PROTO_ROOT} ${protos}
    DEPENDS ${protos} protobuf::protoc
    COMMENT "protoc: OTLP subset (proto/cistern/otlp)"
    VERBATIM)
  add_library(${target} STATIC ${generated})
  # SYSTEM: the project's warning flags are not for generated code.
  target_include_directories(${target} SYSTEM PUBLIC ${out_dir})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf)
endfunction()
