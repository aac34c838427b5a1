# Firmware for QEMU Cortex-M boards (firmware/support/boards/<board>: mps2-an385, mps2-an386,
# mps2-an505, mps3-an547, netduinoplus2), cross-built with Debian's gcc-arm-none-eabi + newlib.
# The board of a firmware is its BOARD argument, else the cache option DYNPERIPH_BOARD (default
# mps2-an385); DYNPERIPH_BOARDS lists every supported board.
#
#   dynperiph_add_firmware(<name> SOURCES <src>... [BOARD <board>] [INCLUDES <dir>...]
#                          [DEFINES <def>...] [DEPENDS <host target>...])
#     Builds ${DYNPERIPH_FIRMWARE_DIR}/<name>.elf from C sources linked with firmware/support (startup,
#     the board's linker script and dp/board.h, semihosting, newlib syscalls, console, NVIC helpers,
#     test framework). Relative paths are relative to the calling folder. DEPENDS names host targets
#     (e.g. a generated header's target `crc-dma-header`) that must be built first; put the generated
#     header's folder in INCLUDES.
#
#   dynperiph_add_firmware_test(NAME <test> FIRMWARE <name> [QEMU_ARGS <arg>...] [TIMEOUT <s>]
#                               [ICOUNT <shift>] [EXPECT_EXIT <status>] [EXPECT_OUTPUT <regex>...]
#                               [LABELS <label>...])
#     Registers a CTest test (only if DYNPERIPH_QEMU is set) that runs
#       ${DYNPERIPH_QEMU} -M <the firmware's board> -nographic -semihosting-config enable=on,target=native
#                         -kernel <elf> [-icount shift=<shift>,align=off,sleep=off] <QEMU_ARGS>
#     and passes iff QEMU's exit status (the firmware's semihosting exit code, i.e. main()'s return
#     value) equals EXPECT_EXIT (default 0) and the output matches every EXPECT_OUTPUT regex.
#
# All firmware is built by ONE cross-compiling CMake project (firmware/cross, ExternalProject
# `dynperiph-firmware`) configured with cmake/arm-none-eabi.cmake. The firmware list reaches it as a
# generated manifest that is rewritten only when it changes; the inner build runs on every build of
# the host tree and is incremental, so editing one firmware source recompiles and relinks only that
# firmware. The ExternalProject is set up once, at the end of the top-level CMakeLists.txt (deferred
# call), so firmware may be added from any folder in any order.
# The board list is set in every including directory (a plain variable is directory-scoped).
file(GLOB _dp_board_files RELATIVE "${CMAKE_CURRENT_LIST_DIR}/../firmware/support/boards"
     "${CMAKE_CURRENT_LIST_DIR}/../firmware/support/boards/*/board.cmake")
set(DYNPERIPH_BOARDS "")
foreach(_f IN LISTS _dp_board_files)
  cmake_path(GET _f PARENT_PATH _b)
  list(APPEND DYNPERIPH_BOARDS "${_b}")
endforeach()
list(SORT DYNPERIPH_BOARDS)
set(DYNPERIPH_BOARD "mps2-an385" CACHE STRING "Board of firmware that names none (one of: ${DYNPERIPH_BOARDS})")
set_property(CACHE DYNPERIPH_BOARD PROPERTY STRINGS ${DYNPERIPH_BOARDS})
if(NOT DYNPERIPH_BOARD IN_LIST DYNPERIPH_BOARDS)
  message(FATAL_ERROR "DYNPERIPH_BOARD=${DYNPERIPH_BOARD} is not a supported board (${DYNPERIPH_BOARDS})")
endif()


include_guard(GLOBAL)
include(ExternalProject)

set_property(GLOBAL PROPERTY DYNPERIPH_FW_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

option(DYNPERIPH_FIRMWARE "Cross-build the firmware (needs gcc-arm-none-eabi)" ON)
# dynperiph_board_info(<board> <prefix>): <prefix>_MACHINE, _CONSOLE, _WINDOW (a free MMIO window for
# dynperiph devices), _IRQ_A, _IRQ_B (free NVIC inputs) from firmware/support/boards/<board>/board.cmake.
function(dynperiph_board_info board prefix)
  get_property(fwcmake GLOBAL PROPERTY DYNPERIPH_FW_CMAKE_DIR)
  set(f "${fwcmake}/../firmware/support/boards/${board}/board.cmake")
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "dynperiph: unknown board '${board}' (supported: ${DYNPERIPH_BOARDS})")
  endif()
  include("${f}")
  foreach(k MACHINE CONSOLE WINDOW IRQ_A IRQ_B)
    set(${prefix}_${k} "${DP_BOARD_${k}}" PARENT_SCOPE)
  endforeach()
endfunction()
cmake_host_system_information(RESULT _dp_cores QUERY NUMBER_OF_LOGICAL_CORES)
set(DYNPERIPH_FIRMWARE_JOBS "${_dp_cores}" CACHE STRING "Parallel jobs of the firmware cross build")

function(_dynperiph_fw_abs out base)
  set(result "")
  foreach(p IN LISTS ARGN)
    if(p MATCHES "^\\$<")
      message(FATAL_ERROR "dynperiph firmware: generator expressions are not supported here: ${p}")
    endif()
    cmake_path(ABSOLUTE_PATH p BASE_DIRECTORY "${base}" NORMALIZE OUTPUT_VARIABLE a)
    list(APPEND result "${a}")
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

function(_dynperiph_fw_schedule)
  get_property(scheduled GLOBAL PROPERTY DYNPERIPH_FW_SCHEDULED)
  if(NOT scheduled)
    set_property(GLOBAL PROPERTY DYNPERIPH_FW_SCHEDULED TRUE)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _dynperiph_firmware_finalize)
  endif()
endfunction()

function(dynperiph_add_firmware name)
  cmake_parse_arguments(PARSE_ARGV 1 FW "" "BOARD" "SOURCES;INCLUDES;DEFINES;DEPENDS")
  if(NOT FW_BOARD)
    set(FW_BOARD "${DYNPERIPH_BOARD}")
  endif()
  if(NOT FW_BOARD IN_LIST DYNPERIPH_BOARDS)
    message(FATAL_ERROR "dynperiph_add_firmware(${name}): unknown BOARD '${FW_BOARD}' (supported: ${DYNPERIPH_BOARDS})")
  endif()
  if(FW_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dynperiph_add_firmware(${name}): unexpected arguments: ${FW_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_.-]+$")
    message(FATAL_ERROR "dynperiph_add_firmware: bad firmware name '${name}' (use letters, digits, _ . -)")
  endif()
  if(NOT FW_SOURCES)
    message(FATAL_ERROR "dynperiph_add_firmware(${name}): SOURCES is empty")
  endif()
  get_property(names GLOBAL PROPERTY DYNPERIPH_FW_NAMES)
  if(name IN_LIST names)
    get_property(where GLOBAL PROPERTY DYNPERIPH_FW_${name}_DIR)
    message(FATAL_ERROR "dynperiph_add_firmware: firmware '${name}' is already defined in ${where}")
  endif()
  _dynperiph_fw_abs(srcs "${CMAKE_CURRENT_SOURCE_DIR}" ${FW_SOURCES})
  foreach(s IN LISTS srcs)
    if(NOT EXISTS "${s}")
      message(FATAL_ERROR "dynperiph_add_firmware(${name}): source file not found: ${s}")
    endif()
  endforeach()
  _dynperiph_fw_abs(incs "${CMAKE_CURRENT_SOURCE_DIR}" ${FW_INCLUDES})
  set_property(GLOBAL APPEND PROPERTY DYNPERIPH_FW_NAMES "${name}")
  set_property(GLOBAL PROPERTY DYNPERIPH_FW_${name}_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set_property(GLOBAL PROPERTY DYNPERIPH_FW_${name}_SOURCES "${srcs}")
  set_property(GLOBAL PROPERTY DYNPERIPH_FW_${name}_INCLUDES "${incs}")
  set_property(GLOBAL PROPERTY DYNPERIPH_FW_${name}_DEFINES "${FW_DEFINES}")
  set_property(GLOBAL PROPERTY DYNPERIPH_FW_${name}_DEPENDS "${FW_DEPENDS}")
  set_property(GLOBAL PROPERTY DYNPERIPH_FW_${name}_BOARD "${FW_BOARD}")
  _dynperiph_fw_schedule()
endfunction()

function(dynperiph_add_firmware_test)
  cmake_parse_arguments(PARSE_ARGV 0 FT "" "NAME;FIRMWARE;TIMEOUT;ICOUNT;EXPECT_EXIT"
                        "QEMU_ARGS;EXPECT_OUTPUT;LABELS")
  if(FT_UNPARSED_ARGUMENTS OR NOT FT_NAME OR NOT FT_FIRMWARE)
    message(FATAL_ERROR "dynperiph_add_firmware_test: usage NAME <test> FIRMWARE <name> [QEMU_ARGS ...] "
                        "[TIMEOUT s] [ICOUNT shift] [EXPECT_EXIT n] [EXPECT_OUTPUT regex...] (got: ${ARGV})")
  endif()
  set_property(GLOBAL APPEND PROPERTY DYNPERIPH_FW_TESTS "${FT_NAME}|${FT_FIRMWARE}")
  _dynperiph_fw_schedule()
  if(NOT DYNPERIPH_QEMU)
    return()
  endif()
  if(NOT DEFINED FT_TIMEOUT)
    set(FT_TIMEOUT 30)
  endif()
  if(NOT DEFINED FT_EXPECT_EXIT)
    set(FT_EXPECT_EXIT 0)
  endif()
  get_property(board GLOBAL PROPERTY DYNPERIPH_FW_${FT_FIRMWARE}_BOARD)
  if(NOT board)
    message(FATAL_ERROR "dynperiph_add_firmware_test(${FT_NAME}): add firmware '${FT_FIRMWARE}' first")
  endif()
  dynperiph_board_info(${board} _b)
  set(qemu_cmd "${DYNPERIPH_QEMU}" -M ${_b_MACHINE} -nographic
      -semihosting-config enable=on,target=native -kernel "${DYNPERIPH_FIRMWARE_DIR}/${FT_FIRMWARE}.elf")
  if(DEFINED FT_ICOUNT)
    list(APPEND qemu_cmd -icount "shift=${FT_ICOUNT},align=off,sleep=off")
  endif()
  list(APPEND qemu_cmd ${FT_QEMU_ARGS})
  # Regexes travel to the runner through a file, so ';' and quotes in them survive.
  set(expect_file "${CMAKE_CURRENT_BINARY_DIR}/${FT_NAME}.expect.cmake")
  set(content "set(EXPECT_OUTPUT \"\")\n")
  foreach(re IN LISTS FT_EXPECT_OUTPUT)
    string(APPEND content "list(APPEND EXPECT_OUTPUT [==[${re}]==])\n")
  endforeach()
  file(CONFIGURE OUTPUT "${expect_file}" CONTENT "${content}" @ONLY)
  get_property(fwcmake GLOBAL PROPERTY DYNPERIPH_FW_CMAKE_DIR)
  cmake_path(GET fwcmake PARENT_PATH root)
  add_test(NAME ${FT_NAME}
           COMMAND ${CMAKE_COMMAND} -DEXPECT_EXIT=${FT_EXPECT_EXIT} -DEXPECT_FILE=${expect_file}
                   -DTIMEOUT=${FT_TIMEOUT} -P "${root}/firmware/run-firmware-test.cmake" -- ${qemu_cmd})
  math(EXPR ctest_timeout "${FT_TIMEOUT} + 10")
  set_tests_properties(${FT_NAME} PROPERTIES TIMEOUT ${ctest_timeout}
                       LABELS "firmware;${board};${FT_LABELS}"
                       REQUIRED_FILES "${DYNPERIPH_FIRMWARE_DIR}/${FT_FIRMWARE}.elf")
endfunction()

# Runs once at the end of the top-level CMakeLists.txt: writes the manifest and adds the cross build.
function(_dynperiph_firmware_finalize)
  get_property(names GLOBAL PROPERTY DYNPERIPH_FW_NAMES)
  get_property(tests GLOBAL PROPERTY DYNPERIPH_FW_TESTS)
  foreach(t IN LISTS tests)
    string(REPLACE "|" ";" t "${t}")
    list(GET t 0 tname)
    list(GET t 1 fw)
    if(NOT fw IN_LIST names)
      message(FATAL_ERROR "dynperiph_add_firmware_test(${tname}): no firmware named '${fw}' "
                          "(known: ${names})")
    endif()
  endforeach()
  if(NOT DYNPERIPH_FIRMWARE OR NOT names)
    return()
  endif()
  find_program(DYNPERIPH_ARM_GCC arm-none-eabi-gcc)
  if(NOT DYNPERIPH_ARM_GCC)
    message(FATAL_ERROR "firmware: arm-none-eabi-gcc not found; run scripts/install-deps.sh "
                        "(or configure with -DDYNPERIPH_FIRMWARE=OFF)")
  endif()
  get_property(fwcmake GLOBAL PROPERTY DYNPERIPH_FW_CMAKE_DIR)
  cmake_path(GET fwcmake PARENT_PATH root)

  set(manifest "# Generated by cmake/DynperiphFirmware.cmake; one call per dynperiph_add_firmware().\n")
  set(byproducts "")
  set(host_deps "")
  foreach(name IN LISTS names)
    foreach(kind SOURCES INCLUDES DEFINES DEPENDS BOARD)
      get_property(${kind} GLOBAL PROPERTY DYNPERIPH_FW_${name}_${kind})
    endforeach()
    string(APPEND manifest "dynperiph_cross_firmware(${name} BOARD ${BOARD}\n")
    foreach(kind SOURCES INCLUDES DEFINES)
      if(${kind})
        string(APPEND manifest "  ${kind}")
        foreach(v IN LISTS ${kind})
          string(APPEND manifest " [==[${v}]==]")
        endforeach()
        string(APPEND manifest "\n")
      endif()
    endforeach()
    string(APPEND manifest ")\n")
    foreach(d IN LISTS DEPENDS)
      if(NOT TARGET ${d})
        message(FATAL_ERROR "dynperiph_add_firmware(${name}): DEPENDS names no target: ${d}")
      endif()
      list(APPEND host_deps ${d})
    endforeach()
    list(APPEND byproducts "${DYNPERIPH_FIRMWARE_DIR}/${name}.elf")
  endforeach()
  set(cross_dir "${CMAKE_BINARY_DIR}/firmware-cross")
  file(CONFIGURE OUTPUT "${cross_dir}/manifest.cmake" CONTENT "${manifest}" @ONLY)

  ExternalProject_Add(dynperiph-firmware
    SOURCE_DIR "${root}/firmware/cross"
    BINARY_DIR "${cross_dir}/build"
    PREFIX "${cross_dir}"
    CMAKE_ARGS
      "-DCMAKE_TOOLCHAIN_FILE=${fwcmake}/arm-none-eabi.cmake"
      "-DDYNPERIPH_FIRMWARE_MANIFEST=${cross_dir}/manifest.cmake"
      "-DDYNPERIPH_FIRMWARE_DIR=${DYNPERIPH_FIRMWARE_DIR}"
      "-DDYNPERIPH_FIRMWARE_SUPPORT_DIR=${root}/firmware/support"
    BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> -j ${DYNPERIPH_FIRMWARE_JOBS}
    BUILD_ALWAYS TRUE
    BUILD_BYPRODUCTS ${byproducts}
    INSTALL_COMMAND ""
    # The manifest may change while the inner build tree exists: the inner CMake re-runs by itself.
    CONFIGURE_HANDLED_BY_BUILD TRUE)
  if(host_deps)
    list(REMOVE_DUPLICATES host_deps)
    add_dependencies(dynperiph-firmware ${host_deps})
  endif()
endfunction()
