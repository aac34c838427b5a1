# dynperiph: building peripheral plugins (and other dlopen'ed modules such as CIM backends).
#
# dynperiph_add_plugin(<target> <name>
#                      SOURCES <src>...
#                      [LIBS <lib>...]            extra libraries (linked PRIVATE)
#                      [SVD <file.svd>]           embed the SVD text into the .so (dynperiph/sdk/embedded_svd.hpp)
#                      [EXPORTS <symbol>...]      exported symbols (default: dynperiph_plugin_entry;
#                                                 a CIM backend passes EXPORTS cim_backend_entry)
#                      [OUTPUT_DIR <dir>]         default: ${DYNPERIPH_PLUGIN_DIR}
#                      [NO_SDK])                  do not link dynperiph_sdk (plain C ABI module)
#
# Produces the MODULE library <OUTPUT_DIR>/<name>.so compiled with -fvisibility=hidden and linked with a
# version script that exports only EXPORTS (everything else, including the statically linked SDK and
# libstdc++ template instances, stays local), and with -z defs so a missing symbol fails at link time,
# not at dlopen time in QEMU.
#
# Why the plugin rebuilds fast: the plugin's own TUs include only the SDK's light headers (no <string>,
# <vector>, <functional>); the SDK itself is a static PIC library compiled once; the link uses lld when
# available. See sdk/README.md.
include_guard(GLOBAL)

# Extra compile options for plugin sources only, e.g. -Og for the fastest edit-rebuild loop while
# developing a plugin (the last -O wins over the build type's). Empty = follow CMAKE_BUILD_TYPE.
set(DYNPERIPH_PLUGIN_OPT "" CACHE STRING "extra compile options for plugin TUs (e.g. -Og)")

find_program(DYNPERIPH_LLD ld.lld)
include(CheckLinkerFlag)
if(DYNPERIPH_LLD)
  check_linker_flag(CXX "-fuse-ld=lld" DYNPERIPH_HAVE_LLD)
endif()

function(dynperiph_add_plugin target name)
  cmake_parse_arguments(PARSE_ARGV 2 P "NO_SDK" "SVD;OUTPUT_DIR" "SOURCES;LIBS;EXPORTS")
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dynperiph_add_plugin(${target}): unknown arguments: ${P_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT P_SOURCES)
    message(FATAL_ERROR "dynperiph_add_plugin(${target}): SOURCES is required")
  endif()
  if(NOT P_EXPORTS)
    set(P_EXPORTS dynperiph_plugin_entry)
  endif()
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${DYNPERIPH_PLUGIN_DIR})
  endif()

  set(sources ${P_SOURCES})
  if(P_SVD)
    get_filename_component(svd_abs ${P_SVD} ABSOLUTE)
    set(gen ${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded_svd.cpp)
    # svd2header validates the SVD (a broken SVD fails the build, naming file/element/problem) and writes
    # a .cpp holding its text as a raw string literal.
    add_custom_command(OUTPUT ${gen}
      COMMAND svd2header --embed ${gen} ${svd_abs}
      DEPENDS svd2header ${svd_abs}
      COMMENT "Embedding ${P_SVD} into ${name}.so"
      VERBATIM)
    list(APPEND sources ${gen})
  endif()

  add_library(${target} MODULE ${sources})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name} SUFFIX ".so"
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)

  list(JOIN P_EXPORTS ";\n    " syms)
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.exports.map)
  file(CONFIGURE OUTPUT ${map} CONTENT "{\n  global:\n    ${syms};\n  local: *;\n};\n")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${map}" "LINKER:-z,defs")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
  if(DYNPERIPH_HAVE_LLD)
    target_link_options(${target} PRIVATE -fuse-ld=lld)
  endif()
  if(DYNPERIPH_PLUGIN_OPT)
    separate_arguments(_dp_opt UNIX_COMMAND "${DYNPERIPH_PLUGIN_OPT}")
    target_compile_options(${target} PRIVATE ${_dp_opt})
  endif()

  if(NOT P_NO_SDK)
    target_link_libraries(${target} PRIVATE dynperiph_sdk)
  else()
    target_link_libraries(${target} PRIVATE dynperiph_abi)
  endif()
  if(P_LIBS)
    target_link_libraries(${target} PRIVATE ${P_LIBS})
  endif()
endfunction()

include(DynperiphSvd)
