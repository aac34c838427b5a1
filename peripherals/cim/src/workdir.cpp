// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "workdir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace dynperiph::cim {

bool WorkDir::create(std::string &err) {
    remove();
    const char *tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/dynperiph-cim-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
        err = "cannot create a temporary directory " + tmpl + ": " + std::strerror(errno);
        return false;
    }
    path_ = buf.data();
    return true;
}

void WorkDir::remove() {
    if (path_.empty())
        return;
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    // A simulator may have left read-only subdirectories: make them writable first.
    for (auto it = std::filesystem::recursive_directory_iterator(
             path_, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec))
            std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                         std::filesystem::perm_options::add, ec);
    }
    std::filesystem::remove_all(path_, ec);
    path_.clear();
}

} // namespace dynperiph::cim
