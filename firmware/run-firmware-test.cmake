# Runs one firmware under QEMU for CTest (see dynperiph_add_firmware_test in
# cmake/DynperiphFirmware.cmake):
#   cmake -DEXPECT_EXIT=<n> -DEXPECT_FILE=<f> -DTIMEOUT=<s> -P run-firmware-test.cmake -- <qemu cmd...>
# Passes iff QEMU exits with EXPECT_EXIT (the firmware's semihosting exit status) and the combined
# output matches every regex listed in EXPECT_FILE.
cmake_minimum_required(VERSION 3.25)

set(cmd "")
set(after_dashes FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_dashes)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "run-firmware-test: no QEMU command after --")
endif()
set(EXPECT_OUTPUT "")
if(EXPECT_FILE)
  include("${EXPECT_FILE}")
endif()

list(JOIN cmd " " shown)
message("run-firmware-test: ${shown}")
execute_process(COMMAND ${cmd}
                INPUT_FILE /dev/null
                OUTPUT_VARIABLE out ERROR_VARIABLE out
                RESULT_VARIABLE rc
                TIMEOUT ${TIMEOUT})
# QEMU's serial output uses CRLF; show it with plain newlines.
string(REPLACE "\r\n" "\n" out "${out}")
message("${out}")

set(failed FALSE)
if(NOT rc STREQUAL "${EXPECT_EXIT}")
  if(rc MATCHES "^[0-9]+$")
    message("run-firmware-test: FAILED: exit status ${rc}, expected ${EXPECT_EXIT}")
  else()
    message("run-firmware-test: FAILED: ${rc} (timeout ${TIMEOUT} s, expected exit status ${EXPECT_EXIT})")
  endif()
  set(failed TRUE)
endif()
foreach(re IN LISTS EXPECT_OUTPUT)
  if(NOT out MATCHES "${re}")
    message("run-firmware-test: FAILED: output does not match: ${re}")
    set(failed TRUE)
  endif()
endforeach()
if(failed)
  # CMake's fatal error exit status tells CTest the test failed.
  message(FATAL_ERROR "run-firmware-test: test failed")
endif()
message("run-firmware-test: passed (exit status ${rc})")
