# Board facts for the firmware build and its tests (read by cmake/DynperiphFirmware.cmake and
# firmware/cross): QEMU machine, CPU flags, console, free MMIO window and NVIC inputs (as dp/board.h).
set(DP_BOARD_MACHINE mps3-an547)
set(DP_BOARD_CPU_FLAGS -mcpu=cortex-m55+nofp+nomve -mfloat-abi=soft)
set(DP_BOARD_CONSOLE semihosting)
set(DP_BOARD_WINDOW 0x40120000)
set(DP_BOARD_IRQ_A 100)
set(DP_BOARD_IRQ_B 101)
