// A private, empty temporary directory for one backend run, removed with everything in it.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <string>

namespace dynperiph::cim {

class WorkDir {
public:
    WorkDir() = default;
    ~WorkDir() { remove(); }
    WorkDir(const WorkDir &) = delete;
    WorkDir &operator=(const WorkDir &) = delete;

    // mkdtemp under $TMPDIR (or /tmp), mode 0700. Returns false and sets err on failure.
    bool create(std::string &err);
    // Removes the directory tree (also done by the destructor). Safe to call twice.
    void remove();
    const std::string &path() const { return path_; }
    std::string file(const char *name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

} // namespace dynperiph::cim
