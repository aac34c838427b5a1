// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "recorder.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "record_format.hpp"

namespace dynperiph::cim {

Recorder::Recorder(const std::string &path, unsigned op, const std::string &name, const std::string &backend)
    : path_(path) {
    f_ = std::fopen(path.c_str(), "w");
    if (!f_)
        throw std::runtime_error("record " + path + ": cannot create: " + std::strerror(errno));
    const std::string h = record::header_line(op, name, backend) + "\n";
    if (std::fputs(h.c_str(), f_) < 0 || std::fflush(f_) != 0) {
        const std::string e = std::strerror(errno);
        std::fclose(f_);
        f_ = nullptr;
        throw std::runtime_error("record " + path + ": cannot write: " + e);
    }
}

Recorder::~Recorder() {
    if (f_)
        std::fclose(f_);
}

bool Recorder::append(const cim_request &req, const cim_result &res, dp_status status, std::string &err) noexcept {
    try {
        const std::string line = record::run_line(req, res, status) + "\n";
        if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0) {
            err = "record " + path_ + ": write failed: " + std::strerror(errno);
            return false;
        }
        return true;
    } catch (const std::exception &e) {
        err = "record " + path_ + ": " + e.what();
    } catch (...) {
        err = "record " + path_ + ": unknown error";
    }
    return false;
}

} // namespace dynperiph::cim
