// State stream and args parser.
#include <gtest/gtest.h>

#include "dynperiph/sdk/args.hpp"
#include "dynperiph/sdk/state.hpp"

using namespace dynperiph;

TEST(State, RoundTripAndTruncation) {
    StateWriter w;
    w.u8(1);
    w.u16(0x0203);
    w.u32(0x04050607);
    w.u64(0x08090a0b0c0d0e0full);
    w.str("hello");
    w.bytes("xyz", 3);
    StateReader r(w.data(), w.size());
    EXPECT_EQ(r.u8(), 1u);
    EXPECT_EQ(r.u16(), 0x0203u);
    EXPECT_EQ(r.u32(), 0x04050607u);
    EXPECT_EQ(r.u64(), 0x08090a0b0c0d0e0full);
    char s[3];
    EXPECT_EQ(r.str(s, sizeof s), 5u);
    EXPECT_STREQ(s, "he");
    char b[3];
    r.bytes(b, 3);
    EXPECT_TRUE(r.at_end());
    try {
        r.u32();
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(), "state blob truncated: need 4 more bytes at offset 25 of 25");
    }
}

TEST(Args, TypedGettersAndErrors) {
    Args a("clock_hz=0x10,name=abc,on=yes");
    EXPECT_EQ(a.u64("clock_hz", 1), 16u);
    EXPECT_STREQ(a.str("name", "d"), "abc");
    EXPECT_TRUE(a.flag("on", false));
    EXPECT_EQ(a.u64("absent", 7), 7u);
    EXPECT_NO_THROW(a.finish());
    auto err = [](auto f) {
        try {
            f();
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(err([] { Args("novalue"); }), "args: 'novalue' is not of the form key=value");
    EXPECT_EQ(err([] { Args("a=1,a=2"); }), "args: key 'a' is given twice");
    EXPECT_EQ(err([] { Args("n=12x").u64("n", 0); }), "args: n='12x' is not a non-negative integer");
    EXPECT_EQ(err([] { Args("n=-1").u64("n", 0); }), "args: n='-1' is not a non-negative integer");
    EXPECT_EQ(err([] { Args("n=5").u64("n", 0, 1, 4); }), "args: n=5 is out of range [1, 4]");
    EXPECT_EQ(err([] {
                  Args x("a=1,typo=2");
                  x.u64("a", 0);
                  x.u64("b", 0);
                  x.finish();
              }),
              "args: unknown key 'typo' (known: a, b)");
    EXPECT_EQ(err([] { Args("").finish(); }), "no error");
}
