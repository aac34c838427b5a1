# CMake toolchain file for bare-metal Arm Cortex-M firmware (Debian's gcc-arm-none-eabi + newlib).
# Used by the firmware cross build (firmware/cross); the CPU is selected with DYNPERIPH_FW_CPU
# (default cortex-m3, the CPU of QEMU's mps2-an385 board).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(DYNPERIPH_FW_CPU "cortex-m3" CACHE STRING "-mcpu for firmware builds")
set(_dp_prefix arm-none-eabi-)
find_program(CMAKE_C_COMPILER ${_dp_prefix}gcc REQUIRED)
find_program(CMAKE_ASM_COMPILER ${_dp_prefix}gcc REQUIRED)
find_program(CMAKE_OBJCOPY ${_dp_prefix}objcopy)
find_program(CMAKE_SIZE ${_dp_prefix}size)

# The compiler cannot link a hosted executable; compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "-mcpu=${DYNPERIPH_FW_CPU} -mthumb -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "-mcpu=${DYNPERIPH_FW_CPU} -mthumb")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mcpu=${DYNPERIPH_FW_CPU} -mthumb --specs=nano.specs -Wl,--gc-sections")

# Never pick up host libraries or headers.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
