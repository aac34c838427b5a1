// dp-qtest-peek ADDR[,ADDR...] QEMU-ARG...: starts QEMU (mps2-an385, qtest) with the given arguments
// and prints the 32-bit value at each address, one "0x%08x" per line. Exit 1 with QEMU's error if it
// does not start.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "qtest_client.hpp"

#include <cstdio>
#include <sstream>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: dp-qtest-peek ADDR[,ADDR...] [QEMU-ARG...]\n");
        return 2;
    }
    try {
        dp::qtest::Qemu q({argv + 2, argv + argc});
        std::istringstream addrs(argv[1]);
        for (std::string a; std::getline(addrs, a, ',');)
            std::printf("0x%08x\n", q.readl(std::stoull(a, nullptr, 0)));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dp-qtest-peek: %s\n", e.what());
        return 1;
    }
    return 0;
}
