// dynperiph SDK: byte-stream writer/reader for save_state/load_state (hot reload).
// Little-endian, fixed-width. A reader throws dynperiph::Error on a truncated blob, which the SDK's
// trampoline turns into DP_ERR_INVALID (the host then keeps the old plugin running).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dynperiph {

class StateWriter {
  public:
    StateWriter();
    ~StateWriter();
    StateWriter(const StateWriter &) = delete;
    StateWriter &operator=(const StateWriter &) = delete;

    void u8(uint8_t v);
    void u16(uint16_t v);
    void u32(uint32_t v);
    void u64(uint64_t v);
    void bytes(const void *p, size_t n);
    void str(const char *s); // u16 length + bytes

    const uint8_t *data() const;
    size_t size() const;

  private:
    struct Buf;
    Buf *buf_;
};

class StateReader {
  public:
    StateReader(const void *p, size_t n) : p_(static_cast<const uint8_t *>(p)), n_(n) {}

    uint8_t u8();
    uint16_t u16();
    uint32_t u32();
    uint64_t u64();
    void bytes(void *out, size_t n);
    // Reads a string written by StateWriter::str into out (NUL-terminated, truncated to cap-1).
    // Returns the stored length.
    size_t str(char *out, size_t cap);

    size_t remaining() const { return n_ - pos_; }
    bool at_end() const { return pos_ == n_; }

  private:
    const uint8_t *need(size_t n);
    const uint8_t *p_;
    size_t n_;
    size_t pos_ = 0;
};

} // namespace dynperiph
