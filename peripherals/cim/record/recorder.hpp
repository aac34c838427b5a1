// The recorder of an [[op]] with `record = "FILE"`: every request and response of that operation is
// appended to FILE (record_format.hpp), one flushed line per run. Opening truncates FILE: a start of QEMU
// (or a hot reload) begins a new recording.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "dynperiph/cim_backend.h"

namespace dynperiph::cim {

class Recorder {
public:
    // Throws std::runtime_error (one line naming the file) when FILE cannot be created.
    Recorder(const std::string &path, unsigned op, const std::string &name, const std::string &backend);
    ~Recorder();
    Recorder(const Recorder &) = delete;
    Recorder &operator=(const Recorder &) = delete;

    // Appends one run; false (with `err` set) when the line could not be written.
    bool append(const cim_request &req, const cim_result &res, dp_status status, std::string &err) noexcept;
    const std::string &path() const { return path_; }

private:
    std::string path_;
    std::FILE *f_ = nullptr;
};

} // namespace dynperiph::cim
