// Operation table of the cim peripheral: reads the TOML config that maps each OP index to a backend
// shared object + its parameters, dlopens each backend once and opens one handle per OP.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dynperiph/cim_backend.h"

namespace dynperiph::cim {

// A config or load error; what() is one line naming the file (and line) and what was wrong.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class BackendLib; // one dlopen'ed backend file, shared by every operation that uses it
class Recorder;   // record/recorder.hpp: an [[op]]'s `record = "FILE"`

// One configured operation: a backend handle opened with this OP's parameters. Non-copyable.
class Operation {
public:
    Operation(unsigned index, std::string name, std::shared_ptr<BackendLib> lib, cim_op *handle,
              std::unique_ptr<Recorder> recorder = {});
    ~Operation();
    Operation(const Operation &) = delete;
    Operation &operator=(const Operation &) = delete;

    unsigned index() const { return index_; }
    const std::string &name() const { return name_; }
    const std::string &backend_path() const;
    const cim_backend_desc &desc() const;
    bool wants_csv() const { return (desc().flags & CIM_BACKEND_WANTS_CSV) != 0; }

    // Runs the backend (any thread; never concurrently for one operation) and, with `record`, appends the
    // request and response to the recording (a failed write fails the run). Never throws.
    dp_status run(const cim_request &req, cim_result &res) const;

private:
    unsigned index_;
    std::string name_;
    std::shared_ptr<BackendLib> lib_;
    cim_op *handle_;
    std::unique_ptr<Recorder> recorder_;
};

class OpTable {
public:
    static constexpr unsigned kMaxOps = 32; // CTRL.OP is 5 bits

    // Loads `config_path`. A relative backend path is looked up in the config file's directory, then
    // in `plugin_dir`. Throws ConfigError.
    static std::unique_ptr<OpTable> load(const std::string &config_path, const std::string &plugin_dir);

    const Operation *find(unsigned index) const {
        return index < kMaxOps ? ops_[index].get() : nullptr;
    }
    uint32_t opmap() const;
    const std::string &config_path() const { return config_path_; }
    size_t backend_count() const { return backend_count_; }

private:
    std::string config_path_;
    size_t backend_count_ = 0;
    std::unique_ptr<Operation> ops_[kMaxOps];
};

// The device's args= string: `config=PATH` (required). Throws ConfigError on an unknown or missing key.
struct PluginArgs {
    std::string config;
};
PluginArgs parse_plugin_args(const std::string &args);

// Directory of the shared object (or executable) that contains this code.
std::string this_module_dir();

} // namespace dynperiph::cim
