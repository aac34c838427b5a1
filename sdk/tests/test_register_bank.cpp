// Register bank: access modes, reserved bits, hooks and their order, unmapped and sub-word accesses,
// arrays and windows, save/restore.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dynperiph/sdk/register_bank.hpp"
#include "dynperiph/sdk/state.hpp"

using namespace dynperiph;

namespace {

struct Logged {
    std::vector<std::pair<dp_log_level, std::string>> lines;
    size_t count(dp_log_level l) const {
        size_t n = 0;
        for (auto &x : lines)
            n += x.first == l;
        return n;
    }
    bool contains(const std::string &s) const {
        for (auto &x : lines)
            if (x.second.find(s) != std::string::npos)
                return true;
        return false;
    }
};

struct BankTest : ::testing::Test {
    RegisterBank bank{"DEV"};
    Logged log;
    void SetUp() override {
        bank.set_log([this](dp_log_level l, const char *m) { log.lines.emplace_back(l, m); });
        bank.add("ID", 0x00, 0x12345678, Access::RO);
        bank.add("CTRL", 0x04, 0x0)
            .field("EN", 0, 1, Access::RW)
            .field("START", 1, 1, Access::WO)
            .field("MODE", 4, 3, Access::RW, 5)
            .field("LOCK", 8, 1, Access::RO, 1);
        bank.add("STATUS", 0x08, 0x0)
            .field("BUSY", 0, 1, Access::RO)
            .field("DONE", 1, 1, Access::W1C)
            .field("ERR", 2, 1, Access::W1C)
            .field("EVT", 3, 1, Access::W1S);
        bank.add("EVENTS", 0x0C, 0x0).field("CNT", 0, 8, Access::RC).field("FLAG", 8, 1, Access::RW);
        bank.add("DATA", 0x10, 0xAABBCCDD);
        bank.reset();
    }
    uint32_t rd(uint64_t off) {
        uint64_t v = 0xdead;
        EXPECT_EQ(bank.read(off, 4, v), DP_OK);
        return uint32_t(v);
    }
    void wr(uint64_t off, uint32_t v) { EXPECT_EQ(bank.write(off, 4, v), DP_OK); }
};

} // namespace

TEST_F(BankTest, ResetValuesIncludingFieldResets) {
    EXPECT_EQ(rd(0x00), 0x12345678u);
    EXPECT_EQ(rd(0x04), (5u << 4) | (1u << 8));
    EXPECT_EQ(rd(0x10), 0xAABBCCDDu);
    wr(0x10, 1);
    bank.reset();
    EXPECT_EQ(rd(0x10), 0xAABBCCDDu);
}

TEST_F(BankTest, ReadOnlyWriteIgnoredAndLoggedOnce) {
    wr(0x00, 0xffffffff);
    EXPECT_EQ(rd(0x00), 0x12345678u);
    EXPECT_EQ(log.count(DP_LOG_GUEST_ERROR), 1u);
    EXPECT_TRUE(log.contains("read-only")) << log.lines.at(0).second;
    EXPECT_TRUE(log.contains("ID"));
    wr(0x00, 0);
    EXPECT_EQ(log.count(DP_LOG_GUEST_ERROR), 1u) << "logged once per register";
    EXPECT_EQ(bank.guest_errors(), 2u) << "but counted every time";
    // Writing back the value that is there (read-modify-write) is not an error.
    RegisterBank b2("X");
    Logged l2;
    b2.set_log([&](dp_log_level l, const char *m) { l2.lines.emplace_back(l, m); });
    b2.add("R", 0, 0x5, Access::RO);
    ASSERT_EQ(b2.write(0, 4, 0x5), DP_OK);
    EXPECT_EQ(l2.lines.size(), 0u);
}

TEST_F(BankTest, FieldModes) {
    // RO field inside a RW register: LOCK stays 1
    wr(0x04, 0x1 | (3u << 4));
    EXPECT_EQ(rd(0x04), 0x1u | (3u << 4) | (1u << 8)) << "START is WO (reads 0), LOCK RO kept";
    // W1C / W1S
    bank.field("STATUS", "DONE").set(1);
    bank.field("STATUS", "ERR").set(1);
    bank.field("STATUS", "BUSY").set(1);
    EXPECT_EQ(rd(0x08), 0x7u);
    wr(0x08, 0x2); // clear DONE only
    EXPECT_EQ(rd(0x08), 0x5u);
    wr(0x08, 0x0); // writing 0 changes nothing
    EXPECT_EQ(rd(0x08), 0x5u);
    wr(0x08, 0x8); // W1S sets EVT
    EXPECT_EQ(rd(0x08), 0xDu);
    wr(0x08, 0x1); // BUSY is RO: ignored (and logged)
    EXPECT_EQ(rd(0x08), 0xDu);
    EXPECT_TRUE(log.contains("STATUS"));
}

TEST_F(BankTest, ReadToClear) {
    bank.field("EVENTS", "CNT").set(7);
    bank.field("EVENTS", "FLAG").set(1);
    EXPECT_EQ(rd(0x0C), 0x107u);
    EXPECT_EQ(rd(0x0C), 0x100u) << "CNT cleared by the read, FLAG kept";
    EXPECT_EQ(bank.field("EVENTS", "CNT").get(), 0u);
}

TEST_F(BankTest, WriteOnlyStoredButReadsZero) {
    Field start = bank.field("CTRL", "START");
    wr(0x04, 0x2);
    EXPECT_EQ(start.get(), 1u) << "plugin side sees the written value";
    EXPECT_EQ(rd(0x04) & 0x2u, 0u);
}

TEST_F(BankTest, ReservedBitsIgnoredLoggedOnceReadZero) {
    const uint32_t keep = (5u << 4) | (1u << 8); // MODE and LOCK as they are
    wr(0x04, 0xF000'0001 | keep);
    EXPECT_EQ(rd(0x04), 0x1u | keep);
    EXPECT_EQ(bank.reg("CTRL").get() & 0xF0000000u, 0u);
    EXPECT_EQ(log.count(DP_LOG_GUEST_ERROR), 1u);
    EXPECT_TRUE(log.contains("reserved bits 0xf0000000 of CTRL")) << log.lines.at(0).second;
    wr(0x04, 0xF000'0001 | keep);
    EXPECT_EQ(log.count(DP_LOG_GUEST_ERROR), 1u);
    // plugin-side set() of reserved bits is possible but never visible to the guest
    bank.reg("CTRL").set(0xFFFFFFFF);
    EXPECT_EQ(rd(0x04), 0x1u | (7u << 4) | (1u << 8));
}

TEST_F(BankTest, UnmappedReadZeroOrBusError) {
    uint64_t v = 1;
    EXPECT_EQ(bank.read(0x40, 4, v), DP_OK);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(bank.write(0x44, 4, 1), DP_OK);
    EXPECT_EQ(log.count(DP_LOG_GUEST_ERROR), 2u);
    EXPECT_TRUE(log.contains("unmapped offset 0x40"));
    EXPECT_TRUE(log.contains("unmapped offset 0x44"));
    bank.set_unmapped(Unmapped::BusError);
    EXPECT_EQ(bank.read(0x40, 4, v), DP_ERR_BUS);
    EXPECT_EQ(bank.write(0x1000000, 4, 1), DP_ERR_BUS);
    EXPECT_EQ(bank.read(0x100000000ull, 4, v), DP_ERR_BUS);
    EXPECT_EQ(log.count(DP_LOG_GUEST_ERROR), 5u);
}

TEST_F(BankTest, SubWordAccesses) {
    uint64_t v;
    ASSERT_EQ(bank.read(0x10, 1, v), DP_OK);
    EXPECT_EQ(v, 0xDDu);
    ASSERT_EQ(bank.read(0x13, 1, v), DP_OK);
    EXPECT_EQ(v, 0xAAu);
    ASSERT_EQ(bank.read(0x12, 2, v), DP_OK);
    EXPECT_EQ(v, 0xAABBu);
    ASSERT_EQ(bank.write(0x11, 1, 0x11), DP_OK);
    EXPECT_EQ(rd(0x10), 0xAABB11DDu);
    ASSERT_EQ(bank.write(0x12, 2, 0x2233), DP_OK);
    EXPECT_EQ(rd(0x10), 0x223311DDu);
    // W1C byte write: bits outside the written byte are not written
    bank.reg("STATUS").set(0x6);
    ASSERT_EQ(bank.write(0x09, 1, 0xff), DP_OK); // byte 1 only: nothing to clear there
    EXPECT_EQ(bank.reg("STATUS").get(), 0x6u);
    ASSERT_EQ(bank.write(0x08, 1, 0x2), DP_OK);
    EXPECT_EQ(bank.reg("STATUS").get(), 0x4u);
    // crossing a word boundary or an odd size is unmapped
    log.lines.clear();
    EXPECT_EQ(bank.read(0x12, 4, v), DP_OK);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(bank.write(0x13, 2, 0xffff), DP_OK);
    EXPECT_EQ(bank.read(0x10, 3, v), DP_OK);
    EXPECT_EQ(log.count(DP_LOG_GUEST_ERROR), 3u);
    EXPECT_EQ(rd(0x10), 0x223311DDu);
}

TEST_F(BankTest, EightByteAccessIsTwoWords) {
    uint64_t v;
    ASSERT_EQ(bank.read(0x0C, 8, v), DP_OK);
    EXPECT_EQ(v >> 32, 0xAABBCCDDull);
    ASSERT_EQ(bank.write(0x10, 8, 0x0000000099887766ull), DP_OK); // upper word is unmapped: logged, ignored
    EXPECT_EQ(rd(0x10), 0x99887766u);
}

TEST_F(BankTest, HookOrderAndValues) {
    std::vector<std::string> order;
    WriteEvent en{}, reg{};
    bank.on_write("CTRL", "MODE", [&](const WriteEvent &) { order.push_back("MODE"); });
    bank.on_write("CTRL", "EN", [&](const WriteEvent &e) {
        order.push_back("EN");
        en = e;
    });
    bank.on_write("CTRL", [&](const WriteEvent &e) {
        order.push_back("CTRL");
        reg = e;
    });
    wr(0x04, 0x1 | (2u << 4));
    ASSERT_EQ(order, (std::vector<std::string>{"EN", "MODE", "CTRL"}));
    EXPECT_EQ(en.old_value, 0u);
    EXPECT_EQ(en.new_value, 1u);
    EXPECT_EQ(en.written, 1u);
    EXPECT_EQ(en.mask, 1u);
    EXPECT_EQ(reg.old_value, (5u << 4) | (1u << 8));
    EXPECT_EQ(reg.new_value, 0x1u | (2u << 4) | (1u << 8));
    EXPECT_EQ(reg.mask, 0xffffffffu);
    // a byte write to byte 1 only reaches hooks of fields in that byte (LOCK has none), then the register
    order.clear();
    ASSERT_EQ(bank.write(0x05, 1, 0), DP_OK);
    EXPECT_EQ(order, (std::vector<std::string>{"CTRL"}));
    EXPECT_EQ(reg.mask, 0xff00u);
}

TEST_F(BankTest, ReadHooksProvideValues) {
    std::vector<std::string> order;
    bank.on_read("DATA", [&](uint32_t stored) {
        order.push_back("DATA");
        return stored + 1;
    });
    EXPECT_EQ(rd(0x10), 0xAABBCCDEu);
    EXPECT_EQ(bank.reg("DATA").get(), 0xAABBCCDDu) << "read hooks do not change storage";
    bank.on_read("CTRL", [&](uint32_t v) {
        order.push_back("CTRL");
        return v | 0x1;
    });
    bank.on_read("CTRL", "MODE", [&](uint32_t mode) {
        order.push_back("MODE");
        EXPECT_EQ(mode, 5u);
        return 7u;
    });
    EXPECT_EQ(rd(0x04), 0x1u | (7u << 4) | (1u << 8));
    EXPECT_EQ(order, (std::vector<std::string>{"DATA", "CTRL", "MODE"}));
}

// Plain registers are read through a precomputed table; hooks and fields declared after reads must
// still take effect (the table is rebuilt), and read-to-clear registers never take the plain path.
TEST_F(BankTest, HooksAddedAfterReadsTakeEffect) {
    EXPECT_EQ(rd(0x10), 0xAABBCCDDu);
    EXPECT_EQ(rd(0x00), 0x12345678u);
    bank.on_read("DATA", [](uint32_t v) { return v ^ 0xffu; });
    EXPECT_EQ(rd(0x10), 0xAABBCC22u);
    bank.on_read("DATA", nullptr);
    EXPECT_EQ(rd(0x10), 0xAABBCCDDu);
    EXPECT_EQ(rd(0x04), (5u << 4) | (1u << 8));
    bank.on_read("CTRL", "MODE", [](uint32_t) { return 2u; });
    EXPECT_EQ(rd(0x04), (2u << 4) | (1u << 8));
    bank.add_array("ARR", 0x40, 2, 4, 7);
    bank.reset();
    EXPECT_EQ(rd(0x44), 7u);
    bank.on_read_array("ARR", [](unsigned i, uint32_t v) { return v + i; });
    EXPECT_EQ(rd(0x44), 8u);
}

TEST_F(BankTest, FastPathMatchesFullPath) {
    bank.reg("EVENTS").set(0x1ff);
    EXPECT_EQ(rd(0x0C), 0x1ffu);
    EXPECT_EQ(rd(0x0C), 0x100u) << "RC bits cleared by the first read";
    wr(0x04, 0x53); // EN=1, START (write-only)=1, MODE=5
    EXPECT_EQ(rd(0x04), 0x1u | (5u << 4) | (1u << 8)) << "write-only bits read 0";
    uint64_t v = 0;
    EXPECT_EQ(bank.read(0x10, 2, v), DP_OK);
    EXPECT_EQ(v, 0xCCDDu);
    bank.add("LATE", 0x14, 0x55);
    bank.reset();
    EXPECT_EQ(rd(0x14), 0x55u);
    bank.add("LATE2", 0x18, 0x0).field("F", 0, 4, Access::RW);
    bank.reg("LATE2").set(0xff);
    EXPECT_EQ(rd(0x18), 0xfu) << "reserved bits read 0";
}

TEST_F(BankTest, HookMayTouchOtherRegisters) {
    Field busy = bank.field("STATUS", "BUSY");
    bank.on_write("CTRL", "START", [&](const WriteEvent &e) {
        if (e.written)
            busy.set(1);
    });
    wr(0x04, 0x2);
    EXPECT_EQ(rd(0x08) & 1u, 1u);
}

TEST(RegisterBank, DeclarationErrorsNameTheProblem) {
    RegisterBank b("DEV");
    b.add("A", 0x0).field("X", 0, 4, Access::RW);
    auto msg = [](auto &&f) {
        try {
            f();
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(msg([&] { b.add("B", 0x0); }), "DEV: register B at offset 0x0 overlaps register A at offset 0x0");
    EXPECT_EQ(msg([&] { b.add("A", 0x8); }), "DEV: register A is declared twice");
    EXPECT_EQ(msg([&] { b.add("C", 0x6); }), "DEV: register C: offset 0x6 is not a multiple of 4");
    EXPECT_EQ(msg([&] { b.add("D", 0x10).field("Y", 30, 4, Access::RW); }),
              "DEV: register D: field Y bits [30+4] do not fit in 32 bits");
    EXPECT_EQ(msg([&] { b.add("E", 0x14).field("P", 0, 4, Access::RW).field("Q", 3, 2, Access::RW); }),
              "DEV: register E: field Q (bits 3..4) overlaps field P (bits 0..3)");
    EXPECT_EQ(msg([&] { b.reg("NOPE"); }), "DEV: no register named 'NOPE'");
    EXPECT_EQ(msg([&] { b.field("A", "Z"); }), "DEV: register A has no field named 'Z'");
    EXPECT_EQ(msg([&] { b.add_window("W", 0x0, 4, nullptr, nullptr); }),
              "DEV: window W at offset 0x0 overlaps register A at offset 0x0");
}

TEST(RegisterBank, ArraysAndWindows) {
    RegisterBank b("DEV");
    b.add_array("ODR", 0x100, 8, 4, 0, Access::RO);
    std::vector<uint32_t> backing(16);
    for (uint32_t i = 0; i < 16; ++i)
        backing[i] = 1000 + i;
    std::vector<std::pair<uint32_t, uint32_t>> writes;
    b.add_window(
        "BUF", 0x200, 16, [&](uint32_t w) { return backing[w]; },
        [&](uint32_t w, uint32_t v, uint32_t m) { writes.emplace_back(w, v & m); });
    b.add_window("ROWIN", 0x300, 2, [](uint32_t w) { return w + 7; }, nullptr);
    EXPECT_EQ(b.array_size("ODR"), 8u);
    b.reg("ODR", 3).set(33);
    EXPECT_EQ(b.get("ODR[3]"), 33u);
    uint64_t v;
    ASSERT_EQ(b.read(0x10C, 4, v), DP_OK);
    EXPECT_EQ(v, 33u);
    b.on_read_array("ODR", [](unsigned i, uint32_t stored) { return i * 100 + stored; });
    ASSERT_EQ(b.read(0x10C, 4, v), DP_OK);
    EXPECT_EQ(v, 333u);
    ASSERT_EQ(b.read(0x200 + 4 * 5, 4, v), DP_OK);
    EXPECT_EQ(v, 1005u);
    ASSERT_EQ(b.read(0x200 + 4 * 15 + 2, 2, v), DP_OK);
    EXPECT_EQ(v, 0u) << "upper half of 1015";
    ASSERT_EQ(b.write(0x204, 4, 42), DP_OK);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0], std::make_pair(1u, 42u));
    ASSERT_EQ(b.read(0x304, 4, v), DP_OK);
    EXPECT_EQ(v, 8u);
    EXPECT_EQ(b.write(0x300, 4, 1), DP_OK);
    EXPECT_EQ(b.guest_errors(), 1u) << "write to a window without a write hook";
    EXPECT_THROW(b.reg("ODR", 8), Error);
    EXPECT_EQ(b.extent(), 0x308u);
}

TEST(RegisterBank, ArrayWriteHook) {
    RegisterBank b("DEV");
    b.add_array("CH", 0x0, 4, 8);
    std::vector<std::pair<unsigned, uint32_t>> seen;
    b.on_write_array("CH", [&](unsigned i, const WriteEvent &e) { seen.emplace_back(i, e.new_value); });
    ASSERT_EQ(b.write(0x18, 4, 9), DP_OK);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], std::make_pair(3u, 9u));
    uint64_t v;
    EXPECT_EQ(b.read(0x4, 4, v), DP_OK); // gap between strided elements is unmapped
    EXPECT_EQ(b.guest_errors(), 1u);
}

TEST(RegisterBank, LargeSparseMapUsesFallbackLookup) {
    RegisterBank b("DEV");
    b.add("LOW", 0x0, 1);
    b.add("HIGH", 0x00F0'0000, 2); // beyond the direct table (1 MiB)
    uint64_t v;
    ASSERT_EQ(b.read(0x00F0'0000, 4, v), DP_OK);
    EXPECT_EQ(v, 2u);
    ASSERT_EQ(b.read(0x0, 4, v), DP_OK);
    EXPECT_EQ(v, 1u);
    ASSERT_EQ(b.read(0x00E0'0000, 4, v), DP_OK);
    EXPECT_EQ(b.guest_errors(), 1u);
}

TEST_F(BankTest, SaveRestoreRoundTrip) {
    wr(0x04, 0x1 | (6u << 4));
    wr(0x10, 0x01020304);
    bank.field("STATUS", "DONE").set(1);
    StateWriter w;
    bank.save(w);

    RegisterBank other("DEV");
    other.add("ID", 0x00, 0x12345678, Access::RO);
    other.add("CTRL", 0x04, 0x0).field("EN", 0, 1, Access::RW).field("MODE", 4, 3, Access::RW);
    other.add("STATUS", 0x08, 0x0).field("DONE", 1, 1, Access::W1C);
    other.add("NEW", 0x20, 0x77); // not in the blob: keeps its reset value
    // DATA and EVENTS are gone in `other`: dropped
    StateReader r(w.data(), w.size());
    other.load(r);
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(other.get("CTRL") & 0x71u, 0x61u);
    EXPECT_EQ(other.field("STATUS", "DONE").get(), 1u);
    EXPECT_EQ(other.get("NEW"), 0x77u);

    // truncated blob: error, registers untouched
    RegisterBank third("DEV");
    third.add("CTRL", 0x04, 0x5);
    for (size_t cut : {size_t(0), size_t(3), size_t(12), w.size() - 1}) {
        StateReader tr(w.data(), cut);
        EXPECT_THROW(third.load(tr), Error) << cut;
        EXPECT_EQ(third.get("CTRL"), 0x5u);
    }
    const uint8_t junk[16] = {1, 2, 3, 4};
    StateReader jr(junk, sizeof junk);
    try {
        third.load(jr);
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(), "DEV: state blob does not start with a register-bank record");
    }
}

TEST(RegisterBank, MoveKeepsHandlesAndAssignmentKeepsLogSink) {
    RegisterBank a("A");
    a.add("R", 0, 3);
    Reg r = a.reg("R");
    RegisterBank b(std::move(a));
    EXPECT_EQ(r.get(), 3u);
    int logged = 0;
    RegisterBank host_side("H");
    host_side.set_log([&](dp_log_level, const char *) { ++logged; });
    host_side = std::move(b);
    uint64_t v;
    host_side.read(0x40, 4, v);
    EXPECT_EQ(logged, 1);
    EXPECT_STREQ(host_side.name(), "A");
}
