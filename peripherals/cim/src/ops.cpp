// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include "ops.hpp"
#include "dp_memload.h"

#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "recorder.hpp"

namespace fs = std::filesystem;

namespace dynperiph::cim {

class BackendLib {
public:
    BackendLib(std::string path, std::unique_ptr<dp_memload> so, const cim_backend_desc *desc)
        : path_(std::move(path)), so_(std::move(so)), desc_(desc) {}
    ~BackendLib() { dp_memload_close(so_.get()); }
    BackendLib(const BackendLib &) = delete;
    BackendLib &operator=(const BackendLib &) = delete;

    const std::string &path() const { return path_; }
    const cim_backend_desc &desc() const { return *desc_; }

private:
    std::string path_;
    std::unique_ptr<dp_memload> so_;
    const cim_backend_desc *desc_;
};

Operation::Operation(unsigned index, std::string name, std::shared_ptr<BackendLib> lib, cim_op *handle,
                     std::unique_ptr<Recorder> recorder)
    : index_(index), name_(std::move(name)), lib_(std::move(lib)), handle_(handle), recorder_(std::move(recorder)) {}

Operation::~Operation() {
    if (handle_ && lib_->desc().close)
        lib_->desc().close(handle_);
}

const std::string &Operation::backend_path() const { return lib_->path(); }
const cim_backend_desc &Operation::desc() const { return lib_->desc(); }

dp_status Operation::run(const cim_request &req, cim_result &res) const {
    const dp_status st = lib_->desc().run(handle_, &req, &res);
    if (recorder_) {
        std::string err;
        if (!recorder_->append(req, res, st, err)) {
            std::snprintf(res.error, sizeof res.error, "%s", err.c_str());
            res.out_count = 0;
            return DP_ERR_INTERNAL;
        }
    }
    return st;
}

uint32_t OpTable::opmap() const {
    uint32_t map = 0;
    for (unsigned i = 0; i < kMaxOps; ++i)
        if (ops_[i])
            map |= 1u << i;
    return map;
}

namespace {

std::string where(const std::string &file, const toml::source_region &src) {
    std::ostringstream s;
    s << file;
    if (src.begin.line)
        s << ':' << src.begin.line;
    return s.str();
}

[[noreturn]] void fail(const std::string &at, const std::string &msg) {
    throw ConfigError("cim config " + at + ": " + msg);
}

// dlopen of a sealed in-memory copy (dp_memload.h): the dynamic linker returns an already loaded object for
// a known file, so without a copy a backend rebuilt while the previous instance still holds it (hot reload of
// cim.so) would not be loaded anew; the copy is never a file, so nothing is left next to the backend or
// anywhere else, even after a SIGKILL. $ORIGIN dependencies and dladdr (module_dir) still see the original.
std::unique_ptr<dp_memload> dlopen_fresh(const std::string &path, std::string &err) {
    auto m = std::make_unique<dp_memload>();
    char buf[1024] = "";
    if (dp_memload_prepare(m.get(), path.c_str(), buf, sizeof(buf)) < 0 ||
        dp_memload_open(m.get(), RTLD_NOW | RTLD_LOCAL, buf, sizeof(buf)) < 0) {
        err = path + ": " + buf;
        dp_memload_close(m.get());
        return nullptr;
    }
    return m;
}

std::shared_ptr<BackendLib> open_backend(const std::string &path, const std::string &at) {
    std::string err;
    std::unique_ptr<dp_memload> so = dlopen_fresh(path, err);
    if (!so)
        fail(at, "cannot load backend " + path + ": " + err);
    void *h = so->handle;
    auto entry = reinterpret_cast<cim_backend_entry_fn>(dlsym(h, CIM_BACKEND_ENTRY_SYMBOL));
    if (!entry) {
        dp_memload_close(so.get());
        fail(at, "backend " + path + " does not export " CIM_BACKEND_ENTRY_SYMBOL);
    }
    const dp_version host{CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
    const cim_backend_desc *d = entry(host);
    const std::string host_v = std::to_string(host.major) + "." + std::to_string(host.minor);
    if (!d) {
        dp_memload_close(so.get());
        fail(at, "backend " + path + " refused this host's cim backend ABI " + host_v);
    }
    if (d->abi.major != CIM_BACKEND_ABI_MAJOR || d->abi.minor > CIM_BACKEND_ABI_MINOR) {
        const std::string v = std::to_string(d->abi.major) + "." + std::to_string(d->abi.minor);
        dp_memload_close(so.get());
        fail(at, "backend " + path + " was built for cim backend ABI " + v + ", this host supports " +
                     host_v);
    }
    if (!d->open || !d->run || !d->close) {
        dp_memload_close(so.get());
        fail(at, "backend " + path + " has a NULL open/run/close callback");
    }
    return std::make_shared<BackendLib>(path, std::move(so), d);
}

std::string resolve_backend(const std::string &name, const fs::path &config_dir, const std::string &plugin_dir,
                            const std::string &at) {
    fs::path p(name);
    std::error_code ec;
    if (p.is_absolute()) {
        if (!fs::is_regular_file(p, ec))
            fail(at, "backend " + name + " not found");
        return p.lexically_normal().string();
    }
    std::vector<fs::path> tried{config_dir / p};
    if (!plugin_dir.empty())
        tried.push_back(fs::path(plugin_dir) / p);
    for (const auto &c : tried)
        if (fs::is_regular_file(c, ec))
            return fs::weakly_canonical(c, ec).string();
    std::string dirs;
    for (const auto &c : tried)
        dirs += (dirs.empty() ? "" : " and ") + c.parent_path().lexically_normal().string();
    fail(at, "backend " + name + " not found (looked in " + dirs + ")");
}

} // namespace

std::unique_ptr<OpTable> OpTable::load(const std::string &config_path, const std::string &plugin_dir) {
    std::error_code ec;
    if (!fs::is_regular_file(config_path, ec))
        throw ConfigError("cim config " + config_path + ": no such file");
    toml::table root;
    try {
        root = toml::parse_file(config_path);
    } catch (const toml::parse_error &e) {
        fail(where(config_path, e.source()) + ":" + std::to_string(e.source().begin.column),
             std::string(e.description()));
    }
    const fs::path config_dir = fs::absolute(fs::path(config_path), ec).parent_path();

    auto table = std::make_unique<OpTable>();
    table->config_path_ = config_path;

    for (auto &&[key, node] : root) {
        if (key != "op")
            fail(where(config_path, node.source()), "unknown key '" + std::string(key.str()) +
                                                        "' (expected [[op]] tables)");
    }
    const toml::node *ops_node = root.get("op");
    if (!ops_node)
        fail(config_path, "no operations ([[op]] tables) defined");
    const toml::array *ops = ops_node->as_array();
    if (!ops || !ops->is_array_of_tables())
        fail(where(config_path, ops_node->source()), "'op' must be an array of tables ([[op]])");

    std::map<std::string, std::shared_ptr<BackendLib>> libs;
    unsigned op_line[kMaxOps] = {};
    for (const toml::node &n : *ops) {
        const toml::table &op = *n.as_table();
        const std::string at = where(config_path, op.source());
        for (auto &&[key, v] : op) {
            if (key != "index" && key != "backend" && key != "params" && key != "name" && key != "record")
                fail(where(config_path, v.source()), "unknown key '" + std::string(key.str()) +
                                                         "' in [[op]] (expected index, name, backend, params, record)");
        }
        const toml::node *idx_node = op.get("index");
        if (!idx_node)
            fail(at, "[[op]] without 'index'");
        auto idx = idx_node->value<int64_t>();
        if (!idx || !idx_node->is_integer() || *idx < 0 || *idx >= static_cast<int64_t>(kMaxOps))
            fail(where(config_path, idx_node->source()), "'index' must be an integer 0.." + std::to_string(kMaxOps - 1));
        const unsigned index = static_cast<unsigned>(*idx);
        if (table->ops_[index])
            fail(at, "op index " + std::to_string(index) + " is defined twice (first at line " +
                         std::to_string(op_line[index]) + ")");
        const toml::node *be_node = op.get("backend");
        if (!be_node || !be_node->is_string() || be_node->as_string()->get().empty())
            fail(at, "op " + std::to_string(index) + ": 'backend' (a .so file name) is required");
        const toml::node *name_node = op.get("name");
        if (name_node && !name_node->is_string())
            fail(where(config_path, name_node->source()), "op " + std::to_string(index) + ": 'name' must be a string");
        const toml::node *params_node = op.get("params");
        if (params_node && !params_node->is_table())
            fail(where(config_path, params_node->source()), "op " + std::to_string(index) + ": 'params' must be a table");

        const std::string path = resolve_backend(be_node->as_string()->get(), config_dir, plugin_dir, at);
        auto &lib = libs[path];
        if (!lib)
            lib = open_backend(path, at);

        std::string json = "{}";
        if (params_node) {
            std::ostringstream s;
            s << toml::json_formatter{*params_node->as_table()};
            json = s.str();
        }
        char err[256] = "";
        cim_op *handle = lib->desc().open(json.c_str(), config_dir.c_str(), err, sizeof err);
        if (!handle) {
            err[sizeof err - 1] = '\0';
            fail(at, "op " + std::to_string(index) + " (" + lib->desc().name + "): " +
                         (err[0] ? err : "the backend rejected its params"));
        }
        std::string name = name_node ? name_node->as_string()->get() : fs::path(path).stem().string();
        std::unique_ptr<Recorder> recorder;
        if (const toml::node *rec = op.get("record")) {
            if (!rec->is_string() || rec->as_string()->get().empty()) {
                lib->desc().close(handle);
                fail(where(config_path, rec->source()), "op " + std::to_string(index) + ": 'record' must be a file name");
            }
            fs::path rp(rec->as_string()->get());
            if (rp.is_relative())
                rp = config_dir / rp;
            try {
                recorder = std::make_unique<Recorder>(rp.string(), index, name, path);
            } catch (const std::exception &e) {
                lib->desc().close(handle);
                fail(where(config_path, rec->source()), "op " + std::to_string(index) + ": " + e.what());
            }
        }
        table->ops_[index] = std::make_unique<Operation>(index, std::move(name), lib, handle, std::move(recorder));
        op_line[index] = op.source().begin.line;
    }
    table->backend_count_ = libs.size();
    return table;
}

PluginArgs parse_plugin_args(const std::string &args) {
    PluginArgs out;
    std::stringstream ss(args);
    std::string item;
    while (std::getline(ss, item, ';')) {
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        const std::string key = item.substr(0, eq);
        if (eq == std::string::npos)
            throw ConfigError("cim args: '" + item + "' is not key=value (expected config=PATH)");
        const std::string val = item.substr(eq + 1);
        if (key == "config")
            out.config = val;
        else
            throw ConfigError("cim args: unknown key '" + key + "' (expected config=PATH)");
    }
    if (out.config.empty())
        throw ConfigError("cim args: config=PATH is required (a TOML file mapping OP indices to backends)");
    return out;
}

std::string this_module_dir() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&this_module_dir), &info) && info.dli_fname) {
        std::error_code ec;
        fs::path p = fs::weakly_canonical(fs::path(info.dli_fname), ec);
        return p.parent_path().string();
    }
    return {};
}

} // namespace dynperiph::cim
