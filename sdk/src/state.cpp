// dynperiph SDK: state blob writer/reader.
#include "dynperiph/sdk/state.hpp"

#include <cstring>
#include <vector>

#include "dynperiph/sdk/error.hpp"

namespace dynperiph {

struct StateWriter::Buf {
    std::vector<uint8_t> v;
};

StateWriter::StateWriter() : buf_(new Buf) {}
StateWriter::~StateWriter() { delete buf_; }

void StateWriter::u8(uint8_t v) { buf_->v.push_back(v); }
void StateWriter::u16(uint16_t v) {
    for (int i = 0; i < 2; ++i)
        buf_->v.push_back(uint8_t(v >> (8 * i)));
}
void StateWriter::u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
        buf_->v.push_back(uint8_t(v >> (8 * i)));
}
void StateWriter::u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
        buf_->v.push_back(uint8_t(v >> (8 * i)));
}
void StateWriter::bytes(const void *p, size_t n) {
    const uint8_t *b = static_cast<const uint8_t *>(p);
    buf_->v.insert(buf_->v.end(), b, b + n);
}
void StateWriter::str(const char *s) {
    size_t n = std::strlen(s);
    if (n > 0xffff)
        throw Error("state string of %zu bytes is too long", n);
    u16(uint16_t(n));
    bytes(s, n);
}
const uint8_t *StateWriter::data() const { return buf_->v.data(); }
size_t StateWriter::size() const { return buf_->v.size(); }

const uint8_t *StateReader::need(size_t n) {
    if (n > n_ - pos_)
        throw Error("state blob truncated: need %zu more bytes at offset %zu of %zu", n, pos_, n_);
    const uint8_t *p = p_ + pos_;
    pos_ += n;
    return p;
}

uint8_t StateReader::u8() { return *need(1); }
uint16_t StateReader::u16() {
    const uint8_t *p = need(2);
    return uint16_t(p[0] | (p[1] << 8));
}
uint32_t StateReader::u32() {
    const uint8_t *p = need(4);
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
uint64_t StateReader::u64() {
    uint64_t lo = u32();
    uint64_t hi = u32();
    return lo | (hi << 32);
}
void StateReader::bytes(void *out, size_t n) { std::memcpy(out, need(n), n); }
size_t StateReader::str(char *out, size_t cap) {
    size_t n = u16();
    const uint8_t *p = need(n);
    if (cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        std::memcpy(out, p, k);
        out[k] = '\0';
    }
    return n;
}

} // namespace dynperiph
