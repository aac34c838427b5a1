// CSV parser: values, tolerated formatting, errors naming file, line and column.
#include <gtest/gtest.h>

#include "cimsim/config.hpp"
#include "cimsim/csv.hpp"

using namespace cimsim;

namespace {
std::string error_of(const std::string &text) {
    try {
        parse_csv(text, "f.csv");
    } catch (const Error &e) {
        return e.what();
    }
    return "(no error)";
}
}  // namespace

TEST(Csv, ParsesNumbersAndToleratesFormatting) {
    auto m = parse_csv("1, 2,3,\r\n\n-4,+5, 6e0  \n", "f.csv");
    EXPECT_EQ(m.rows, 2u);
    EXPECT_EQ(m.cols, 3u);
    EXPECT_EQ(m.values, (std::vector<double>{1, 2, 3, -4, 5, 6}));
    EXPECT_FALSE(m.all_integers);
    EXPECT_TRUE(parse_csv("1,2\n3,4", "f.csv").all_integers);
    EXPECT_DOUBLE_EQ(parse_csv("0.0078125", "f.csv").values[0], 0.0078125);
}

TEST(Csv, ErrorsNameFileLineColumn) {
    EXPECT_EQ(error_of("1,2\n3,x\n"), "cimsim: f.csv:2:2: 'x' is not a finite number");
    EXPECT_EQ(error_of("1,2\n3,,4\n"), "cimsim: f.csv:2:2: empty field");
    EXPECT_EQ(error_of("1,2\n3\n"), "cimsim: f.csv:2: has 1 columns, expected 2 like the first row");
    EXPECT_EQ(error_of("\n\n"), "cimsim: f.csv: no data rows");
    EXPECT_EQ(error_of("1,nan\n"), "cimsim: f.csv:1:2: 'nan' is not a finite number");
    EXPECT_EQ(error_of("1,1e999\n"), "cimsim: f.csv:1:2: '1e999' is not a finite number");
    EXPECT_EQ(error_of("1,2\n\n4,5,6\n"), "cimsim: f.csv:3: has 3 columns, expected 2 like the first row");
    // found while writing cimsim/fuzz/fuzz_csv.cpp: a sign after '+' was accepted ("+-5" read as -5)
    EXPECT_EQ(error_of("1,+-5\n"), "cimsim: f.csv:1:2: '+-5' is not a finite number");
    EXPECT_EQ(error_of("1,++5\n"), "cimsim: f.csv:1:2: '++5' is not a finite number");
    EXPECT_EQ(error_of("1,+\n"), "cimsim: f.csv:1:2: '+' is not a finite number");
}

TEST(Csv, MissingFile) {
    try {
        read_csv("/nonexistent/dir/w.csv");
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(), "cimsim: cannot open '/nonexistent/dir/w.csv'");
    }
}
