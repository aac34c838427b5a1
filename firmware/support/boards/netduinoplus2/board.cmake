# Board facts for the firmware build and its tests (read by cmake/DynperiphFirmware.cmake and
# firmware/cross): QEMU machine, CPU flags, console, free MMIO window and NVIC inputs (as dp/board.h).
set(DP_BOARD_MACHINE netduinoplus2)
set(DP_BOARD_CPU_FLAGS -mcpu=cortex-m4 -mfloat-abi=soft)
set(DP_BOARD_CONSOLE semihosting)
set(DP_BOARD_WINDOW 0x40030000)
set(DP_BOARD_IRQ_A 16)
set(DP_BOARD_IRQ_B 17)
