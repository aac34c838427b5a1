# Changing a plugin's source rebuilds only that .so, QEMU is untouched, and the next QEMU run shows the
# new behaviour. Works on a scratch copy of tests/plugins/test_periph.c in WORK (never the source tree):
#   cmake -DQEMU=... -DPEEK=dp-qtest-peek -DSRC=<repo> -DWORK=<dir> -DGENERATOR=Ninja -P plugin_rebuild_test.cmake
foreach(v QEMU PEEK SRC WORK GENERATOR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "plugin_rebuild_test: -D${v}=... is required")
  endif()
endforeach()

function(now out)
  execute_process(COMMAND date +%s.%N OUTPUT_VARIABLE t OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(${out} ${t} PARENT_SCOPE)
endfunction()

function(ms_between out a b)
  execute_process(COMMAND awk "BEGIN { printf \"%d\", (${b} - ${a}) * 1000 }" OUTPUT_VARIABLE ms)
  set(${out} ${ms} PARENT_SCOPE)
endfunction()

# Writes the scratch plugin source with ID register value `id`.
function(write_source id)
  file(READ ${SRC}/tests/plugins/test_periph.c text)
  string(REPLACE "#define TP_ID_VALUE (TP_ID_BASE + TP_VARIANT)" "#define TP_ID_VALUE ${id}u" edited "${text}")
  if(edited STREQUAL text)
    message(FATAL_ERROR "plugin_rebuild_test: the TP_ID_VALUE default was not found in test_periph.c")
  endif()
  file(WRITE ${WORK}/src/test_periph.c "${edited}")
endfunction()

function(build out_log)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build RESULT_VARIABLE rc OUTPUT_VARIABLE log
                  ERROR_VARIABLE log)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "plugin_rebuild_test: build failed:\n${log}")
  endif()
  set(${out_log} "${log}" PARENT_SCOPE)
endfunction()

# Reads the ID register of the scratch plugin in a fresh QEMU.
function(peek out)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env DYNPERIPH_QEMU=${QEMU}
                    ${PEEK} 0x40120000 -device dynperiph,plugin=${WORK}/build/scratch-periph.so,addr=0x40120000
                  RESULT_VARIABLE rc OUTPUT_VARIABLE value ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "plugin_rebuild_test: QEMU run failed: ${err}")
  endif()
  set(${out} ${value} PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/src)
file(WRITE ${WORK}/src/CMakeLists.txt "
cmake_minimum_required(VERSION 3.25)
project(scratch_plugin C)
add_library(scratch-periph MODULE test_periph.c)
target_include_directories(scratch-periph PRIVATE ${SRC}/include ${SRC}/tests/plugins)
set_target_properties(scratch-periph PROPERTIES PREFIX \"\" C_VISIBILITY_PRESET hidden)
target_link_options(scratch-periph PRIVATE -Wl,--version-script=${SRC}/tests/plugins/exports.map)
")
write_source(0x11110001)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK}/src -B ${WORK}/build -G ${GENERATOR}
                  -DCMAKE_BUILD_TYPE=RelWithDebInfo
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "plugin_rebuild_test: configure failed: ${err}")
endif()
build(log)
peek(first)
if(NOT first STREQUAL "0x11110001")
  message(FATAL_ERROR "plugin_rebuild_test: first build: QEMU read ${first}, want 0x11110001")
endif()

file(TIMESTAMP ${QEMU} qemu_before "%s")
file(TIMESTAMP ${WORK}/build/scratch-periph.so so_before "%s")
execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1.1)  # mtimes below are compared in seconds
write_source(0x22220002)
now(t0)
build(log)
now(t1)
ms_between(rebuild_ms ${t0} ${t1})
peek(second)
now(t2)
ms_between(run_ms ${t1} ${t2})
file(TIMESTAMP ${QEMU} qemu_after "%s")
file(TIMESTAMP ${WORK}/build/scratch-periph.so so_after "%s")

string(REGEX MATCHALL "\\[[0-9]+/[0-9]+\\]" steps "${log}")
list(LENGTH steps nsteps)
message(STATUS "plugin rebuild after a source edit: ${rebuild_ms} ms (${nsteps} build steps); "
               "QEMU start + first MMIO read: ${run_ms} ms")
if(NOT second STREQUAL "0x22220002")
  message(FATAL_ERROR "plugin_rebuild_test: after the edit QEMU read ${second}, want 0x22220002")
endif()
if(NOT qemu_before STREQUAL qemu_after)
  message(FATAL_ERROR "plugin_rebuild_test: the QEMU binary changed (${qemu_before} -> ${qemu_after})")
endif()
if(so_before STREQUAL so_after)
  message(FATAL_ERROR "plugin_rebuild_test: the plugin .so was not rebuilt")
endif()
if(GENERATOR MATCHES "Ninja" AND NOT nsteps EQUAL 2)
  message(FATAL_ERROR "plugin_rebuild_test: want 2 steps (compile + link the plugin), got:\n${log}")
endif()
build(log)
if(GENERATOR MATCHES "Ninja" AND NOT log MATCHES "no work to do")
  message(FATAL_ERROR "plugin_rebuild_test: a second build was not a no-op:\n${log}")
endif()
file(REMOVE_RECURSE ${WORK})
