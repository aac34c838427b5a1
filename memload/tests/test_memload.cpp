// dp_memload: loads run from a sealed in-memory copy; $ORIGIN dependencies, dladdr, fresh statics on
// reload, in-place overwrites and error messages; nothing is written anywhere.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "dp_memload.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const fs::path kObjects = DPML_OBJECTS;

struct Scratch {
    fs::path dir;
    Scratch() {
        std::string t = (fs::temp_directory_path() / "dpml-test-XXXXXX").string();
        dir = mkdtemp(t.data());
    }
    ~Scratch() { fs::remove_all(dir); }
    fs::path put(const std::string &object, const std::string &as = "") const {
        fs::path to = dir / (as.empty() ? object : as);
        fs::copy_file(kObjects / object, to, fs::copy_options::overwrite_existing);
        return to;
    }
};

std::set<std::string> listing(const fs::path &d, const std::string &containing = "") {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(d, ec)) {
        const std::string n = e.path().filename().string();
        if (containing.empty() || n.find(containing) != std::string::npos)
            names.insert(n);
    }
    return names;
}

template <typename F> F sym(const dp_memload &m, const char *name) {
    void *p = dlsym(m.handle, name);
    EXPECT_NE(p, nullptr) << name;
    return reinterpret_cast<F>(p);
}

struct Loaded {
    dp_memload m = DP_MEMLOAD_INIT;
    std::string err;
    bool ok = false;
    explicit Loaded(const fs::path &p) {
        char buf[1024] = "";
        ok = dp_memload_prepare(&m, p.c_str(), buf, sizeof(buf)) == 0 &&
             dp_memload_open(&m, RTLD_NOW | RTLD_LOCAL, buf, sizeof(buf)) == 0;
        err = buf;
    }
    ~Loaded() { dp_memload_close(&m); }
    int call(const char *name) const { return sym<int (*)()>(m, name)(); }
    std::string str(const char *name) const { return sym<const char *(*)()>(m, name)(); }
};

} // namespace

TEST(Memload, OriginDependencyComesFromTheOriginalDirectory) {
    Scratch s;
    s.put("dpml_dep.so");
    const fs::path user = s.put("dpml_user_v1.so");
    {   // Control: the same bytes opened as /proc/self/fd/N without preloading cannot find the dependency.
        int fd = open(user.c_str(), O_RDONLY);
        ASSERT_GE(fd, 0);
        const std::string fdp = "/proc/self/fd/" + std::to_string(fd);
        void *h = dlopen(fdp.c_str(), RTLD_NOW | RTLD_LOCAL);
        const char *e = dlerror();
        EXPECT_EQ(h, nullptr);
        EXPECT_NE(std::string(e ? e : "").find("dpml_dep.so"), std::string::npos) << (e ? e : "");
        close(fd);
    }
    Loaded l(user);
    ASSERT_TRUE(l.ok) << l.err;
    EXPECT_EQ(l.call("dpml_user_value"), 43);
    EXPECT_EQ(fs::path(l.str("dpml_dep_file")), s.dir / "dpml_dep.so");
    // dladdr names the original file (DIR/./BASE), so sibling files are found next to it.
    const fs::path self = l.str("dpml_user_file");
    EXPECT_EQ(self.lexically_normal(), user);
    EXPECT_EQ(fs::weakly_canonical(self).parent_path(), fs::weakly_canonical(s.dir));
}

TEST(Memload, TwoLoadsOfOnePathAreTwoObjects) {
    Scratch s;
    s.put("dpml_dep.so");
    const fs::path user = s.put("dpml_user_v1.so");
    Loaded a(user);
    ASSERT_TRUE(a.ok) << a.err;
    EXPECT_EQ(a.call("dpml_user_bump"), 1);
    EXPECT_EQ(a.call("dpml_user_bump"), 2);
    Loaded b(user);
    ASSERT_TRUE(b.ok) << b.err;
    EXPECT_EQ(b.call("dpml_user_bump"), 1) << "the second load must get fresh statics";
    EXPECT_NE(a.m.handle, b.m.handle);
}

TEST(Memload, OverwritingTheFileInPlaceDoesNotChangeRunningCode) {
    Scratch s;
    s.put("dpml_dep.so");
    const fs::path plugin = s.put("dpml_user_v1.so", "plugin.so");
    Loaded v1(plugin);
    ASSERT_TRUE(v1.ok) << v1.err;
    EXPECT_EQ(v1.call("dpml_user_version"), 1);
    {   // in place: same inode, truncated and rewritten (what `cp new old` does)
        std::ifstream in(kObjects / "dpml_user_v2.so", std::ios::binary);
        std::ofstream out(plugin, std::ios::binary | std::ios::trunc);
        out << in.rdbuf();
    }
    EXPECT_EQ(v1.call("dpml_user_version"), 1);
    EXPECT_EQ(v1.call("dpml_user_value"), 43);
    Loaded v2(plugin);
    ASSERT_TRUE(v2.ok) << v2.err;
    EXPECT_EQ(v2.call("dpml_user_version"), 2);
}

TEST(Memload, NothingIsWrittenAnywhere) {
    Scratch s;
    s.put("dpml_dep.so");
    const fs::path user = s.put("dpml_user_v1.so");
    const auto before = listing(s.dir);
    const auto tmp_before = listing(fs::temp_directory_path(), "dpml_user");
    const auto shm_before = listing("/dev/shm", "dpml_user");
    {
        Loaded l(user);
        ASSERT_TRUE(l.ok) << l.err;
        EXPECT_EQ(listing(s.dir), before);
        EXPECT_EQ(listing(fs::temp_directory_path(), "dpml_user"), tmp_before);
        EXPECT_EQ(listing("/dev/shm", "dpml_user"), shm_before);
        std::ifstream maps("/proc/self/maps");
        std::stringstream ss;
        ss << maps.rdbuf();
        EXPECT_NE(ss.str().find("/memfd:dynperiph:dpml_user_v1.so"), std::string::npos)
            << "the code must be mapped from the in-memory copy";
    }
    EXPECT_EQ(listing(s.dir), before);
}

TEST(Memload, ErrorsNameTheOriginalFileNeverTheCopy) {
    Scratch s;
    const fs::path user = s.put("dpml_user_v1.so");   // its dependency is missing
    Loaded l(user);
    EXPECT_FALSE(l.ok);
    EXPECT_NE(l.err.find("dpml_dep.so: cannot open shared object file"), std::string::npos) << l.err;
    EXPECT_EQ(l.err.find("/proc/self/fd"), std::string::npos) << l.err;

    std::ofstream(s.dir / "junk.so") << std::string(200, 'x');  // long enough to be read as a header
    Loaded j(s.dir / "junk.so");
    EXPECT_FALSE(j.ok);
    EXPECT_EQ(j.err.find("/proc/self/fd"), std::string::npos) << j.err;
    EXPECT_NE(j.err.find("ELF"), std::string::npos) << j.err;

    Loaded none(s.dir / "missing.so");
    EXPECT_FALSE(none.ok);
    EXPECT_NE(none.err.find("No such file"), std::string::npos) << none.err;
    EXPECT_EQ(listing(s.dir), (std::set<std::string>{"dpml_user_v1.so", "junk.so"}));
}

TEST(Memload, AnObjectThatCannotBeUnloadedNeverShadowsALaterLoad) {
    Scratch s;
    s.put("dpml_dep.so");
    const fs::path user = s.put("dpml_user_nodelete.so");
    std::string first_name;
    {
        Loaded a(user);
        ASSERT_TRUE(a.ok) << a.err;
        EXPECT_EQ(a.call("dpml_user_bump"), 1);
        first_name = a.m.fd_path;
    }   // dlclose leaves it loaded (-z nodelete): its fd number must stay taken
    Loaded b(user);
    ASSERT_TRUE(b.ok) << b.err;
    EXPECT_NE(std::string(b.m.fd_path), first_name);
    EXPECT_EQ(b.call("dpml_user_bump"), 1) << "got the old, undeletable object instead of the new copy";
}
