// Test helper: the one-line message of the cimsim::Error a call throws, or "(no error)".
#pragma once

#include <functional>
#include <string>

#include "cimsim/config.hpp"

inline std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const cimsim::Error &e) {
        return e.what();
    }
    return "(no error)";
}
