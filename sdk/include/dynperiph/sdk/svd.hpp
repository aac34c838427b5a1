// dynperiph SDK: CMSIS-SVD parser (the subset a dynperiph peripheral needs), shared by
// RegisterBank::from_svd* and the svd2header tool so plugin and firmware header can never disagree.
//
// Supported: <device> with <peripherals>/<peripheral> (name, description, baseAddress, addressBlock size,
// register-properties inheritance device → peripheral → register for size/access/resetValue/resetMask);
// <registers>/<register> with name, description, addressOffset, size (32 only), access, resetValue,
// dim/dimIncrement/dimIndex (`NAME[%s]` = array, `NAME%s` = list of registers); <fields>/<field> with
// bitOffset+bitWidth, bitRange "[msb:lsb]" or lsb+msb, access, modifiedWriteValues (oneToClear, oneToSet,
// zeroToClear, oneToToggle, modify), readAction (clear, modify), enumeratedValues/enumeratedValue
// (name, value, description). Numbers: decimal, 0x/0X hex, #binary.
// writeOnce / read-writeOnce are treated as write-only / read-write (the once-only rule is not modelled);
// resetMask is ignored (every bit has the reset value given).
// Not supported (rejected with a clear error): <cluster>, derivedFrom, register sizes other than 32.
//
// Every error is a dynperiph::Error whose text is
//   "<source>: <element path>: <problem>"   e.g. "crc.svd: peripheral CRC, register CTRL: missing <addressOffset>"
//
// This header is NOT included by plugin code (it pulls <string>/<vector>); plugins use RegisterBank.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dynperiph/sdk/register_bank.hpp"

namespace dynperiph::svd {

struct FieldMode {
    bool readable = true;
    bool writable = true;
    enum class Write : uint8_t { Normal, OneToClear, OneToSet, ZeroToClear, OneToToggle } write = Write::Normal;
    bool read_clears = false;
};

struct EnumValue {
    std::string name, description;
    uint32_t value = 0;
};

struct Field {
    std::string name, description;
    unsigned lsb = 0, width = 1;
    FieldMode mode;
    std::string access; // SVD access string as given/inherited ("read-write", ...)
    std::vector<EnumValue> enums;
};

struct Register {
    std::string name;     // element name: "CTRL", "ODR[3]", "CH2"
    std::string array;    // "ODR" for an element of an `ODR[%s]` array, else empty
    unsigned index = 0;   // element index within `array`
    std::string description;
    uint32_t offset = 0;
    uint32_t reset = 0;
    FieldMode mode;       // register-level access (used when there are no fields)
    std::string access;
    std::vector<Field> fields;
};

struct Interrupt {
    std::string name, description;
    uint32_t value = 0; // interrupt-controller input (NVIC external IRQ number)
};

struct Peripheral {
    std::string name, description, source;
    uint64_t base = 0;
    bool has_base = false;            // <baseAddress> present
    std::vector<Interrupt> interrupts; // <interrupt> elements, in file order
    uint64_t block_size = 0; // addressBlock size, 0 if absent
    std::vector<Register> registers; // sorted by offset, dim arrays expanded
};

// Parses SVD text; `peripheral` empty = the only peripheral in the file.
Peripheral parse_text(const std::string &text, const std::string &peripheral, const std::string &source);
Peripheral parse_file(const std::string &path, const std::string &peripheral);
// Parses every peripheral of the file (svd2header --embed validates a whole file this way).
std::vector<Peripheral> parse_all(const std::string &text, const std::string &source);

// Builds a register bank from a parsed peripheral.
RegisterBank to_bank(const Peripheral &p);

} // namespace dynperiph::svd
